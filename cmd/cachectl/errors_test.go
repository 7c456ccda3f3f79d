package main

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/cmdutil"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/redistest"
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

// The errors the real root command and a real server return map to their
// exit codes; internal/cmdutil's own tests hold the rest of the table.
func TestExitCodeTable(t *testing.T) {
	perm := noPerm(t)
	for name, c := range map[string]struct {
		err  error
		want int
	}{
		"unknown flag":     {cobraError(t, "ping", "--bogus"), exitUsage},
		"unknown command":  {cobraError(t, "frobnicate"), exitUsage},
		"extra argument":   {cobraError(t, "stats", "extra"), exitUsage},
		"flag value":       {cobraError(t, "ping", "--count", "many"), exitUsage},
		"bad --timeout":    {cobraError(t, "ping", "--timeout", "0s"), exitUsage},
		"not permitted":    {perm, exitFailed},
		"max keys refused": {hinted(usageErrorf("refusing to delete 9 keys: more than --max-keys 1"), "raise it"), exitUsage},
	} {
		if got := exitCode(context.Background(), c.err); got != c.want {
			t.Errorf("%s: exitCode(%v) = %d, want %d", name, c.err, got, c.want)
		}
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
