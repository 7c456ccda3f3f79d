package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/option"
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

// The errors the exit code is read from. Domain packages have their own
// sentinels and types (redisconn.ErrConnect, keyspace.ErrMatchAll, …);
// exitCode reads those too, with errors.Is and errors.As, never the text.

// usageError is bad input from the user: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return usageError{fmt.Errorf(format, a...)}
}

// isUsage reports bad input: a usageError, or an option a domain
// package's Validate refused.
func isUsage(err error) bool {
	return errors.As(err, new(usageError)) || errors.As(err, new(*option.Error))
}

// hinted is an error with a suggestion printed on its own line.
type hinted struct {
	err  error
	hint string
}

func (e hinted) Error() string { return e.err.Error() }
func (e hinted) Unwrap() error { return e.err }
func (e hinted) Hint() string  { return e.hint }

// readOnlyError refuses, up front, a run that would write while read-only:
// by names the switch that set it, what says what the run would write.
type readOnlyError struct{ by, what string }

func (e readOnlyError) Error() string { return fmt.Sprintf("read-only (%s): %s", e.by, e.what) }
func (e readOnlyError) Unwrap() error { return redisconn.ErrReadOnly }
func (e readOnlyError) Hint() string {
	switch e.by {
	case "--read-only":
		return "drop --read-only to allow it"
	case envReadOnly:
		return "unset " + envReadOnly + " to allow it"
	}
	return "set read_only: false in the config file, or " + envReadOnly + "=0, to allow it"
}

// partialError is a job that stopped part way, with some of its work done (a
// clear that did not finish): exit 1, and a hint that says how to finish.
type partialError struct{ hinted }

// errFailed reports a job that ran and whose result (already printed) says it
// did not succeed: exit 1 without another message.
var errFailed = errors.New("failed")

// hinter is an error that carries a suggestion for the person at the terminal.
type hinter interface{ Hint() string }

// exitCode maps an error to the exit-code contract; it is the one place that
// does. Cases are tried in order: a partial clear that lost its connection
// is exit 3, a refused --max-keys (a usage error with a hint) exit 2.
func exitCode(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return exitOK
	case interrupted(ctx, err):
		return exitInterrupted
	case errors.Is(err, redisconn.ErrConnect), errors.As(err, new(*warm.UnreachableError)):
		return exitUnavailable
	case isUsage(err),
		errors.Is(err, redisconn.ErrConfig),
		errors.Is(err, keyspace.ErrMatchAll),
		errors.Is(err, keyspace.ErrUnknownGroup),
		errors.Is(err, keyspace.ErrInvalidID),
		errors.Is(err, keyspace.ErrPlanRefused), errors.Is(err, keyspace.ErrBadPlan),
		errors.Is(err, warm.ErrInput),
		errors.Is(err, redisconn.ErrReadOnly), errors.Is(err, catalogapi.ErrReadOnly):
		return exitUsage
	case errors.Is(err, redisconn.ErrNotPermitted),
		errors.As(err, new(partialError)),
		errors.Is(err, errFailed):
		return exitFailed
	}
	return exitFailed
}

// interrupted reports a job stopped by Ctrl-C or SIGTERM: the context the
// command ran under is cancelled, whatever error that caused on the way.
func interrupted(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) || ctx.Err() != nil
}

// noArgs is cobra.NoArgs with a usage error: the Args of a command that
// takes no arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageError{err}
	}
	return nil
}

// typedArgs makes every positional-argument error in the tree under c (a
// wrong count, an argument where none is taken) a usageError, where the
// command's own Args does not return one already; flag errors are made one
// by the root's FlagErrorFunc.
func typedArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			if err != nil && !errors.As(err, new(usageError)) {
				return usageError{err}
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		typedArgs(sub)
	}
}

// executeRoot runs root on args. A first argument that names no command is
// a usage error; cobra finds that out before any hook of ours runs and says
// so untyped, so the command is looked up here first.
func executeRoot(ctx context.Context, root *cobra.Command, args []string) error {
	root.SetArgs(args)
	if len(args) == 0 || (args[0] != cobra.ShellCompRequestCmd && args[0] != cobra.ShellCompNoDescRequestCmd) {
		root.InitDefaultHelpCmd()
		if _, _, err := root.Find(args); err != nil {
			return usageError{err}
		}
	}
	return root.ExecuteContext(ctx)
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
	} else if isUsage(err) {
		fmt.Fprintln(w, "hint: see 'cachectl --help' or 'cachectl help <command>'")
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
