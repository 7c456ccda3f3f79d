//go:build unix

package childproc

import "syscall"

// signal sends sig to the process group the child leads.
func (p *Process) signal(sig syscall.Signal) { _ = syscall.Kill(-p.Pid(), sig) }

// terminate asks the process group to stop, and continues it, so that a
// stopped child acts on the request.
func (p *Process) terminate() {
	p.Signal(syscall.SIGTERM)
	p.Signal(syscall.SIGCONT)
}

// kill ends the process group.
func (p *Process) kill() { p.signal(syscall.SIGKILL) }
