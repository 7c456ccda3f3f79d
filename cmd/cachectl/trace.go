package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/observe"
	"github.com/cachectl/cachectl/warm"
)

type traceOptions struct {
	common
	apiTarget

	Args      []string // URLs or paths relative to --api
	URLFile   string   // one per line, "-" for stdin
	Mechanism observe.Mechanism
	Guard     time.Duration
}

func newTraceCmd(f *factory, runF func(context.Context, *traceOptions) error) *cobra.Command {
	opts := &traceOptions{}
	var mechanism string
	cmd := newCommand(f, "trace [URL...]", "Show the cache keys each URL reads, writes and deletes, as Redis sees them", opts,
		[]output.Format{output.Table, output.JSON}, func(cmd *cobra.Command) error {
			opts.Args = cmd.Flags().Args()
			if err := f.apiTarget(&opts.apiTarget); err != nil {
				return err
			}
			if len(opts.Args) == 0 && opts.URLFile == "" {
				return option.Errorf("name at least one URL or path, or --url-file")
			}
			var err error
			if opts.Mechanism, err = observe.ParseMechanism(mechanism); err != nil {
				return err
			}
			if opts.Guard < 0 {
				return option.Errorf("--guard must not be negative")
			}
			return nil
		}, runF, runTrace)
	cmd.Args = cobra.ArbitraryArgs
	fl := cmd.Flags()
	fl.StringVar(&opts.URLFile, "url-file", "", "also trace the URLs or paths in FILE, one per line (- for stdin)")
	fl.StringVar(&mechanism, "mechanism", "", "monitor, tracking or info (default: the best the server allows)")
	fl.DurationVar(&opts.Guard, "guard", observe.DefaultGuard, "quiet interval before and after each request that tells busy clients apart (0: none)")
	return cmd
}

func runTrace(ctx context.Context, opts *traceOptions) error {
	urls, err := warm.URLs(opts.API, opts.Args, opts.URLFile, opts.IO.In)
	if err != nil {
		return err
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	guard := opts.Guard
	if guard == 0 {
		guard = -1 // --guard 0: none
	}
	obs, err := observe.New(ctx, conn.Client, observe.Options{Prefix: opts.Schema.Namespace(),
		Mechanism: opts.Mechanism, Guard: guard})
	if err != nil {
		return err
	}
	probes, failed, err := obs.GetAll(ctx, catalogapi.New(opts.API, opts.Client), urls)
	if err != nil {
		return err
	}
	rep := render.NewTraceReport(opts.API.String(), opts.Schema.Namespace(), obs.Mechanism(), obs.Degraded(), probes)
	if !opts.Quiet {
		if err := render.Trace(opts.IO, opts.Format, rep); err != nil {
			return err
		}
	}
	if failed {
		return errFailed
	}
	return nil
}
