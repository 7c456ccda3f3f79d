//go:build unix && !linux

package childproc

import (
	"os/exec"
	"syscall"
)

// StartChild starts cmd in its own process group: a terminal's Ctrl-C
// reaches the parent only, which then stops the child in order.
func StartChild(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Start()
}
