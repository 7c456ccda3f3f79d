//go:build linux

package childproc

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// On Linux the child also gets Pdeathsig, so redis-server goes with cachectl
// even when cachectl is killed without a chance to clean up. Pdeathsig fires
// when the forking thread exits, so every fork happens on one locked thread
// that lives as long as the process.
var spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

// StartChild starts cmd in its own process group (a terminal's Ctrl-C reaches
// the parent only, which then stops the child in order) and, on Linux, ties
// its life to this process.
func StartChild(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnReq)
		go spawnLoop(spawner.reqs)
	})
	errc := make(chan error, 1)
	spawner.reqs <- spawnReq{cmd: cmd, errc: errc}
	return <-errc
}

func spawnLoop(reqs <-chan spawnReq) {
	runtime.LockOSThread() // never unlocked: the thread must outlive the children
	for r := range reqs {
		r.errc <- r.cmd.Start()
	}
}
