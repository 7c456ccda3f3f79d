// Package cmdutil is what the commands of cachectl share that is about the
// command line itself: the typed errors they return, the exit code each
// maps to, and cobra's argument and command errors made typed.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/config"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

// Exit codes: the contract scripts rely on. `cachectl help exit-codes` prints the same table.
const (
	ExitOK          = 0
	ExitFailed      = 1 // the job ran but did not succeed
	ExitUsage       = 2 // usage or bad input
	ExitUnavailable = 3 // cannot connect or authenticate (Redis or API)
	ExitInterrupted = 130
)

// The errors the exit code is read from. Domain packages have their own
// sentinels and types (redisconn.ErrConnect, keyspace.ErrMatchAll, …);
// ExitCode reads those too, with errors.Is and errors.As, never the text.

// UsageError is bad input from the user: exit 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// UsageErrorf is a UsageError with fmt.Errorf's text (and %w).
func UsageErrorf(format string, a ...any) error {
	return UsageError{fmt.Errorf(format, a...)}
}

// IsUsage reports bad input: a UsageError, or an option a domain
// package's Validate refused.
func IsUsage(err error) bool {
	return errors.As(err, new(UsageError)) || errors.As(err, new(*option.Error))
}

// HintedError is an error with a suggestion printed on its own line.
type HintedError struct {
	Err        error
	Suggestion string
}

func (e HintedError) Error() string { return e.Err.Error() }
func (e HintedError) Unwrap() error { return e.Err }
func (e HintedError) Hint() string  { return e.Suggestion }

// WithHint is err with a suggestion for the person at the terminal.
func WithHint(err error, hint string) error { return HintedError{err, hint} }

// PartialError is a job that stopped part way, with some of its work done (a
// clear that did not finish): exit 1, and a hint that says how to finish.
type PartialError struct{ HintedError }

// Partial is err, a job that stopped part way, with the hint that says how to finish.
func Partial(err error, hint string) error { return PartialError{HintedError{err, hint}} }

// ReadOnlyError refuses, up front, a run that would write while read-only:
// By names the switch that set it (config.Sources.ReadOnlyBy), What says
// what the run would write.
type ReadOnlyError struct{ By, What string }

func (e ReadOnlyError) Error() string { return fmt.Sprintf("read-only (%s): %s", e.By, e.What) }
func (e ReadOnlyError) Unwrap() error { return redisconn.ErrReadOnly }
func (e ReadOnlyError) Hint() string {
	switch e.By {
	case config.ReadOnlyFlag:
		return "drop --read-only to allow it"
	case config.EnvReadOnly:
		return "unset " + config.EnvReadOnly + " to allow it"
	}
	return "set read_only: false in the config file, or " + config.EnvReadOnly + "=0, to allow it"
}

// ErrFailed reports a job that ran and whose result (already printed) says it
// did not succeed: exit 1 without another message.
var ErrFailed = errors.New("failed")

// Hinter is an error that carries a suggestion for the person at the terminal.
type Hinter interface{ Hint() string }

// ExitCode maps an error to the exit-code contract; it is the one place that
// does. Cases are tried in order: a partial clear that lost its connection
// is exit 3, a refused --max-keys (a usage error with a hint) exit 2.
func ExitCode(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return ExitOK
	case Interrupted(ctx, err):
		return ExitInterrupted
	case errors.Is(err, redisconn.ErrConnect), errors.As(err, new(*warm.UnreachableError)):
		return ExitUnavailable
	case IsUsage(err),
		errors.Is(err, redisconn.ErrConfig),
		errors.Is(err, keyspace.ErrMatchAll),
		errors.Is(err, keyspace.ErrUnknownGroup),
		errors.Is(err, keyspace.ErrInvalidID),
		errors.Is(err, keyspace.ErrPlanRefused), errors.Is(err, keyspace.ErrBadPlan),
		errors.Is(err, warm.ErrInput),
		errors.Is(err, redisconn.ErrReadOnly), errors.Is(err, catalogapi.ErrReadOnly):
		return ExitUsage
	case errors.Is(err, redisconn.ErrNotPermitted),
		errors.As(err, new(PartialError)),
		errors.Is(err, ErrFailed):
		return ExitFailed
	}
	return ExitFailed
}

// Interrupted reports a job stopped by Ctrl-C or SIGTERM: the context the
// command ran under is cancelled, whatever error that caused on the way.
func Interrupted(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) || ctx.Err() != nil
}

// PrintError writes the one-line message (and a hint line, if any) to w.
func PrintError(w io.Writer, ctx context.Context, err error) {
	if errors.Is(err, ErrFailed) {
		return
	}
	if ExitCode(ctx, err) == ExitInterrupted {
		fmt.Fprintln(w, "cachectl: interrupted")
		return
	}
	fmt.Fprintf(w, "cachectl: %s\n", FirstLine(err.Error()))
	var h Hinter
	if errors.As(err, &h) && h.Hint() != "" {
		fmt.Fprintf(w, "hint: %s\n", h.Hint())
	} else if IsUsage(err) {
		fmt.Fprintln(w, "hint: see 'cachectl --help' or 'cachectl help <command>'")
	}
}

// FirstLine is the first line of s, trimmed: an error's message for one line.
func FirstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
