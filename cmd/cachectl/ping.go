package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/render"
)

// maxPings bounds --count: a typo, not a benchmark.
const maxPings = 10_000

type pingOptions struct {
	common
	Count int
}

func newPingCmd(f *factory, runF func(context.Context, *pingOptions) error) *cobra.Command {
	opts := &pingOptions{}
	cmd := newCommand(f, "ping", "Check that Redis answers, and say what it is", opts, []output.Format{output.Table, output.JSON}, func(cmd *cobra.Command) error {
		return option.InRange("count", opts.Count, 1, maxPings)
	}, runF, runPing)
	cmd.Flags().IntVarP(&opts.Count, "count", "n", 5, "PINGs to time; the median is reported")
	return cmd
}

func runPing(ctx context.Context, opts *pingOptions) error {
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	srv, err := inspect.Describe(ctx, conn.Client, conn.Addr, opts.Count, conn.Cluster)
	if err != nil {
		return err
	}
	if opts.Quiet {
		return nil
	}
	return render.Ping(opts.IO, opts.Format, render.PingResult{Op: "ping", Addr: conn.Addr, Cluster: conn.Cluster, DB: conn.DB,
		Reply: srv.Reply, RTTMs: format.Millis(srv.RTT), Version: srv.Version, Role: srv.Role, Nodes: srv.Nodes})
}
