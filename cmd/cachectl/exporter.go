package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/exporter"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/internal/topfeed"
	"github.com/cachectl/cachectl/keyspace"
)

type exporterOptions struct {
	common
	Schema func() (keyspace.Schema, error)
	Logger func() *slog.Logger
	exporter.Config
	NoSample bool
}

func newExporterCmd(f *factory, runF func(context.Context, *exporterOptions) error) *cobra.Command {
	opts := &exporterOptions{Schema: f.Schema, Logger: f.Logger}
	cmd := newCommand(f, "exporter", "Serve Prometheus metrics per group, refreshed on a schedule", opts, []output.Format{output.Table},
		func(*cobra.Command) error { return opts.Validate() }, runF, runExporter)
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", exporter.DefaultListen, "address to serve /metrics on")
	fl.DurationVar(&opts.Refresh, "refresh", exporter.DefaultRefresh, "time between surveys (each one SCAN pass); scrapes read the last")
	fl.IntVar(&opts.Survey.Samples, "samples", 100, "keys measured per group and master for memory and TTL estimates")
	fl.BoolVar(&opts.NoSample, "no-sample", false, "do not sample Redis's commands for cachectl_group_hit_ratio")
	return cmd
}

func runExporter(ctx context.Context, opts *exporterOptions) error {
	schema, err := opts.Schema()
	if err != nil {
		return err
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	opts.Client, opts.Selection, opts.Config.Logger = conn.Client, schema.Selection(), opts.Logger()
	if !opts.NoSample { // the hit ratio per group, sampled as top samples it
		rates := topfeed.ChooseHitRates(ctx, topfeed.Metrics{}, conn.Client, opts.Selection, true)
		defer rates.Close()
		opts.HitRatio = rates
	}
	return exporter.Run(ctx, opts.Config, func(addr net.Addr) {
		if !opts.Quiet {
			render.ExporterListening(opts.IO, addr.String(), conn.Addr, len(opts.Selection), opts.Refresh)
		}
	})
}
