package main

import (
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/build"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/render"
)

func newVersionCmd(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of cachectl",
		Example: `  cachectl version
  cachectl version --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.opts.FormatOf(output.Table, output.JSON)
			if err != nil {
				return err
			}
			return render.Version(f.IO, fm, build.Get())
		},
	}
}

// newExitCodesTopic is a help topic: `cachectl help exit-codes`.
func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "The exit codes cachectl returns",
	}
}
