package main

import (
	"errors"
	"flag"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cachectl/cachectl/internal/redistest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/script")

// TestMain lets the scripts run the real command line as `cachectl`: the test
// binary re-executes itself as the program, with its own argv, streams and exit code.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"cachectl": func() { os.Exit(run()) }})
}

// TestScripts runs cmd/cachectl/testdata/script/*.txtar against private
// redis-servers: a plain one, one with a password and an ACL user, and a
// three-master cluster. Each script names the behaviour it guards.
func TestScripts(t *testing.T) {
	sockDir := t.TempDir()
	plain := redistest.Start(t, redistest.Options{Args: []string{"--unixsocket", sockDir + "/redis.sock"}})
	secured := redistest.Start(t, redistest.Options{
		Password: "s3cret-default",
		ACL: []string{
			"alice on >alice-pw ~* +@all",
			"noinfo on >noinfo-pw ~* +@all -info",
			"blind on >blind-pw ~* +@all -info -cluster",
		},
	})
	// TLS on a second port; the plain port stays for the harness's readiness check.
	ca, cert, key := testCerts(t, t.TempDir())
	tlsAddr := closedPort(t)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	redistest.Start(t, redistest.Options{Args: []string{
		"--tls-port", tlsPort, "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", ca, "--tls-auth-clients", "no",
	}})
	cluster := redistest.StartCluster(t, 3, 1)
	stall := stallingListener(t)
	closed := closedPort(t)

	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REDIS_URL", plain.URL())
			env.Setenv("SECURE_ADDR", secured.Addr)
			env.Setenv("CLUSTER_URL", cluster.SeedURL())
			env.Setenv("STALL_ADDR", stall)
			env.Setenv("CLOSED_ADDR", closed)
			env.Setenv("TLS_ADDR", tlsAddr)
			env.Setenv("TLS_CA", ca)
			env.Setenv("REDIS_SOCK", sockDir+"/redis.sock")
			// No config file or environment of the machine leaks in.
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/.config")
			env.Setenv("XDG_STATE_HOME", env.WorkDir+"/.state") // the audit trail
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exit":  cmdExit,
			"redis": cmdRedis,
		},
	})
}

// cmdExit runs a program and checks its exit code, and optionally that it
// ended within a bound: exit CODE [-within DUR] program [args...]
func cmdExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exit CODE [-within DUR] program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	args = args[1:]
	var within time.Duration
	if args[0] == "-within" {
		within, err = time.ParseDuration(args[1])
		ts.Check(err)
		args = args[2:]
	}
	start := time.Now()
	err = ts.Exec(args[0], args[1:]...)
	elapsed := time.Since(start)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[0], got, want)
	}
	if within > 0 && elapsed > within {
		ts.Fatalf("%s took %s, want at most %s", args[0], elapsed.Round(time.Millisecond), within)
	}
}

// stallingListener accepts connections and never answers: a Redis that hangs.
func stallingListener(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			close(done)
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return l.Addr().String()
}

// closedPort returns an address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
