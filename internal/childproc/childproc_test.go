//go:build unix

package childproc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/testwait"
)

// Stop ends the child and the processes it forked: they share its group.
func TestStopEndsTheWholeGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "fork.pid")
	p, err := Start(exec.Command("/bin/sh", "-c", `sleep 300 & echo $! > "$0"; wait`, pidFile))
	if err != nil {
		t.Fatal(err)
	}
	var fork int
	testwait.Until(t, 10*time.Second, "the shell to fork", func() error {
		if p.Exited() {
			t.Fatalf("the shell exited early: %v", p.Err())
		}
		b, err := os.ReadFile(pidFile)
		if err != nil || !strings.HasSuffix(string(b), "\n") {
			return errors.New("no pid file yet")
		}
		fork, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err
	})
	p.Stop(5 * time.Second)
	if !p.Exited() {
		t.Fatal("Stop returned before the child exited")
	}
	// The fork was signalled with its group; the kernel reaps it soon after.
	testwait.Eventually(t, 5*time.Second, "the fork to be gone", func() bool { return syscall.Kill(fork, 0) != nil })
}
