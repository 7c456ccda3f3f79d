package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/localredis"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
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
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "See everything work on this machine with one command",
		Long: `Start a Redis and the reference catalog API, run check and a short bench
against them, and print the results and the commands to try next with the
real addresses. Everything it starts is stopped, and its temporary files are
removed, when it ends.

Redis, in this order:
  --redis URL    when given on the command line and reachable; the demo then
                 clears the schema's groups in it (as check does)
  redis-server   from PATH, private: a free port, a temporary directory,
                 no persistence, a random password
  embedded       an in-process Redis, when there is no redis-server; it keeps
                 no INFO statistics (hit rate, memory, evictions, ops/s)

The password of a Redis the demo starts, and the API's admin token, are never
printed: they are in private files, which the commands to try next read.

A Redis the demo did not start is never touched unless given with --redis.
With --keep everything stays up until Ctrl-C (exit 0), for top, keys, clear
and bench in another terminal.`,
		Example: `  # a newcomer: the one-command tour
  cachectl demo
  # keep it running and watch it live from another terminal
  cachectl demo --keep
  # in CI: the whole chain, against the job's Redis service
  cachectl demo --redis redis://localhost:6379/15 -q`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := f.format(output.Table); err != nil {
				return err
			}
			if err := firstErr(
				inRange("seed-products", opts.SeedProducts, 2, maxSeedProducts),
				inRange("requests", opts.Requests, 1, maxRequests),
				inRange("cold-samples", opts.ColdSamples, 1, maxColdSamples),
				inRange("concurrency", opts.Concurrency, 1, maxConcurrency),
			); err != nil {
				return err
			}
			var err error
			if opts.Schema, err = f.Schema(); err != nil {
				return err
			}
			opts.Quiet, opts.Verbose, opts.Timeout = f.opts.Quiet, f.opts.Verbose, f.opts.Timeout
			opts.RedisConfig = f.redisConfig
			opts.RedisExplicit = f.redisFlagSet
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDemo(cmd.Context(), opts)
		},
	}
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

// demoRedis is the Redis the demo runs on, and how to let go of it.
type demoRedis struct {
	conn  *redisconn.Conn
	cfg   redisconn.Config
	url   string // printable
	kind  string // "given", "redis-server", "embedded"
	local *localredis.Server
}

func (d *demoRedis) close() {
	if d.conn != nil {
		d.conn.Close()
	}
	if d.local != nil {
		d.local.Close()
	}
}

