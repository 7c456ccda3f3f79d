package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"time"

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

	URLs           string // file, or "-" for stdin
	PlanFile       string // file, or "-" for stdin
	Sitemap        string
	Limit          int
	Exclude        string
	Concurrency    int
	QPS            float64
	Retries        int
	RequestTimeout time.Duration
	MaxFailures    int
	FailFast       bool
	Verify         bool
	VerifyForced   bool // --verify given explicitly: an unreachable Redis is then an error
	Every          time.Duration
	Deep           bool

	warned []string // the warnings last printed, which a round on a schedule does not repeat
}

func newWarmCmd(f *factory, runF func(context.Context, *warmOptions) error) *cobra.Command {
	opts := &warmOptions{}
	cmd := &cobra.Command{
		Use:   "warm",
		Short: "Fill the cache through the catalog API, and prove it in Redis",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.common(&opts.common, output.Table, output.JSON); err != nil {
				return err
			}
			opts.Verbose = f.opts.Verbose
			if err := f.apiTarget(&opts.apiTarget); err != nil {
				return err
			}
			opts.VerifyForced = cmd.Flags().Changed("verify") && opts.Verify
			if err := opts.validate(); err != nil {
				return err
			}
			return dispatch(cmd.Context(), opts, runF, runWarm)
		},
	}
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
	return cmd
}

func (o *warmOptions) validate() error {
	switch {
	case countSet(o.URLs, o.Sitemap, o.PlanFile) > 1:
		return usageErrorf("--urls, --sitemap and --plan cannot be used together")
	case o.Concurrency < 1 || o.Concurrency > maxConcurrency:
		return inRange("concurrency", o.Concurrency, 1, maxConcurrency)
	case o.Retries > maxRetries:
		return inRange("retries", o.Retries, 0, maxRetries)
	case o.QPS < 0:
		return usageErrorf("--qps must not be negative")
	case o.Retries < 0:
		return usageErrorf("--retries must not be negative")
	case o.RequestTimeout <= 0:
		return usageErrorf("--request-timeout must be positive")
	case o.MaxFailures < 0:
		return usageErrorf("--max-failures must not be negative")
	case o.Every < 0:
		return usageErrorf("--every must be positive")
	case (o.Limit != 0 || o.Exclude != "") && o.Sitemap == "":
		return usageErrorf("--limit and --exclude go with --sitemap")
	case o.Limit < 0:
		return usageErrorf("--limit must not be negative")
	case o.Deep && countSet(o.URLs, o.Sitemap, o.PlanFile) > 0:
		return usageErrorf("--deep goes with the built-in plan, not --urls, --sitemap or --plan")
	}
	if o.Exclude != "" {
		if _, err := regexp.Compile(o.Exclude); err != nil {
			return usageErrorf("--exclude: %v", err)
		}
	}
	if o.FailFast {
		o.MaxFailures = 1
	}
	return nil
}

func (o *warmOptions) config() warm.Config {
	return warm.Config{
		Client:         o.Client,
		Concurrency:    o.Concurrency,
		QPS:            o.QPS,
		Retries:        o.Retries,
		RequestTimeout: o.RequestTimeout,
		MaxFailures:    o.MaxFailures,
		Header:         http.Header{"User-Agent": {"cachectl/" + build.Get().Version}},
	}
}

func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}

// plan builds the round's plan from --urls, --plan or --sitemap; nil is the
// built-in plan, which warm.Round discovers itself.
func (o *warmOptions) plan() func(context.Context, warm.Config) (warm.Plan, error) {
	if countSet(o.URLs, o.PlanFile, o.Sitemap) == 0 {
		return nil
	}
	return o.readPlan
}

