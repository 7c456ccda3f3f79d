package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/build"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

type warmOptions struct {
	IO      *iostreams.IOStreams
	Redis   func(context.Context) (*redisconn.Conn, error)
	Schema  keyspace.Schema
	Client  *http.Client
	API     *url.URL
	Format  output.Format
	Verbose bool
	Quiet   bool

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

// warmReport is the JSON of `cachectl warm`.
type warmReport struct {
	Op         string            `json:"op"`
	API        string            `json:"api"`
	Source     string            `json:"source"`
	URLs       int               `json:"urls"`
	OK         int               `json:"ok"`
	Failed     int               `json:"failed"`
	Skipped    int               `json:"skipped"`
	Hits       int               `json:"hits"`
	Misses     int               `json:"misses"`
	Retries    int               `json:"retries"`
	DurationMs float64           `json:"duration_ms"`
	Results    []warm.Result     `json:"results"`
	Verify     warm.Verification `json:"verify"`
	// Warnings say where the API did not answer as the plan assumed.
	Warnings []string `json:"warnings"`
}

func newWarmCmd(f *factory, runF func(context.Context, *warmOptions) error) *cobra.Command {
	opts := &warmOptions{IO: f.IO, Redis: f.Redis}
	cmd := &cobra.Command{
		Use:   "warm",
		Short: "Fill the cache through the catalog API, and prove it in Redis",
		Long: `Request the pages whose responses the API caches, so that users find them
cached. The built-in plan is the one of the Django project's warmup_cache
command, discovered from the API: all categories, all colors, top 10 sellers,
top 10 new arrivals, top 20 popular products, filters for every main category,
and product lists for the top 5 categories by product count. --deep also
warms the detail, variants and recommendations of every product those lists
returned. --plan FILE describes another API's plan with the same discovery
steps (YAML: see the README); --urls and --sitemap warm other pages.

Where the API does not answer as the plan assumes, warm says so on stderr
(and in the JSON's warnings) and what it did instead: an ordering the API
ignored, categories without product_count. Where the plan cannot be carried
out (a list that is not a list, no main categories) it exits 1.

With Redis reachable, warm counts the cache's keys before and after and checks
that every key the plan names (and every key the server names in X-Cache-Key)
now exists with a TTL. Transport errors, 429 and 5xx are retried with backoff;
other 4xx and redirect loops are final. Exits 1 when a URL finally failed or
a key is missing.`,
		Example: `  # after a deploy or a cache clear (on call)
  cachectl warm --api https://catalog.internal
  # in CI, as JSON, failing the job on any error
  cachectl warm --json --fail-fast
  # your own pages, gently
  cachectl warm --urls pages.txt -c 4 --qps 20
  # another app's warm-up, discovered from its API
  cachectl warm --plan warm-plan.yaml
  # keep it warm, as a scheduler would (one line per round)
  cachectl warm --every 10m`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.format(output.Table, output.JSON)
			if err != nil {
				return err
			}
			opts.Format, opts.Verbose, opts.Quiet = fm, f.opts.Verbose, f.opts.Quiet
			if opts.API, opts.Client, err = f.API(); err != nil {
				return err
			}
			if opts.Schema, err = f.Schema(); err != nil {
				return err
			}
			opts.VerifyForced = cmd.Flags().Changed("verify") && opts.Verify
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWarm(cmd.Context(), opts)
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

// builtinHint follows an error about an API that does not answer as the
// built-in plan assumes.
const builtinHint = "if the API names or nests these differently, describe its warm-up in a file: cachectl warm --plan FILE (see the README)"

// plan builds the round's plan; the built-in plan and a plan file are
// discovered afresh each round, and files are read again.
func (o *warmOptions) plan(ctx context.Context, cfg warm.Config) (warm.Plan, error) {
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
	case o.Sitemap != "":
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
	plan, err := warm.BuiltinPlan(ctx, cfg, o.API)
	if errors.Is(err, warm.ErrShape) {
		err = hinted{err: err, hint: builtinHint}
	}
	return plan, err
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
	var (
		rdb  redis.UniversalClient
		conn *redisconn.Conn
	)
	if opts.Verify {
		var err error
		conn, err = opts.Redis(ctx)
		switch {
		case err == nil:
			rdb = conn.Client
		case opts.VerifyForced || ctx.Err() != nil:
			return err
		default:
			if !opts.Quiet {
				fmt.Fprintf(opts.IO.ErrOut, "note: not verifying in Redis: %s\n", firstLine(err.Error()))
			}
		}
	}
	if opts.Every == 0 {
		rep, err := warmRound(ctx, opts, rdb, true)
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
		if rep.Failed > 0 || len(rep.Verify.Missing) > 0 {
			return errFailed
		}
		return nil
	}
	// On a schedule: one line per round until interrupted.
	for round := 1; ; round++ {
		rep, err := warmRound(ctx, opts, rdb, false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			// The API failing is this round's news; the schedule goes on.
			if !errors.As(err, new(*warm.UnreachableError)) && !errors.As(err, new(*warm.RequestError)) && !errors.Is(err, warm.ErrShape) {
				return err
			}
			fmt.Fprintf(opts.IO.Out, "%s round %d: %s\n", time.Now().Format(time.RFC3339), round, firstLine(err.Error()))
		} else if !opts.Quiet {
			fmt.Fprintf(opts.IO.Out, "%s round %d: %s\n", time.Now().Format(time.RFC3339), round, summaryLine(rep))
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

// warmRound builds and runs the plan once, verifying in Redis when rdb is set.
// The report is returned even when the round was interrupted.
func warmRound(ctx context.Context, opts *warmOptions, rdb redis.UniversalClient, interactive bool) (*warmReport, error) {
	rep := &warmReport{Op: "warm", API: redact.URL(opts.API.String()), Results: []warm.Result{},
		Verify: warm.Verification{Missing: []string{}}, Warnings: []string{}}
	if rdb != nil {
		n, err := warm.CountKeys(ctx, rdb, opts.Schema)
		if err != nil {
			return nil, err
		}
		rep.Verify.KeysBefore = n
	}
	cfg := opts.config()
	plan, err := opts.plan(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rep.Source = plan.Source
	rep.Warnings = append(rep.Warnings, plan.Warnings...)
	if !opts.Quiet && !slices.Equal(plan.Warnings, opts.warned) {
		for _, w := range plan.Warnings {
			fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", w)
		}
	}
	opts.warned = plan.Warnings
	progress := newWarmProgress(opts, len(plan.Requests), interactive)
	cfg.OnResult = progress.add
	var seen []int64
	if opts.Deep {
		cfg.OnBody = func(_ warm.Request, body []byte) { seen = append(seen, warm.ProductIDs(body)...) }
	}
	res, runErr := warm.Run(ctx, cfg, plan)
	if runErr == nil && len(seen) > 0 {
		deep := warm.DeepPlan(opts.API, seen)
		progress.total += len(deep.Requests)
		cfg.OnBody = nil
		var more warm.Report
		more, runErr = warm.Run(ctx, cfg, deep)
		res = res.Append(more)
	}
	progress.done()
	rep.URLs, rep.OK, rep.Failed, rep.Skipped = res.URLs, res.OK, res.Failed, res.Skipped
	rep.Hits, rep.Misses, rep.Retries = res.Hits, res.Misses, res.Retries
	rep.DurationMs = ms(res.Duration)
	rep.Results = append(rep.Results, res.Results...)
	if runErr != nil {
		return rep, runErr
	}
	if rdb != nil {
		if rep.Verify.KeysAfter, err = warm.CountKeys(ctx, rdb, opts.Schema); err != nil {
			return rep, err
		}
		missing, err := warm.MissingKeys(ctx, rdb, opts.Schema, warm.ExpectedKeys(res.Results))
		if err != nil {
			return rep, err
		}
		rep.Verify.Checked = true
		rep.Verify.Missing = append(rep.Verify.Missing, missing...)
	}
	return rep, nil
}

func summaryLine(r *warmReport) string {
	s := fmt.Sprintf("%d urls, %d ok, %d failed, %d cached now, %d already hit, %d retries, %.0f ms",
		r.URLs, r.OK, r.Failed, r.Misses, r.Hits, r.Retries, r.DurationMs)
	if r.Verify.Checked {
		s += fmt.Sprintf(", keys %d -> %d", r.Verify.KeysBefore, r.Verify.KeysAfter)
		if len(r.Verify.Missing) > 0 {
			s += ", missing " + strings.Join(r.Verify.Missing, " ")
		}
	}
	return s
}

func printWarm(opts *warmOptions, r *warmReport) error {
	if opts.Format == output.JSON {
		return output.WriteJSON(opts.IO, r)
	}
	if opts.Quiet {
		return nil
	}
	ios := opts.IO
	if ios.IsStdoutTTY() {
		fmt.Fprintf(ios.Out, "warmed %d URLs of %s in %.2f s\n", r.URLs, r.API, r.DurationMs/1000)
	}
	tp := output.NewTable(ios)
	tp.AddRow("ok", strconv.Itoa(r.OK))
	tp.AddRow("failed", strconv.Itoa(r.Failed))
	if r.Skipped > 0 {
		tp.AddRow("skipped", strconv.Itoa(r.Skipped))
	}
	tp.AddRow("cached now (MISS)", strconv.Itoa(r.Misses))
	tp.AddRow("already cached (HIT)", strconv.Itoa(r.Hits))
	tp.AddRow("retries", strconv.Itoa(r.Retries))
	if !ios.IsStdoutTTY() {
		tp.AddRow("duration_ms", strconv.FormatFloat(r.DurationMs, 'f', 1, 64))
	}
	if r.Verify.Checked {
		tp.AddRow("keys before", strconv.FormatInt(r.Verify.KeysBefore, 10))
		tp.AddRow("keys after", strconv.FormatInt(r.Verify.KeysAfter, 10))
		missing := "none"
		if len(r.Verify.Missing) > 0 {
			missing = strings.Join(r.Verify.Missing, " ")
		}
		tp.AddRow("missing keys", missing)
	}
	if err := tp.Render(); err != nil {
		return err
	}
	for _, res := range r.Results {
		if !res.OK() {
			fmt.Fprintf(ios.ErrOut, "failed: %s: %s (%d attempts)\n", res.URL, res.Error, res.Attempts)
		}
	}
	return nil
}

// warmProgress shows a progress line on a terminal's stderr, and with -v one
// line per URL on stdout as each ends.
type warmProgress struct {
	opts          *warmOptions
	total, n, bad int
	start         time.Time
	bar           bool
}

func newWarmProgress(opts *warmOptions, total int, interactive bool) *warmProgress {
	return &warmProgress{opts: opts, total: total, start: time.Now(),
		bar: interactive && opts.IO.IsStderrTTY() && !opts.Quiet}
}

func (p *warmProgress) add(r warm.Result) {
	p.n++
	if !r.OK() {
		p.bad++
	}
	if p.opts.Verbose && p.opts.Format != output.JSON {
		status := strconv.Itoa(r.Status)
		if r.Status == 0 {
			status = "---"
		}
		cache := r.Cache
		if cache == "" {
			cache = "-"
		}
		line := fmt.Sprintf("%s\t%s\t%.1fms\t%d\t%s", status, cache, r.LatencyMs, r.Attempts, r.URL)
		if r.Error != "" {
			line += "\t" + r.Error
		}
		if p.bar {
			fmt.Fprint(p.opts.IO.ErrOut, "\r\x1b[K")
		}
		fmt.Fprintln(p.opts.IO.Out, line)
	}
	if p.bar {
		const width = 30
		filled := width * p.n / max(p.total, 1)
		rate := float64(p.n) / max(time.Since(p.start).Seconds(), 1e-3)
		fmt.Fprintf(p.opts.IO.ErrOut, "\r\x1b[K[%s%s] %d/%d  %.0f req/s  %d failed",
			strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.n, p.total, rate, p.bad)
	}
}

func (p *warmProgress) done() {
	if p.bar {
		fmt.Fprint(p.opts.IO.ErrOut, "\r\x1b[K")
	}
}
