package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/render"
)

const envAdminToken = "CACHECTL_ADMIN_TOKEN"

type serveOptions struct {
	IO    *iostreams.IOStreams
	Quiet bool
	catalog.RunConfig
	SeedProducts int // 0: an empty catalog
}

func newServeCmd(f *factory, runF func(context.Context, *serveOptions) error) *cobra.Command {
	opts := &serveOptions{IO: f.IO}
	cmd := newPlainCommand(f, "serve", "Run the reference catalog API, cached in Redis like the Django app", opts,
		func(cmd *cobra.Command) error { return opts.complete(f, cmd.Flags().Changed("admin-token")) }, runF, runServe)
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:8000", "address to listen on")
	fl.StringVar(&opts.Store.Path, "db", "", "SQLite file to keep the catalog in (default: in memory)")
	fl.IntVar(&opts.SeedProducts, "seed-products", catalog.DefaultSeedProducts, "products to create in an empty catalog")
	fl.StringVar(&opts.AdminToken, "admin-token", "", "token that writes must present (unsafe on the command line: prefer "+envAdminToken+")")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "serve every read from the database, still invalidating on writes")
	fl.DurationVar(&opts.Store.QueryLatency, "db-latency", 0, "simulated delay added to each database query (simulation, off by default)")
	fl.DurationVar(&opts.HitLatency, "hit-latency", 0, "simulated delay added to each cache HIT (simulation: a slower warm path, to test regression gates)")
	_ = fl.MarkHidden("hit-latency")
	fl.DurationVar(&opts.RedisTimeout, "cache-timeout", catalog.DefaultRedisTimeout, "longest a request waits for Redis before serving from the database")
	fl.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", catalog.DefaultShutdownTimeout, "longest a graceful shutdown takes: requests in flight, then invalidations Redis missed")
	return cmd
}

// complete checks the flags and fills in what comes from the factory: the
// admin token from the environment, the schema, the Redis dialer, the logger.
func (o *serveOptions) complete(f *factory, tokenFlag bool) error {
	seed, err := catalog.SeedFlag(o.SeedProducts)
	if err = option.First(err, o.Validate()); err != nil {
		return err
	}
	o.Store.SeedProducts, o.AdminToken = seed, f.adminToken(tokenFlag, o.AdminToken)
	if o.Schema, err = f.Schema(); err != nil {
		return err
	}
	// The access log goes to stderr: info by default, debug with -v, errors
	// only with -q; f.Logger routes go-redis's own messages to slog.
	f.Logger()
	o.ClearArgs, o.Quiet, o.Logger = f.opts.ServeClearArgs(), f.opts.Quiet, f.opts.Logger(f.IO.ErrOut, slog.LevelInfo)
	o.Dial = func(ctx context.Context) (redis.UniversalClient, string, error) {
		cfg, err := f.redisConfig()
		if err != nil {
			return nil, "", err
		}
		return catalog.DialRedis(ctx, cfg, f.opts.RedisURL, o.RedisTimeout)
	}
	return nil
}

func runServe(ctx context.Context, opts *serveOptions) error {
	opts.OnListen = func(addr net.Addr, cache string) {
		if opts.Quiet {
			return
		}
		render.ServeListening(opts.IO, render.ServeBannerOf(opts.RunConfig, addr.String(), cache, envAdminToken))
	}
	return catalog.Run(ctx, opts.RunConfig)
}
