package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/cmdutil"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

// cobraError is what the real root command returns for args.
func cobraError(t *testing.T, args ...string) error {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	f := newFactory(ios, func(string) string { return "" })
	root := newRootCmd(f)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	err := executeRoot(context.Background(), root, args)
	if err == nil {
		t.Fatalf("%q: no error", args)
	}
	return err
}

// noPerm is a NOPERM reply from a real server, classified at the boundary.
func noPerm(t *testing.T) error {
	t.Helper()
	s := redistest.Start(t, redistest.Options{ACL: []string{"limited on >pw ~* +@all -info"}})
	conn, err := redisconn.Open(context.Background(), redisconn.Config{URL: "redis://limited:pw@" + s.Addr + "/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Client.Info(context.Background()).Err()
	if err == nil {
		t.Fatal("INFO is permitted")
	}
	return redisconn.CommandError(conn.Addr, "INFO", err)
}

// The exit code is read from the error's type, never from its text: each
// kind of error the commands return, and a look-alike text of another kind.
func TestExitCodeTable(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	connect := &redisconn.Error{Addr: "redis://127.0.0.1:1/0", Op: "reach", Cause: syscall.ECONNREFUSED}
	perm := noPerm(t)
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"ok", nil, nil, exitOK},
		{"interrupted", nil, fmt.Errorf("scan: %w", context.Canceled), exitInterrupted},
		{"interrupted, any error", canceled, errors.New("read tcp: use of closed connection"), exitInterrupted},
		{"usage", nil, usageErrorf("--timeout must be positive, not 0s"), exitUsage},
		{"unknown flag", nil, cobraError(t, "ping", "--bogus"), exitUsage},
		{"unknown command", nil, cobraError(t, "frobnicate"), exitUsage},
		{"extra argument", nil, cobraError(t, "stats", "extra"), exitUsage},
		{"flag value", nil, cobraError(t, "ping", "--count", "many"), exitUsage},
		{"bad settings", nil, fmt.Errorf("%w: redis:///0: no host", redisconn.ErrConfig), exitUsage},
		{"match all", nil, keyspace.ErrMatchAll, exitUsage},
		{"unknown group", nil, fmt.Errorf("%w: sessions", keyspace.ErrUnknownGroup), exitUsage},
		{"bad url file", nil, fmt.Errorf("line 3: %w", warm.ErrInput), exitUsage},
		{"max keys", nil, hinted(usageErrorf("refusing to delete 9 keys: more than --max-keys 1"), "raise it"), exitUsage},
		{"cannot connect", nil, connect, exitUnavailable},
		{"cannot authenticate", nil, &redisconn.Error{Addr: "redis://***@h:6379/0", Op: "authenticate to", Cause: errors.New("WRONGPASS")}, exitUnavailable},
		{"api unreachable", nil, &warm.UnreachableError{URL: "http://127.0.0.1:1", Err: syscall.ECONNREFUSED}, exitUnavailable},
		{"not permitted", nil, perm, exitFailed},
		{"partial", nil, partialError(&keyspace.ClearError{Cause: errors.New("UNLINK: READONLY")}, "point --redis at the primary"), exitFailed},
		{"partial, connection lost", nil, partialError(fmt.Errorf("scan: %w", connect), ""), exitUnavailable},
		{"job failed", nil, errFailed, exitFailed},
		{"anything else", nil, errors.New("unknown flag: --x (a message, not a usage error)"), exitFailed},
		{"text of a refusal", nil, errors.New("NOPERM cannot connect to redis"), exitFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := c.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			if got := exitCode(ctx, c.err); got != c.want {
				t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
			}
		})
	}
	if !errors.Is(perm, redisconn.ErrNotPermitted) || redisconn.DeniedCommand(perm) != "info" {
		t.Errorf("%v: not ErrNotPermitted, or names %q, not info", perm, redisconn.DeniedCommand(perm))
	}
	var h cmdutil.Hinter
	if !errors.As(perm, &h) || h.Hint() == "" {
		t.Errorf("%v has no hint", perm)
	}
}

// Every command's argument check returns a usage error.
func TestArgsAreTyped(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := newRootCmd(newFactory(ios, func(string) string { return "" }))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Args != nil {
			if err := c.Args(c, []string{"a", "b", "c", "d", "e"}); err != nil && !errors.As(err, new(usageError)) {
				t.Errorf("%s: %T is no usage error", c.CommandPath(), err)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
