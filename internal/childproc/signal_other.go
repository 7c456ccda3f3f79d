//go:build !unix

package childproc

import (
	"os/exec"
	"syscall"
)

// StartChild starts cmd; elsewhere there are no process groups to set up.
func StartChild(cmd *exec.Cmd) error { return cmd.Start() }

// signal can only kill where there are no signals: a request to stop kills
// the child, which keeps no data; other signals are ignored.
func (p *Process) signal(sig syscall.Signal) {
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		p.kill()
	}
}

func (p *Process) terminate() { p.kill() }
func (p *Process) kill()      { _ = p.cmd.Process.Kill() }
