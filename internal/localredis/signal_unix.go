//go:build unix

package localredis

import (
	"os/exec"
	"syscall"
)

// terminate asks the server's process group to stop; kill forces it.
func terminate(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
func kill(cmd *exec.Cmd)      { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
