package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
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
	res := render.PingResult{Op: "ping", Addr: conn.Addr, Cluster: conn.Cluster, DB: conn.DB}
	reply, rtt, err := inspect.Ping(ctx, conn.Client, opts.Count)
	if err != nil {
		return &redisconn.Error{Addr: conn.Addr, Op: "reach", Cause: err}
	}
	res.Reply, res.RTTMs = reply, format.Millis(rtt)

	res.Version, res.Role = inspect.Identity(ctx, conn.Client)
	if conn.Cluster {
		if res.Nodes, err = redisconn.ClusterNodes(ctx, conn.Client); err != nil {
			return err
		}
	}
	if opts.Quiet {
		return nil
	}
	return render.Ping(opts.IO, opts.Format, res)
}