// readPlan builds a plan afresh each round: files are read again, a plan
// file's lists discovered again.
func (o *warmOptions) readPlan(ctx context.Context, cfg warm.Config) (warm.Plan, error) {
	switch {
	case o.URLs != "":
		var reqs []warm.Request
		err := o.readInput("--urls", o.URLs, func(r io.Reader) (err error) {
			reqs, err = warm.ParseURLList(r, o.API)
			return err
		})
		return warm.Plan{Source: "urls", Requests: reqs}, err
	case o.PlanFile != "":
		var spec warm.Spec
		err := o.readInput("--plan", o.PlanFile, func(r io.Reader) (err error) {
			spec, err = warm.ParseSpec(r)
			return err
		})
		if err != nil {
			return warm.Plan{}, err
		}
		return warm.Discover(ctx, cfg, o.API, spec)
	}
	u, err := warm.Resolve(o.API, o.Sitemap)
	if err != nil {
		return warm.Plan{}, usageErrorf("--sitemap: %v", err)
	}
	var exclude *regexp.Regexp
	if o.Exclude != "" {
		exclude = regexp.MustCompile(o.Exclude)
	}
	reqs, err := warm.FetchSitemap(ctx, cfg.Client, u, warm.SitemapOptions{Limit: o.Limit, Exclude: exclude, RequestTimeout: o.RequestTimeout})
	return warm.Plan{Source: "sitemap", Requests: reqs}, err
}

// readInput hands parse the file, or stdin for "-"; an InputError it
// returns names the file.
func (o *warmOptions) readInput(flag, file string, parse func(io.Reader) error) error {
	var r io.Reader = o.IO.In
	name := "stdin"
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return usageErrorf("%s: %w", flag, err)
		}
		defer fh.Close()
		r, name = fh, file
	}
	err := parse(r)
	var ie *warm.InputError
	if errors.As(err, &ie) {
		ie.Source = name
	}
	return err
}

func runWarm(ctx context.Context, opts *warmOptions) error {
	conn, err := opts.verifyConn(ctx)
	if err != nil {
		return err
	}
	if opts.Every > 0 {
		return warmOnSchedule(ctx, opts, conn)
	}
	rep, err := warm.Round(ctx, opts.round(conn, true))
	if rep != nil {
		if perr := printWarm(opts, rep); perr != nil {
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
	return nil
}

// verifyConn opens Redis for --verify; nil when not verifying, or when Redis
// is unreachable and --verify was not given explicitly.
func (o *warmOptions) verifyConn(ctx context.Context) (*redisconn.Conn, error) {
	if !o.Verify {
		return nil, nil
	}
	conn, err := o.Redis(ctx)
	switch {
	case err == nil:
		return conn, nil
	case o.VerifyForced || ctx.Err() != nil:
		return nil, err
	}
	if !o.Quiet {
		o.IO.Notef("not verifying in Redis: %s", firstLine(err.Error()))
	}
	return nil, nil
}

// warmOnSchedule runs a round every --every, one line each, until interrupted.
func warmOnSchedule(ctx context.Context, opts *warmOptions, conn *redisconn.Conn) error {
	for round := 1; ; round++ {
		rep, err := warm.Round(ctx, opts.round(conn, false))
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !warm.Transient(err):
			return err
		case err != nil:
			// The API failing is this round's news; the schedule goes on.
			render.WarmRoundLine(opts.IO, time.Now(), round, firstLine(err.Error()))
		case !opts.Quiet:
			render.WarmRoundLine(opts.IO, time.Now(), round, rep.Summary())
		}
		t := time.NewTimer(opts.Every)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// round says what one warm.Round does, with its progress on the streams
// (a bar only when interactive: a schedule prints one line per round).
func (o *warmOptions) round(conn *redisconn.Conn, interactive bool) warm.RoundConfig {
	progress := &render.WarmProgress{IO: o.IO, Bar: interactive && o.IO.IsStderrTTY() && !o.Quiet,
		Verbose: o.Verbose && o.Format != output.JSON}
	cfg := o.config()
	cfg.OnResult = progress.Add
	rc := warm.RoundConfig{Config: cfg, API: o.API, Schema: o.Schema, Plan: o.plan(), Deep: o.Deep}
	if conn != nil {
		rc.Redis = conn.Client
	}
	first := true
	rc.OnPlan = func(p warm.Plan) {
		if first {
			if !o.Quiet {
				render.WarmWarnings(o.IO, p.Warnings, o.warned)
			}
			o.warned, first = p.Warnings, false
		}
		progress.Plan(p)
	}
	rc.OnDone = progress.Done
	return rc
}

func printWarm(opts *warmOptions, r *warm.RoundReport) error {
	switch {
	case opts.Format == output.JSON:
		return output.WriteJSON(opts.IO, r)
	case opts.Quiet:
		return nil
	}
	return render.Warm(opts.IO, r)
}
