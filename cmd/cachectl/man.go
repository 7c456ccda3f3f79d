package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/cachectl/cachectl/internal/build"
)

// newManCmd writes the man pages of the whole command tree, one page per
// command. Release archives and packages ship them; it is hidden because
// people read the pages rather than make them.
func newManCmd(f *factory) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:    "man --dir DIR",
		Short:  "Write the man pages of every command into a directory",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return usageErrorf("--dir is required")
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{
				Title:   "CACHECTL",
				Section: "1",
				Source:  "cachectl " + build.Get().Version,
				Manual:  "cachectl manual",
			}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			if !f.opts.Quiet {
				fmt.Fprintf(f.IO.ErrOut, "wrote man pages to %s\n", dir)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write the pages into")
	return cmd
}
