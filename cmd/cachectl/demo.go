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
)

type demoOptions struct {
	IO    *iostreams.IOStreams
	Quiet bool
	// RedisConfig is the connection of --redis; RedisExplicit says whether
	// --redis was given on the command line (only then is it used, and cleared).
	RedisConfig   func() (redisconn.Config, error)
	RedisExplicit bool

	Keep    bool
	Sandbox sandbox.Options // its Redis is chosen when it starts
	Bench   bench.Config    // its client and Redis are the sandbox's
}

func newDemoCmd(f *factory, runF func(context.Context, *demoOptions) error) *cobra.Command {
	opts := &demoOptions{IO: f.IO, Bench: bench.Config{Timeout: demoRequestTimeout}}
	cmd := newPlainCommand(f, "demo", "See everything work on this machine with one command", opts, func(*cobra.Command) error {
		if _, err := f.opts.FormatOf(output.Table); err != nil {
			return err
		}
		if err := option.First(option.InRange("seed-products", opts.Sandbox.SeedProducts, 2, catalog.MaxSeedProducts), opts.Bench.Validate()); err != nil {
			return err
		}
		var err error
		opts.Sandbox.Schema, err = f.Schema()
		opts.Bench.Schema, opts.Sandbox.Timeout, opts.Quiet = opts.Sandbox.Schema, f.opts.Timeout, f.opts.Quiet
		opts.Sandbox.Logger = slog.New(slog.DiscardHandler)
		if f.opts.Verbose {
			opts.Sandbox.Logger = slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
		}
		opts.RedisConfig, opts.RedisExplicit = f.redisConfig, f.redisFlagSet
		return err
	}, runF, runDemo)
	fl := cmd.Flags()
	fl.BoolVar(&opts.Keep, "keep", false, "keep Redis and the API running until Ctrl-C")
	fl.IntVar(&opts.Sandbox.SeedProducts, "seed-products", 200, "products in the demo catalog")
	fl.IntVarP(&opts.Bench.Requests, "requests", "n", 200, "warm requests per endpoint in the bench")
	fl.IntVar(&opts.Bench.ColdSamples, "cold-samples", 3, "cold samples per endpoint in the bench")
	fl.IntVarP(&opts.Bench.Concurrency, "concurrency", "c", 4, "warm requests in flight in the bench")
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
	world := render.DemoWorld{Sandbox: sb, Schema: opts.Sandbox.Schema, SeedProducts: opts.Sandbox.SeedProducts,
		PasswordFile: sec.PasswordFile, TokenFile: sec.TokenFile}
	render.DemoStarted(out, world)

	client, _ := catalogapi.NewClient(sb.API.URL)
	render.DemoSection(out, "check")
	rep, err := opts.check(ctx, sb, client)
	if err != nil {
		return err
	}

	b := opts.Bench
	render.DemoSection(out, fmt.Sprintf("bench (%d cold samples, %d warm requests at concurrency %d per endpoint)", b.ColdSamples, b.Requests, b.Concurrency))
	b.Client, b.Redis = client, sb.Redis.Client
	brep, err := bench.Suite{API: sb.API.URL, Config: b}.Run(ctx)
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
		if !opts.Quiet {
			fmt.Fprintln(opts.IO.ErrOut, "stopping the API and Redis")
		}
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
		Schema: o.Sandbox.Schema, Groups: o.Sandbox.Schema.Selection(), API: api, AdminToken: sb.API.AdminToken}
	pr := render.NewCheckPrinter(o.IO, !o.Quiet)
	rep, err := check.Run(ctx, cfg, pr.Step)
	pr.Summary(rep)
	return rep, err
}

// start starts the sandbox: --redis when given and reachable, else a private
// redis-server, else the embedded one; the catalog API over it.
func (o *demoOptions) start(ctx context.Context) (*sandbox.Sandbox, error) {
	cfg, err := o.RedisConfig()
	if err != nil {
		return nil, err
	}
	so := o.Sandbox
	so.RedisLogger = cfg.Logger
	if o.RedisExplicit {
		so.Redis = &cfg
	}
	sb, err := sandbox.Start(ctx, so)
	if err == nil && !o.Quiet {
		for _, n := range sb.Notes {
			o.IO.Notef("%s", n)
		}
	}
	return sb, err
}
