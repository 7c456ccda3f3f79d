package main

import (
	"context"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/build"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/warm"
)

type warmOptions struct {
	common
	apiTarget
	Verbose bool

	warm.Job
	Observe bool

	observing *warm.Observing

	warned []string // the warnings last printed, which a round on a schedule does not repeat
}

func newWarmCmd(f *factory, runF func(context.Context, *warmOptions) error) *cobra.Command {
	opts := &warmOptions{}
	cmd := newCommand(f, "warm", "Fill the cache through the catalog API, and prove it in Redis", opts, []output.Format{output.Table, output.JSON}, func(cmd *cobra.Command) error {
		opts.Verbose = f.opts.Verbose
		if err := f.apiTarget(&opts.apiTarget); err != nil {
			return err
		}
		opts.VerifyForced = cmd.Flags().Changed("verify") && opts.Verify
		opts.In, opts.Job.Client = opts.IO.In, opts.Client
		opts.Header = http.Header{"User-Agent": {build.UserAgent()}}
		return opts.Validate()
	}, runF, runWarm)
	fl := cmd.Flags()
	fl.StringVar(&opts.URLs, "urls", "", "warm the URLs or paths in FILE, one per line (- for stdin)")
	fl.StringVar(&opts.PlanFile, "plan", "", "warm the plan FILE describes (YAML: lists to read, pages to build from their items; - for stdin)")
	fl.StringVar(&opts.Sitemap, "sitemap", "", "warm the pages of a sitemap or sitemap index (gzip too)")
	fl.IntVar(&opts.Limit, "limit", 0, "with --sitemap: at most N pages")
	fl.StringVar(&opts.Exclude, "exclude", "", "with --sitemap: skip pages whose URL matches this regular expression")
	fl.IntVarP(&opts.Concurrency, "concurrency", "c", 8, "requests in flight at most")
	fl.Float64Var(&opts.QPS, "qps", 0, "requests per second for the whole run, retries included (0: no limit)")
	fl.IntVar(&opts.Retries, "retries", 2, "retries after a transport error, 429 or 5xx")
	fl.DurationVar(&opts.RequestTimeout, "request-timeout", 10*time.Second, "timeout of each attempt")
	fl.IntVar(&opts.MaxFailures, "max-failures", 0, "stop after N URLs have failed (0: never)")
	fl.BoolVar(&opts.FailFast, "fail-fast", false, "stop at the first failed URL (same as --max-failures 1)")
	fl.BoolVar(&opts.Verify, "verify", true, "read Redis before and after, and check the expected keys exist (skipped when Redis is unreachable, unless given explicitly)")
	fl.DurationVar(&opts.Every, "every", 0, "repeat the plan on this schedule until interrupted, one summary line per round")
	fl.BoolVar(&opts.Deep, "deep", false, "also warm detail, variants and recommendations of the products the built-in plan saw")
	fl.BoolVar(&opts.Observe, "observe", true, "learn each URL's HIT/MISS and keys in Redis where the API does not send them (requests then go one at a time)")
	fl.Float64Var(&opts.MinCoverage, "min-coverage", 0, "exit 1 unless this share (0-1) of the planned URLs have their key in Redis with a TTL")
	return cmd
}

func runWarm(ctx context.Context, opts *warmOptions) error {
	conn, skipped, err := opts.VerifyConn(ctx, opts.Redis)
	if err != nil {
		return err
	}
	if skipped != nil && !opts.Quiet {
		opts.IO.Notef("not verifying in Redis: %s", firstLine(skipped.Error()))
	}
	if conn != nil && opts.Observe {
		if opts.observing, err = warm.NewObservingOf(ctx, conn.Client, opts.Schema); err != nil {
			return err
		}
	}
	if opts.Every > 0 {
		return warmOnSchedule(ctx, opts, conn)
	}
	rep, err := warm.Round(ctx, opts.round(conn, true))
	if rep != nil {
		if perr := render.WarmReport(opts.IO, opts.Format, opts.Quiet, rep); perr != nil {
			return perr
		}
	}
	if err != nil {
		return err
	}
	if rep.Verify.Checked && rep.Verify.KeysAfter == 0 && rep.OK > 0 && !opts.Quiet {
		// The API answered, yet nothing is cached where we look.
		printElsewhere(ctx, opts.IO, conn, opts.Schema)
	}
	if !rep.Succeeded() {
		return errFailed
	}
	return rep.CoverageAtLeast(opts.MinCoverage)
}

// warmOnSchedule runs a round every --every, one line each, until interrupted.
func warmOnSchedule(ctx context.Context, opts *warmOptions, conn *redisconn.Conn) error {
	next := func() warm.RoundConfig { return opts.round(conn, false) }
	return warm.Every(ctx, opts.Every, next, render.WarmRounds(opts.IO, opts.Quiet))
}

// round says what one warm.Round does, with its progress on the streams
// (a bar only when interactive: a schedule prints one line per round).
func (o *warmOptions) round(conn *redisconn.Conn, interactive bool) warm.RoundConfig {
	progress := &render.WarmProgress{IO: o.IO, Bar: interactive && o.IO.IsStderrTTY() && !o.Quiet,
		Verbose: o.Verbose && o.Format != output.JSON}
	if !o.Quiet {
		progress.Warned = &o.warned
	}
	var rdb redis.UniversalClient
	if conn != nil {
		rdb = conn.Client
	}
	rc := o.Round(o.API, o.Schema, rdb)
	rc.Config.OnResult, rc.Config.Observe = progress.Add, o.observing
	rc.OnPlan = progress.Plan
	rc.OnDone = progress.Done
	return rc
}
