//go:build !unix

package localredis

import "os/exec"

// StartChild starts cmd; elsewhere there are no process groups to set up.
func StartChild(cmd *exec.Cmd) error { return cmd.Start() }

// Without process groups or SIGTERM the server is simply killed: it keeps no data.
func terminate(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
func kill(cmd *exec.Cmd)      { _ = cmd.Process.Kill() }
