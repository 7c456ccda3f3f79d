package main

import (
	"github.com/spf13/cobra"
)

// newCompletionCmd replaces cobra's default completion command, so that an
// unknown shell is a usage error (exit 2) like every other bad argument, and
// each shell's help says how to install the script.
func newCompletionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:       "completion {bash|zsh|fish|powershell}",
		Short:     "Print the shell completion script for bash, zsh, fish or powershell",
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("say which shell: bash, zsh, fish or powershell")
			}
			return usageErrorf("no completion for %q: want bash, zsh, fish or powershell", args[0])
		},
	}
	shells := []struct {
		name, how string
		gen       func(c *cobra.Command) error
	}{
		{"bash", "source <(cachectl completion bash)", func(c *cobra.Command) error { return c.Root().GenBashCompletionV2(c.OutOrStdout(), true) }},
		{"zsh", `cachectl completion zsh > "${fpath[1]}/_cachectl"`, func(c *cobra.Command) error { return c.Root().GenZshCompletion(c.OutOrStdout()) }},
		{"fish", "cachectl completion fish > ~/.config/fish/completions/cachectl.fish", func(c *cobra.Command) error { return c.Root().GenFishCompletion(c.OutOrStdout(), true) }},
		{"powershell", "cachectl completion powershell | Out-String | Invoke-Expression", func(c *cobra.Command) error {
			return c.Root().GenPowerShellCompletionWithDesc(c.OutOrStdout())
		}},
	}
	for _, s := range shells {
		gen := s.gen
		cmd.AddCommand(&cobra.Command{
			Use:                   s.name,
			Short:                 "Print the completion script for " + s.name,
			Example:               "  " + s.how,
			Args:                  noArgs,
			DisableFlagsInUseLine: true,
			ValidArgsFunction:     cobra.NoFileCompletions,
			RunE:                  func(c *cobra.Command, args []string) error { return gen(c) },
		})
	}
	return cmd
}
