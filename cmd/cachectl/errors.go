package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

// Exit codes: the contract scripts rely on. `cachectl help exit-codes` prints the same table.
const (
	exitOK          = 0
	exitFailed      = 1 // the job ran but did not succeed
	exitUsage       = 2 // usage or bad input
	exitUnavailable = 3 // cannot connect or authenticate (Redis or API)
	exitInterrupted = 130
)

const exitCodesHelp = `cachectl exits with one of these codes:

  0    ok
  1    the job ran but did not succeed: a partial clear, a failed check,
       a threshold breached, warm failures
  2    usage or bad input: an unknown flag, a malformed URL or file,
       a refused pattern, a clear or check without --yes and without a
       terminal, --max-keys exceeded
  3    cannot connect or authenticate (Redis or the catalog API)
  130  interrupted (Ctrl-C); partial results are still reported

serve (and demo --keep) stopped by SIGTERM or SIGINT after a clean shutdown exits 0.
`

// usageError is bad input from the user: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return usageError{fmt.Errorf(format, a...)}
}

// errFailed reports a job that ran and whose result (already printed) says it
// did not succeed: exit 1 without another message.
var errFailed = errors.New("failed")

// hinter is an error that carries a suggestion for the person at the terminal.
type hinter interface{ Hint() string }

// exitCode maps an error to the exit-code contract; it is the one place that does.
func exitCode(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return exitInterrupted
	case errors.Is(err, redisconn.ErrConnect), errors.As(err, new(*warm.UnreachableError)):
		return exitUnavailable
	case errors.As(err, new(usageError)),
		errors.Is(err, redisconn.ErrConfig),
		errors.Is(err, keyspace.ErrMatchAll),
		errors.Is(err, keyspace.ErrUnknownGroup),
		errors.Is(err, keyspace.ErrInvalidID),
		errors.Is(err, warm.ErrInput),
		isCobraUsage(err):
		return exitUsage
	}
	return exitFailed
}

// isCobraUsage recognises the errors cobra returns for an unknown command or a
// wrong number of arguments; flag errors are wrapped by flagError.
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") ||
		strings.Contains(msg, "arg(s), received") ||
		strings.HasPrefix(msg, "unknown shorthand flag") ||
		strings.HasPrefix(msg, "unknown flag")
}

// printError writes the one-line message (and a hint line, if any) to stderr.
func printError(w io.Writer, ctx context.Context, err error) {
	if errors.Is(err, errFailed) {
		return
	}
	if exitCode(ctx, err) == exitInterrupted {
		fmt.Fprintln(w, "cachectl: interrupted")
		return
	}
	fmt.Fprintf(w, "cachectl: %s\n", firstLine(err.Error()))
	var h hinter
	if errors.As(err, &h) && h.Hint() != "" {
		fmt.Fprintf(w, "hint: %s\n", h.Hint())
	} else if errors.As(err, new(usageError)) || isCobraUsage(err) {
		fmt.Fprintln(w, "hint: see 'cachectl --help' or 'cachectl help <command>'")
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
