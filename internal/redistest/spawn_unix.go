//go:build unix && !linux

package redistest

import (
	"os/exec"
	"syscall"
)

func startCmd(cmd *exec.Cmd) error {
	// Own process group: the terminal's SIGINT goes to the foreground
	// group only, and Stop can signal the server with its fork children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Start()
}
