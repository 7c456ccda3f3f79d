package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/internal/cmdutil"
	"github.com/cachectl/cachectl/internal/config"
	"github.com/cachectl/cachectl/internal/help"
)

// envAPI names the catalog API's variable in the commands' warnings; the
// rest are in internal/config.
const envAPI = config.EnvAPI

// globalOptions are the root command's flags, resolved by internal/config.
type globalOptions = config.Options

func newRootCmd(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:           "cachectl <command>",
		Short:         "Inspect, clear, warm and benchmark a Redis-cached catalog API",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return f.resolve(cmd.Flags())
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdutil.UsageError{Err: err} })

	f.opts.AddFlags(cmd.PersistentFlags())

	cmd.AddCommand(
		newClearCmd(f, nil),
		newKeysCmd(f, nil),
		newExporterCmd(f, nil),
		newPingCmd(f, nil),
		newStatsCmd(f, nil),
		newTopCmd(f, nil),
		newServeCmd(f, nil),
		newWarmCmd(f, nil),
		newBenchCmd(f, nil),
		newCheckCmd(f, nil),
		newTraceCmd(f, nil),
		newDemoCmd(f, nil),
		newAuditCmd(f, nil),
		newManCmd(f),
		newCompletionCmd(),
		newVersionCmd(f),
		newExitCodesTopic(),
	)
	cmdutil.TypedArgs(cmd)
	help.Apply(cmd)
	return cmd
}

// resolve fills the options the flags left unset from the environment, then
// the config file, and checks them (config.Options.Resolve).
func (f *factory) resolve(flags *pflag.FlagSet) error {
	o := &f.opts
	cfg, err := o.LoadFile(flags, f.Getenv)
	if err != nil {
		return err
	}
	f.cfg = cfg
	src, err := o.Resolve(flags, f.Getenv, cfg)
	f.redisFlagSet, f.apiFlagSet, f.readOnlyBy = src.RedisFromArgs, src.APIFromArgs, src.ReadOnlyBy
	if o.NoColor {
		f.IO.SetColorEnabled(false)
	}
	return err
}
