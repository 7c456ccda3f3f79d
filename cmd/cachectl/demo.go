package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/check"
	"github.com/cachectl/cachectl/internal/build"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

type demoOptions struct {
	IO      *iostreams.IOStreams
	Schema  keyspace.Schema
	Quiet   bool
	Verbose bool
	Timeout time.Duration
	// RedisConfig is the connection of --redis; RedisExplicit says whether
	// --redis was given on the command line (only then is it used, and cleared).
	RedisConfig   func() (redisconn.Config, error)
	RedisExplicit bool

	Keep         bool
	SeedProducts int
	Requests     int
	ColdSamples  int
	Concurrency  int
}

func newDemoCmd(f *factory, runF func(context.Context, *demoOptions) error) *cobra.Command {
	opts := &demoOptions{IO: f.IO}
	cmd := newPlainCommand(f, "demo", "See everything work on this machine with one command", opts, func(*cobra.Command) error {
		if _, err := f.format(output.Table); err != nil {
			return err
		}
		if err := option.First(
			option.InRange("seed-products", opts.SeedProducts, 2, catalog.MaxSeedProducts),
			option.InRange("requests", opts.Requests, 1, bench.MaxRequests),
			option.InRange("cold-samples", opts.ColdSamples, 1, bench.MaxColdSamples),
			option.InRange("concurrency", opts.Concurrency, 1, bench.MaxConcurrency),
		); err != nil {
			return err
		}
		var err error
		opts.Schema, err = f.Schema()
		opts.Quiet, opts.Verbose, opts.Timeout = f.opts.Quiet, f.opts.Verbose, f.opts.Timeout
		opts.RedisConfig, opts.RedisExplicit = f.redisConfig, f.redisFlagSet
		return err
	}, runF, runDemo)
	fl := cmd.Flags()
	fl.BoolVar(&opts.Keep, "keep", false, "keep Redis and the API running until Ctrl-C")
	fl.IntVar(&opts.SeedProducts, "seed-products", 200, "products in the demo catalog")
	fl.IntVarP(&opts.Requests, "requests", "n", 200, "warm requests per endpoint in the bench")
	fl.IntVar(&opts.ColdSamples, "cold-samples", 3, "cold samples per endpoint in the bench")
	fl.IntVarP(&opts.Concurrency, "concurrency", "c", 4, "warm requests in flight in the bench")
	return cmd
}

// demoRequestTimeout bounds each request to the demo's own API.
const demoRequestTimeout = 10 * time.Second

func runDemo(ctx context.Context, opts *demoOptions) error {
	out := opts.IO.Out
	if opts.Quiet {
		out = io.Discard
	}
	sb, err := opts.start(ctx)
	if err != nil {
		return err
	}
	defer sb.Close()
	sec, err := sb.WriteSecrets()
	if err != nil {
		return err
	}
	defer sec.Remove()
	world := render.DemoWorld{Sandbox: sb, Schema: opts.Schema, SeedProducts: opts.SeedProducts,
		PasswordFile: sec.PasswordFile, TokenFile: sec.TokenFile}
	render.DemoStarted(out, world)

	api := sb.API.URL
	client, _ := catalogapi.NewClient(api)
	render.DemoSection(out, "check")
	rep, err := opts.check(ctx, sb, client)
	if err != nil {
		return err
	}

	render.DemoSection(out, fmt.Sprintf("bench (%d cold samples, %d warm requests at concurrency %d per endpoint)", opts.ColdSamples, opts.Requests, opts.Concurrency))
	suite := bench.Suite{API: api, Config: bench.Config{
		Client: client, Redis: sb.Redis.Client, Schema: opts.Schema,
		ColdSamples: opts.ColdSamples, Requests: opts.Requests, Concurrency: opts.Concurrency, Timeout: demoRequestTimeout,
	}}
	brep, err := suite.Run(ctx)
	if err != nil {
		return err
	}
	if !opts.Quiet {
		if err := render.BenchSummary(opts.IO, brep); err != nil {
			return err
		}
	}

	render.DemoNext(out, world, opts.Keep)
	if opts.Keep {
		render.DemoSection(out, "running until Ctrl-C")
		<-ctx.Done()
		// Stopping is the point of Ctrl-C here: exit 0 once everything is down.
		opts.note("stopping the API and Redis")
		return nil
	}
	return rep.Err()
}

// check runs the checklist against the sandbox, its steps printed as they
// end. Its own Redis, or one given with --redis to be cleared: no question.
func (o *demoOptions) check(ctx context.Context, sb *sandbox.Sandbox, client *http.Client) (check.Report, error) {
	api := catalogapi.New(sb.API.URL, client).WithTimeout(demoRequestTimeout).
		WithHeader(http.Header{"User-Agent": {build.UserAgent()}})
	cfg := check.Config{Redis: func(context.Context) (*redisconn.Conn, error) { return sb.Redis, nil },
		Schema: o.Schema, Groups: o.Schema.Selection(), API: api, AdminToken: sb.API.AdminToken}
	pr := render.NewCheckPrinter(o.IO, !o.Quiet)
	rep, err := check.Run(ctx, cfg, pr.Step)
	pr.Summary(rep)
	return rep, err
}

func (o *demoOptions) note(msg string) {
	if !o.Quiet {
		fmt.Fprintln(o.IO.ErrOut, msg)
	}
}

// start starts the sandbox: --redis when given and reachable, else a private
// redis-server, else the embedded one; the catalog API over it.
func (o *demoOptions) start(ctx context.Context) (*sandbox.Sandbox, error) {
	cfg, err := o.RedisConfig()
	if err != nil {
		return nil, err
	}
	so := sandbox.Options{Timeout: o.Timeout, RedisLogger: cfg.Logger, SeedProducts: o.SeedProducts, Schema: o.Schema,
		Logger: slog.New(slog.DiscardHandler)}
	if o.RedisExplicit {
		so.Redis = &cfg
	}
	if o.Verbose {
		so.Logger = slog.New(slog.NewTextHandler(o.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	sb, err := sandbox.Start(ctx, so)
	if err != nil {
		return nil, err
	}
	if !o.Quiet {
		for _, n := range sb.Notes {
			o.IO.Notef("%s", n)
		}
	}
	return sb, nil
}
