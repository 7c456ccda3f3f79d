package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/keyspace"
)

const envAdminToken = "CACHECTL_ADMIN_TOKEN"

type serveOptions struct {
	IO     *iostreams.IOStreams
	Logger *slog.Logger
	// Redis builds the (not yet connected) client; nil means no cache.
	Redis  func(ctx context.Context, timeout time.Duration) (redis.UniversalClient, string, error)
	Schema keyspace.Schema
	Quiet  bool

	Listen       string
	DB           string
	SeedProducts int
	AdminToken   string
	NoCache      bool
	DBLatency    time.Duration
	CacheTimeout time.Duration
	// ShutdownTimeout bounds a graceful shutdown, replaying what Redis missed included.
	ShutdownTimeout time.Duration
	// ClearArgs point `cachectl clear` at the same Redis (clearArgs).
	ClearArgs []string

	// ready, when set (tests), receives the bound address once listening.
	ready func(addr string)
}

func newServeCmd(f *factory, runF func(context.Context, *serveOptions) error) *cobra.Command {
	opts := &serveOptions{IO: f.IO}
	cmd := newPlainCommand("serve", "Run the reference catalog API, cached in Redis like the Django app", opts,
		func(cmd *cobra.Command) error { return opts.complete(f, cmd.Flags().Changed("admin-token")) }, runF, runServe)
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:8000", "address to listen on")
	fl.StringVar(&opts.DB, "db", "", "SQLite file to keep the catalog in (default: in memory)")
	fl.IntVar(&opts.SeedProducts, "seed-products", catalog.DefaultSeedProducts, "products to create in an empty catalog")
	fl.StringVar(&opts.AdminToken, "admin-token", "", "token that writes must present (unsafe on the command line: prefer "+envAdminToken+")")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "serve every read from the database, still invalidating on writes")
	fl.DurationVar(&opts.DBLatency, "db-latency", 0, "simulated delay added to each database query (simulation, off by default)")
	fl.DurationVar(&opts.CacheTimeout, "cache-timeout", catalog.DefaultRedisTimeout, "longest a request waits for Redis before serving from the database")
	fl.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", catalog.DefaultShutdownTimeout, "longest a graceful shutdown takes: requests in flight, then invalidations Redis missed")
	return cmd
}

// complete checks the flags and fills in what comes from the factory: the
// admin token from the environment, the schema, the Redis dialer.
func (o *serveOptions) complete(f *factory, tokenFlag bool) error {
	if err := o.validate(); err != nil {
		return err
	}
	o.AdminToken = f.adminToken(tokenFlag, o.AdminToken)
	schema, err := f.Schema()
	if err != nil {
		return err
	}
	o.Schema, o.ClearArgs, o.Quiet, o.Logger = schema, clearArgs(&f.opts), f.opts.Quiet, serveLogger(f)
	o.Redis = func(ctx context.Context, timeout time.Duration) (redis.UniversalClient, string, error) {
		cfg, err := f.redisConfig()
		if err != nil {
			return nil, "", err
		}
		return catalog.DialRedis(ctx, cfg, f.opts.RedisURL, timeout)
	}
	return nil
}

func (o *serveOptions) validate() error {
	if err := option.InRange("seed-products", o.SeedProducts, 0, maxSeedProducts); err != nil {
		return err
	}
	if _, port, err := net.SplitHostPort(o.Listen); err != nil {
		return usageErrorf("--listen %q: want HOST:PORT: %v", o.Listen, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usageErrorf("--listen %q: the port must be a number from 0 to 65535", o.Listen)
	}
	if o.DBLatency < 0 || o.CacheTimeout <= 0 {
		return usageErrorf("--db-latency must be 0 or more and --cache-timeout positive")
	}
	if o.ShutdownTimeout <= 0 {
		return usageErrorf("--shutdown-timeout must be positive")
	}
	return nil
}

// clearArgs are the flags that point `cachectl clear` at the Redis serve
// uses, without a secret: the URL loses its credentials (the password comes
// from where serve's came from), and a password file is named, never read.
func clearArgs(o *globalOptions) []string {
	var args []string
	if u, err := url.Parse(o.RedisURL); err == nil && o.RedisURL != redisconn.DefaultURL {
		u.User = nil
		args = append(args, "--redis", u.String())
	}
	if o.Cluster {
		args = append(args, "--cluster")
	}
	for _, f := range []struct{ name, value string }{
		{"--user", o.User}, {"--password-file", o.PasswordFile}, {"--tls-ca-cert", o.TLSCACert},
		{"--tls-cert", o.TLSCert}, {"--tls-key", o.TLSKey}, {"--tls-server-name", o.TLSServerName},
	} {
		if f.value != "" {
			args = append(args, f.name, f.value)
		}
	}
	if o.TLSInsecure {
		args = append(args, "--tls-insecure")
	}
	return args
}

// serveLogger writes the access log to stderr: info by default, debug with
// -v, errors only with -q.
func serveLogger(f *factory) *slog.Logger {
	f.Logger() // routes go-redis's own messages to slog
	return f.newLogger(slog.LevelInfo)
}

func runServe(ctx context.Context, opts *serveOptions) error {
	seed := opts.SeedProducts
	if seed == 0 {
		seed = -1 // the flag's 0 means an empty catalog
	}
	start := time.Now()
	store, err := catalog.Open(ctx, catalog.StoreConfig{Path: opts.DB, SeedProducts: seed, QueryLatency: opts.DBLatency})
	if err != nil {
		return err
	}
	defer store.Close()
	opts.Logger.Debug("catalog ready", "db", render.ServeDB(opts.DB), "took", time.Since(start))

	var rdb redis.UniversalClient
	addr := "none"
	if opts.Redis != nil {
		if rdb, addr, err = opts.Redis(ctx, opts.CacheTimeout); err != nil {
			return err
		}
		defer rdb.Close()
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		if err := rdb.Ping(pctx).Err(); err != nil {
			attrs := []any{"redis", addr, "err", err}
			if _, cluster := rdb.(*redis.ClusterClient); !cluster {
				attrs = append(attrs, "note", "taken for a single server: start with --cluster if it is a Redis Cluster")
			}
			opts.Logger.Warn("redis is not answering: serving from the database until it does", attrs...)
		}
		cancel()
	}
	srv := catalog.NewServer(catalog.Config{
		Store: store, Redis: rdb, Schema: opts.Schema, AdminToken: opts.AdminToken,
		NoCache: opts.NoCache, RedisTimeout: opts.CacheTimeout, Logger: opts.Logger,
		ShutdownTimeout: opts.ShutdownTimeout, ClearArgs: opts.ClearArgs,
	})
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", opts.Listen, err)
	}
	if !opts.Quiet {
		b := render.ServeBanner{Addr: ln.Addr().String(), DB: opts.DB, Redis: addr, Namespace: opts.Schema.Namespace(),
			NoCache: opts.NoCache, DBLatency: opts.DBLatency}
		if opts.AdminToken == "" {
			b.TokenEnv = envAdminToken
		}
		render.ServeListening(opts.IO, b)
	}
	if opts.ready != nil {
		opts.ready(ln.Addr().String())
	}
	return srv.Serve(ctx, ln)
}
