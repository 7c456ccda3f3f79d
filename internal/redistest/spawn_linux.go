//go:build linux

package redistest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// On Linux children also get Pdeathsig, so a test binary that dies without
// running cleanups (go test -timeout, os.Exit, SIGKILL) does not leave
// redis-servers behind. Pdeathsig fires when the forking *thread* exits, not
// the process, so every fork happens on one locked thread that lives as long
// as the test binary.
var spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func startCmd(cmd *exec.Cmd) error {
	// Own process group: the terminal's SIGINT goes to the foreground
	// group only, and Stop can signal the server with its fork children.
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
	runtime.LockOSThread() // never unlocked: the thread must outlive all children
	for r := range reqs {
		r.errc <- r.cmd.Start()
	}
}
