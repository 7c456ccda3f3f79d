// Package childproc runs servers (redis-server for demo and the tests,
// gunicorn for the tests) as children in process groups of their own, so
// that stopping one stops its forks too, and reads their log files for
// failure messages.
//
// Process groups and signals need a Unix-like OS; elsewhere a child is
// started plainly and stopping it kills it.
package childproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is a started child, waited for in the background.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait has returned
	err  error         // cmd.Wait's result, valid after done is closed
}

// Start starts cmd in a process group of its own that dies with this
// process (StartChild).
func Start(cmd *exec.Cmd) (*Process, error) {
	if err := StartChild(cmd); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id, which is also its process group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the child has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed once the child has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the child exited; only meaningful once Exited.
func (p *Process) Err() error { return p.err }

// Signal sends sig to the whole process group, unless the child has been
// reaped (its pid could have been reused).
func (p *Process) Signal(sig syscall.Signal) {
	if !p.Exited() {
		p.signal(sig)
	}
}

// Stop sends SIGTERM to the process group (and SIGCONT, so that a stopped
// child acts on it), waits for the child, and sends SIGKILL after timeout.
func (p *Process) Stop(timeout time.Duration) {
	p.terminate()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
		<-p.done
	}
}

// Tail returns the last n lines of each of the named files in dir that is
// not empty, each under a header, for failure messages.
func Tail(dir string, n int, names ...string) string {
	var b strings.Builder
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(strings.TrimSpace(string(data))) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- tail of %s ---\n%s\n", filepath.Join(dir, name), strings.Join(lines, "\n"))
	}
	return b.String()
}

// ReadFrom returns what the file at path holds past offset off.
func ReadFrom(path string, off int64) string {
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) < off {
		return ""
	}
	return string(data[off:])
}

// Size is the file's size, 0 if it does not exist.
func Size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
