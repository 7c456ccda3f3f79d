package cmdutil

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
)

// NoArgs is cobra.NoArgs with a usage error: the Args of a command that
// takes no arguments.
func NoArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return UsageError{err}
	}
	return nil
}

// TypedArgs makes every positional-argument error in the tree under c (a
// wrong count, an argument where none is taken) a UsageError, where the
// command's own Args does not return one already; flag errors are made one
// by the root's FlagErrorFunc.
func TypedArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			if err != nil && !errors.As(err, new(UsageError)) {
				return UsageError{err}
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		TypedArgs(sub)
	}
}

// ExecuteRoot runs root on args. A first argument that names no command is
// a usage error; cobra finds that out before any hook of ours runs and says
// so untyped, so the command is looked up here first.
func ExecuteRoot(ctx context.Context, root *cobra.Command, args []string) error {
	root.SetArgs(args)
	if len(args) == 0 || (args[0] != cobra.ShellCompRequestCmd && args[0] != cobra.ShellCompNoDescRequestCmd) {
		root.InitDefaultHelpCmd()
		if _, _, err := root.Find(args); err != nil {
			return UsageError{err}
		}
	}
	return root.ExecuteContext(ctx)
}