func runDemo(ctx context.Context, opts *demoOptions) (err error) {
	out := opts.IO.Out
	if opts.Quiet {
		out = io.Discard
	}
	say := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	note := func(format string, a ...any) {
		if !opts.Quiet {
			fmt.Fprintf(opts.IO.ErrOut, format+"\n", a...)
		}
	}

	rd, err := demoStartRedis(ctx, opts, note)
	if err != nil {
		return err
	}
	defer rd.close()
	// Secrets go to private files, never onto the screen: the admin token, and
	// the password of a Redis the demo started.
	secrets, err := os.MkdirTemp("", "cachectl-demo-secrets-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(secrets)
	passwordFile := ""
	if rd.local != nil {
		passwordFile = filepath.Join(secrets, "redis-password")
		if err := os.WriteFile(passwordFile, []byte(rd.local.Password+"\n"), 0o600); err != nil {
			return err
		}
	}
	switch rd.kind {
	case "given":
		say("redis:  %s (given with --redis: the demo clears its keys under %s)", rd.url, opts.Schema.Namespace())
	case "redis-server":
		say("redis:  a private redis-server on %s (data in %s, removed on exit)", rd.url, rd.local.Dir)
	default:
		say("redis:  an embedded in-process Redis on %s (no redis-server on PATH)", rd.url)
		say("        it keeps no INFO statistics: hit rate, memory, evictions and ops/s stay")
		say("        empty in check, bench, stats and top; install redis-server to see them")
	}
	if passwordFile != "" {
		say("        password in %s (the commands below pass it with --password-file)", passwordFile)
	}

	// The reference catalog, in process, on a free port.
	api, token, stopAPI, err := demoStartAPI(ctx, opts, rd)
	if err != nil {
		return err
	}
	defer stopAPI()
	say("api:    the reference catalog on %s (%d products, in memory)", api, opts.SeedProducts)
	tokenFile := filepath.Join(secrets, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return err
	}

	client, _ := warm.NewClient(api)
	say("\ncheck")
	copts := &checkOptions{
		IO: opts.IO, Redis: func(context.Context) (*redisconn.Conn, error) { return rd.conn, nil },
		Schema: opts.Schema, Client: client, API: api, Format: output.Table, Quiet: opts.Quiet,
		AdminToken: token, RequestTimeout: demoRequestTimeout,
		// Its own Redis, or one given with --redis to be cleared: no question.
		Yes: true,
	}
	pr := newCheckPrinter(copts)
	rep, cerr := checkRun(ctx, copts, pr.step)
	pr.summary(rep)
	if cerr != nil {
		return cerr
	}

	say("\nbench (%d cold samples, %d warm requests at concurrency %d per endpoint)", opts.ColdSamples, opts.Requests, opts.Concurrency)
	brep, err := demoBench(ctx, opts, rd, client, api)
	if err != nil {
		return err
	}
	if !opts.Quiet {
		if err := printDemoBench(opts.IO, brep); err != nil {
			return err
		}
	}

	if opts.Keep {
		say("\ntry next, in another terminal:")
	} else {
		say("\ntry next (cachectl demo --keep keeps these addresses up):")
	}
	for _, line := range demoNextSteps(opts.Schema, rd.url, passwordFile, api.String(), tokenFile) {
		say("  %s", line)
	}
	if opts.Keep {
		say("\nrunning until Ctrl-C")
		<-ctx.Done()
		// Stopping is the point of Ctrl-C here: exit 0 once everything is down.
		note("stopping the API and Redis")
		return nil
	}
	if s, failed := rep.firstFailure(); failed {
		return fmt.Errorf("check failed at step %s: %s", s.Name, s.Detail)
	}
	return nil
}

// demoStartRedis picks the Redis: --redis when given and reachable, else a
// private redis-server, else the embedded one.
func demoStartRedis(ctx context.Context, opts *demoOptions, note func(string, ...any)) (*demoRedis, error) {
	cfg, err := opts.RedisConfig()
	if err != nil {
		return nil, err
	}
	if opts.RedisExplicit {
		conn, err := redisconn.Open(ctx, cfg)
		if err == nil {
			return &demoRedis{conn: conn, cfg: cfg, url: conn.Addr, kind: "given"}, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		note("note: %s; starting a private Redis instead", firstLine(err.Error()))
	}
	local, err := localredis.StartProcess(ctx)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, localredis.ErrNotFound):
		if local, err = localredis.StartEmbedded(); err != nil {
			return nil, err
		}
	default:
		note("note: redis-server would not start (%s); using the embedded Redis", firstLine(err.Error()))
		if local, err = localredis.StartEmbedded(); err != nil {
			return nil, err
		}
	}
	lcfg := redisconn.Config{URL: local.URL(), Password: local.Password, Timeout: opts.Timeout, Logger: cfg.Logger}
	conn, err := redisconn.Open(ctx, lcfg)
	if err != nil {
		local.Close()
		return nil, err
	}
	return &demoRedis{conn: conn, cfg: lcfg, url: local.URL(), kind: string(local.Kind), local: local}, nil
}

