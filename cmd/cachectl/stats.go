package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/keyspace"
)

type statsOptions struct {
	common
	Schema func() (keyspace.Schema, error)
	// Groups counts the keys of every group exactly (one SCAN pass).
	Groups bool
	// CountConfig holds --count and --max-impact for the group counts.
	keyspace.CountConfig
}

// maxImpactUsage is the --max-impact of the commands that count keys.
const maxImpactUsage = "pace the SCAN to keep other clients' p99 latency within DUR of its idle value (e.g. 1ms)"

func newStatsCmd(f *factory, runF func(context.Context, *statsOptions) error) *cobra.Command {
	opts := &statsOptions{Schema: f.Schema}
	cmd := newCommand(f, "stats", "Print one snapshot of what Redis says about itself", opts, []output.Format{output.Table, output.JSON}, func(cmd *cobra.Command) error {
		return option.First(option.InRange("count", opts.Count, 1, keyspace.MaxScanCount), keyspace.CheckMaxImpact(opts.MaxImpact, cmd.Flags().Changed("max-impact")))
	}, runF, runStats)
	cmd.Flags().BoolVar(&opts.Groups, "groups", true, "count the keys of each group exactly (a SCAN of the whole keyspace)")
	cmd.Flags().Int64Var(&opts.Count, "count", keyspace.DefaultScanCount, "SCAN COUNT hint for the group counts")
	cmd.Flags().DurationVar(&opts.MaxImpact, "max-impact", 0, maxImpactUsage)
	return cmd
}

func runStats(ctx context.Context, opts *statsOptions) error {
	return snapshot(ctx, opts.common, opts.Schema, opts.Groups, opts.CountConfig)
}

// snapshot reads INFO, and with groups the keys of every group, once and
// prints it: stats, and top --once.
func snapshot(ctx context.Context, c common, schema func() (keyspace.Schema, error), groups bool, count keyspace.CountConfig) error {
	conn, err := c.Redis(ctx)
	if err != nil {
		return err
	}
	var sel keyspace.Selection
	if groups {
		s, err := schema()
		if err != nil {
			return err
		}
		sel = s.Selection()
	}
	rep, err := inspect.ReadPaced(ctx, conn.Client, sel, count)
	if err != nil {
		return inspect.ReadError(conn.Addr, err)
	}
	if c.Quiet {
		return nil
	}
	if rep.GroupsEmpty() {
		if s, err := schema(); err == nil {
			defer printElsewhere(ctx, c.IO, conn, s)
		}
	}
	return render.Stats(c.IO, c.Format, render.StatsOf(conn.Addr, conn.Cluster, rep))
}
