package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/build"
	"github.com/cachectl/cachectl/internal/output"
)

func newVersionCmd(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of cachectl",
		Example: `  cachectl version
  cachectl version --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.format(output.Table, output.JSON)
			if err != nil {
				return err
			}
			info := build.Get()
			if fm == output.JSON {
				return output.WriteJSON(f.IO, info)
			}
			line := "cachectl " + info.Version
			if info.Commit != "" {
				line += " (" + shortCommit(info.Commit)
				if info.Date != "" {
					line += ", " + info.Date
				}
				line += ")"
			}
			_, err = fmt.Fprintf(f.IO.Out, "%s %s\n", line, info.Go)
			return err
		},
	}
}

func shortCommit(c string) string {
	rev, dirty := strings.CutSuffix(c, "-dirty")
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// newExitCodesTopic is a help topic: `cachectl help exit-codes`.
func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "The exit codes cachectl returns",
	}
}