// demoStartAPI serves the reference catalog on a free port of 127.0.0.1 with a
// fresh admin token; stop shuts it down and waits for it.
func demoStartAPI(ctx context.Context, opts *demoOptions, rd *demoRedis) (api *url.URL, token string, stop func(), err error) {
	store, err := catalog.Open(ctx, catalog.StoreConfig{SeedProducts: opts.SeedProducts})
	if err != nil {
		return nil, "", nil, err
	}
	ropt, err := redisconn.Options(rd.cfg)
	if err != nil {
		store.Close()
		return nil, "", nil, err
	}
	rdb := redisconn.NewClient(catalog.RedisOptions(ropt, catalog.DefaultRedisTimeout), rd.conn.Cluster)
	var b [16]byte
	rand.Read(b[:])
	token = hex.EncodeToString(b[:])
	logger := slog.New(slog.DiscardHandler)
	if opts.Verbose {
		logger = slog.New(slog.NewTextHandler(opts.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	srv := catalog.NewServer(catalog.Config{
		Store: store, Redis: rdb, Schema: opts.Schema, AdminToken: token,
		RedisTimeout: catalog.DefaultRedisTimeout, Logger: logger,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		rdb.Close()
		store.Close()
		return nil, "", nil, fmt.Errorf("cannot listen for the demo API: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(sctx, ln); err != nil {
			logger.Error("demo api", "err", err)
		}
	}()
	stop = func() {
		cancel()
		<-done
		rdb.Close()
		store.Close()
	}
	api = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	return api, token, stop, nil
}

func demoBench(ctx context.Context, opts *demoOptions, rd *demoRedis, client *http.Client, api *url.URL) (bench.Report, error) {
	rep := bench.Report{Schema: bench.SchemaV1, API: api.String(), Endpoints: []bench.Result{}, Complete: true}
	eps, err := bench.DefaultEndpoints(ctx, client, api, demoRequestTimeout)
	if err != nil {
		return rep, err
	}
	cfg := bench.Config{
		Client: client, Redis: rd.conn.Client, Schema: opts.Schema,
		ColdSamples: opts.ColdSamples, Requests: opts.Requests, Concurrency: opts.Concurrency, Timeout: demoRequestTimeout,
	}
	for _, ep := range eps {
		res, err := bench.Run(ctx, cfg, ep)
		if err != nil {
			return rep, err
		}
		rep.Endpoints = append(rep.Endpoints, res)
	}
	return rep, nil
}

// printDemoBench is the short form of bench's table: what the cache buys per
// endpoint. As in bench, the speedup divides the cold and warm medians of
// pairs taken one request at a time; LOAD RPS is the load phase's.
func printDemoBench(ios *iostreams.IOStreams, rep bench.Report) error {
	tp := output.NewTable(ios, "ENDPOINT", "COLD P50", "WARM P50", "SPEEDUP", "LOAD RPS", "HIT RATIO", "DB Q COLD→WARM")
	f2 := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	na := func(v float64, s string) string {
		if v < 0 {
			return "n/a"
		}
		return s
	}
	for _, e := range rep.Endpoints {
		tp.AddRow(e.Name, f2(e.Cold.P50)+"ms", f2(e.WarmSerial.P50)+"ms", strconv.FormatFloat(e.Speedup, 'f', 1, 64)+"x",
			strconv.FormatFloat(e.Warm.RPS, 'f', 0, 64), na(e.HitRatio, f2(e.HitRatio)),
			na(e.Cold.DBQueries, strconv.FormatFloat(e.Cold.DBQueries, 'f', 1, 64))+"→"+na(e.Warm.DBQueries, strconv.FormatFloat(e.Warm.DBQueries, 'f', 1, 64)))
	}
	return tp.Render()
}

// demoNextSteps are the commands to try against the demo, with its addresses
// and the files that hold its secrets (passwordFile is "" for a Redis given
// with --redis: the user's own settings reach it).
func demoNextSteps(s keyspace.Schema, redisURL, passwordFile, api, tokenFile string) []string {
	schema := ""
	if s.Prefix != keyspace.DefaultPrefix {
		schema += " --prefix " + s.Prefix
	}
	if s.Version != keyspace.DefaultVersion {
		schema += " --key-version " + strconv.Itoa(s.Version)
	}
	r := " --redis " + redisURL
	if passwordFile != "" {
		r += " --password-file " + passwordFile
	}
	r += schema
	return []string{
		"cachectl top" + r + " --api " + api,
		"cachectl keys" + r,
		"cachectl stats" + r,
		"cachectl clear --products --dry-run" + r,
		"cachectl bench" + r + " --api " + api,
		"CACHECTL_ADMIN_TOKEN=$(cat " + tokenFile + ") cachectl check" + r + " --api " + api,
		"curl -si " + strings.TrimSuffix(api, "/") + "/api/products/1/ | grep X-Cache",
	}
}
