//go:build unix && !linux

package localredis

import (
	"os/exec"
	"syscall"
)

func startCmd(cmd *exec.Cmd) error {
	// Own process group: a terminal's Ctrl-C reaches cachectl only, which
	// then stops the server in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Start()
}
