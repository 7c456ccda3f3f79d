package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

// The exit code is read from the error's type, wrapped or not, never from
// its text.
func TestExitCodeByType(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	connect := &redisconn.Error{Addr: "redis://127.0.0.1:1/0", Op: "reach", Cause: syscall.ECONNREFUSED}
	perm := &redisconn.PermissionError{Addr: "redis://127.0.0.1:6379/0", Command: "INFO", Cause: errors.New("NOPERM")}
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"ok", nil, nil, ExitOK},
		{"canceled", nil, fmt.Errorf("scan: %w", context.Canceled), ExitInterrupted},
		{"any error once interrupted", canceled, errors.New("use of closed connection"), ExitInterrupted},
		{"usage", nil, UsageErrorf("--timeout must be positive, not 0s"), ExitUsage},
		{"usage, wrapped", nil, fmt.Errorf("clear: %w", UsageError{errors.New("bad")}), ExitUsage},
		{"option refused", nil, option.Errorf("--qps must be from 0 to 1000, not -1"), ExitUsage},
		{"usage with a hint", nil, WithHint(UsageErrorf("more than --max-keys 1"), "raise it"), ExitUsage},
		{"bad settings", nil, fmt.Errorf("%w: redis:///0: no host", redisconn.ErrConfig), ExitUsage},
		{"match all", nil, keyspace.ErrMatchAll, ExitUsage},
		{"unknown group", nil, fmt.Errorf("%w: sessions", keyspace.ErrUnknownGroup), ExitUsage},
		{"invalid id", nil, keyspace.ErrInvalidID, ExitUsage},
		{"plan refused", nil, keyspace.ErrPlanRefused, ExitUsage},
		{"bad plan", nil, keyspace.ErrBadPlan, ExitUsage},
		{"bad url file", nil, fmt.Errorf("line 3: %w", warm.ErrInput), ExitUsage},
		{"read-only refusal", nil, ReadOnlyError{By: "--read-only", What: "clear deletes keys"}, ExitUsage},
		{"read-only redis", nil, &redisconn.ReadOnlyError{Command: "unlink"}, ExitUsage},
		{"read-only api", nil, fmt.Errorf("POST: %w", catalogapi.ErrReadOnly), ExitUsage},
		{"cannot connect", nil, connect, ExitUnavailable},
		{"api unreachable", nil, &warm.UnreachableError{URL: "http://127.0.0.1:1", Err: syscall.ECONNREFUSED}, ExitUnavailable},
		{"not permitted", nil, perm, ExitFailed},
		{"partial", nil, Partial(&keyspace.ClearError{Cause: errors.New("UNLINK: READONLY")}, "point --redis at the primary"), ExitFailed},
		{"partial, connection lost", nil, Partial(fmt.Errorf("scan: %w", connect), ""), ExitUnavailable},
		{"job failed", nil, ErrFailed, ExitFailed},
		{"text of a usage error", nil, errors.New("unknown flag: --x"), ExitFailed},
		{"text of a refusal", nil, errors.New("NOPERM cannot connect to redis"), ExitFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := c.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			if got := ExitCode(ctx, c.err); got != c.want {
				t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
			}
		})
	}
}

// The refusal's hint names the switch to undo, whichever one set it.
func TestReadOnlyErrorHintNamesTheSwitch(t *testing.T) {
	for _, c := range []struct{ by, want string }{
		{"--read-only", "drop --read-only to allow it"},
		{"CACHECTL_READ_ONLY", "unset CACHECTL_READ_ONLY to allow it"},
		{"read_only in /etc/cachectl.yaml", "set read_only: false in the config file, or CACHECTL_READ_ONLY=0, to allow it"},
	} {
		e := ReadOnlyError{By: c.by, What: "clear deletes keys"}
		if e.Hint() != c.want || e.Error() != "read-only ("+c.by+"): clear deletes keys" {
			t.Errorf("by %q: %q, hint %q; want hint %q", c.by, e.Error(), e.Hint(), c.want)
		}
	}
}

// One line of message, then the error's own hint, else the usage hint for
// bad input; a failed job and an interruption say no more than that.
func TestPrintError(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"plain", context.Background(), errors.New("boom\nsecond line"), "cachectl: boom\n"},
		{"hinted", context.Background(), WithHint(errors.New("stopped"), "run it again"), "cachectl: stopped\nhint: run it again\n"},
		{"usage", context.Background(), UsageErrorf("--count: bad"), "cachectl: --count: bad\nhint: see 'cachectl --help' or 'cachectl help <command>'\n"},
		{"failed", context.Background(), fmt.Errorf("warm: %w", ErrFailed), ""},
		{"interrupted", canceled, errors.New("read: closed"), "cachectl: interrupted\n"},
	} {
		var b bytes.Buffer
		PrintError(&b, c.ctx, c.err)
		if b.String() != c.want {
			t.Errorf("%s: printed %q, want %q", c.name, b.String(), c.want)
		}
	}
}
