package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/render"
)

type benchOptions struct {
	common
	apiTarget
	Getenv func(string) string

	Requests       int
	Concurrency    int
	ColdSamples    int
	RequestTimeout time.Duration
	EndpointsFile  string
	Only           []string
	ReportFile     string
	Mix            bool
	Rate           float64
	Repeat         int

	MinSpeedup    float64
	MaxWarmP95    []string
	MaxErrorRate  float64
	BaselineFile  string
	MaxRegression float64
}

func newBenchCmd(f *factory, runF func(context.Context, *benchOptions) error) *cobra.Command {
	opts := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure cold against warm latency per endpoint, with gates for CI",
		Long: `For each endpoint of the catalog API, bench runs two phases.

Cold and warm, one request at a time: --cold-samples pairs, each of which
clears the endpoint's cache keys in Redis (only those keys, without asking:
that is the job), sends one request (cold) and then the same request again
(warm). The speedup is cold p50 / warm p50 of these pairs: both taken at the
same concurrency, 1, so it says what the cache buys, whatever the number of
server workers.

Under load: the endpoint primed, then -n requests at -c concurrency in a
closed loop, or with --rate R in an open loop (sent on schedule, latency
counted from when each was due): p50/p90/p95/p99/p99.9/max, requests per
second, status codes, the Redis hit ratio, and the same split by cache state. A server with few workers queues here, so
these figures say how it holds up under load, not what the cache buys.

It also reports X-Cache agreement and database queries per request cold and
warm when the server sends X-Cache and X-DB-Queries.

Each gate reads the figures of one phase, and says which: --min-speedup
the pairs; --max-warm-p95, and --max-regression's p95 and rps, the load;
--max-regression's speedup the pairs; --max-error-rate counts every request
of both. Failed requests (transport errors, 4xx, 5xx) never enter the
percentiles; they are counted as errors, and any error fails the run unless
--max-error-rate allows it. A built-in endpoint the API answers with 404 is
skipped with a warning; one named with --only or in --endpoints (without
optional: true) fails the run. A breached gate is named in the output and
exits 1; the JSON report is still printed, with "passed": false. When
$GITHUB_STEP_SUMMARY is set, a markdown summary is appended to it.`,
		Example: `  # a developer: how much does the cache buy?
  cachectl bench
  # CI: fail the build when caching regresses (the speedup of the serial pairs)
  cachectl bench --json --min-speedup 3 --max-warm-p95 20ms --max-error-rate 0 \
    --baseline bench-main.json --max-regression 20 > bench.json
  # one endpoint, harder
  cachectl bench --only product_list -n 5000 -c 50
  # another API: endpoints and the keys that make them cold
  cachectl bench --endpoints endpoints.yaml --api https://shop.internal`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Getenv = f.Getenv
			if err := f.common(&opts.common, output.Table, output.JSON, output.Markdown); err != nil {
				return err
			}
			if err := f.apiTarget(&opts.apiTarget); err != nil {
				return err
			}
			if err := opts.validate(cmd); err != nil {
				return err
			}
			return dispatch(cmd.Context(), opts, runF, runBench)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&opts.Requests, "requests", "n", 1000, "requests per endpoint under load")
	fl.IntVarP(&opts.Concurrency, "concurrency", "c", 10, "requests in flight under load (the cold/warm pairs run one at a time)")
	fl.IntVar(&opts.ColdSamples, "cold-samples", bench.DefaultPairs, "cold/warm pairs per endpoint, one request at a time: clear its keys, request, request again (alias --pairs)")
	fl.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "pairs" {
			name = "cold-samples"
		}
		return pflag.NormalizedName(name)
	})
	fl.DurationVar(&opts.RequestTimeout, "request-timeout", 10*time.Second, "timeout of each request")
	fl.StringVar(&opts.EndpointsFile, "endpoints", "", "YAML or JSON file of endpoints (name, url, method, headers, clear, weight)")
	fl.StringSliceVar(&opts.Only, "only", nil, "benchmark only these endpoints (repeat or comma-separate)")
	fl.BoolVar(&opts.Mix, "mix", false, "one weighted warm phase across all endpoints (weights from --endpoints, else equal) instead of one per endpoint")
	fl.StringVar(&opts.ReportFile, "report", "", "also write the report to FILE (its format follows the file's extension: .json, .md, else the --format)")
	fl.Float64Var(&opts.Rate, "rate", 0, "open loop: send -n requests at R per second on schedule, latency counted from when each was due (default: closed loop at -c)")
	fl.IntVar(&opts.Repeat, "repeat", 1, "run both phases of every endpoint N times; --baseline then compares over the repeats")
	fl.Float64Var(&opts.MinSpeedup, "min-speedup", 0, "gate: every endpoint's cold p50 / warm p50 of the pairs, one request at a time, at least X")
	fl.StringSliceVar(&opts.MaxWarmP95, "max-warm-p95", nil, "gate: every endpoint's p95 under load at most DUR, or STATE=DUR for one cache state's responses (HIT=5ms)")
	fl.Float64Var(&opts.MaxErrorRate, "max-error-rate", 0, "gate: failed / all requests of every endpoint, both phases, at most R (0..1; by default any failed request fails the run)")
	fl.StringVar(&opts.BaselineFile, "baseline", "", "gate: compare with a previous --json report")
	fl.Float64Var(&opts.MaxRegression, "max-regression", 20, "with --baseline: p95 under load may grow, rps under load and the speedup may shrink, by at most PCT percent")
	return cmd
}

func (o *benchOptions) validate(cmd *cobra.Command) error {
	if err := firstErr(
		inRange("requests", o.Requests, 1, maxRequests),
		inRange("concurrency", o.Concurrency, 1, maxConcurrency),
		inRange("cold-samples", o.ColdSamples, 1, maxColdSamples),
	); err != nil {
		return err
	}
	switch {
	case o.RequestTimeout <= 0:
		return usageErrorf("--request-timeout must be positive")
	case o.MinSpeedup < 0:
		return usageErrorf("--min-speedup must not be negative")
	case o.Rate < 0 || o.Repeat < 1 || o.Repeat > 100 || (o.Mix && o.Repeat > 1):
		return usageErrorf("--rate must be positive, --repeat from 1 to 100 and without --mix")
	case o.MaxErrorRate < 0 || o.MaxErrorRate > 1:
		return usageErrorf("--max-error-rate is a rate between 0 and 1, not %g", o.MaxErrorRate)
	case o.MaxRegression < 0:
		return usageErrorf("--max-regression is a percent, 0 or more")
	case cmd.Flags().Changed("max-regression") && o.BaselineFile == "":
		return usageErrorf("--max-regression goes with --baseline")
	case o.Mix && (o.MinSpeedup > 0 || o.BaselineFile != ""):
		return usageErrorf("--min-speedup and --baseline compare endpoints, which --mix does not measure one by one")
	}
	return nil
}

func runBench(ctx context.Context, opts *benchOptions) error {
	gates, err := opts.gates()
	if err != nil {
		return err
	}
	eps, err := opts.endpoints(ctx)
	if err != nil {
		return err
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	cfg := bench.Config{
		Client: opts.Client, Redis: conn.Client, Schema: opts.Schema,
		ColdSamples: opts.ColdSamples, Requests: opts.Requests, Concurrency: opts.Concurrency, Timeout: opts.RequestTimeout,
		Rate: opts.Rate, Repeat: opts.Repeat,
	}
	var done func()
	cfg.Progress, done = render.BenchProgress(opts.IO, opts.Quiet)
	suite := bench.Suite{Config: cfg, API: opts.API, Endpoints: eps, Mix: opts.Mix, Gates: gates}
	rep, runErr := suite.Run(ctx)
	done()
	if runErr != nil && ctx.Err() == nil {
		return runErr
	}
	if !opts.Quiet {
		render.BenchSkipped(opts.IO, rep)
	}
	if err := writeBenchOutputs(opts, rep); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	if !rep.Passed {
		if !opts.Quiet {
			opts.IO.Errorf("bench failed: %s", strings.Join(rep.Breaches(), ", "))
		}
		return errFailed
	}
	return nil
}

func (o *benchOptions) gates() (bench.Gates, error) {
	gates := bench.Gates{MinSpeedup: o.MinSpeedup, MaxErrorRate: o.MaxErrorRate, MaxRegression: o.MaxRegression}
	if err := gates.SetP95(o.MaxWarmP95); err != nil {
		return gates, usageErrorf("--max-warm-p95 %w", err)
	}
	if o.BaselineFile == "" {
		return gates, nil
	}
	fh, err := os.Open(o.BaselineFile)
	if err != nil {
		return gates, usageErrorf("--baseline: %w", err)
	}
	defer fh.Close()
	if gates.Baseline, err = bench.ReadBaseline(fh); err != nil {
		return gates, usageErrorf("--baseline %s: %w", o.BaselineFile, err)
	}
	return gates, nil
}

// endpoints are those of --endpoints, or the API's built-in ones, narrowed by --only.
func (o *benchOptions) endpoints(ctx context.Context) ([]bench.Endpoint, error) {
	var eps []bench.Endpoint
	var err error
	if o.EndpointsFile != "" {
		if eps, err = bench.ReadEndpoints(o.EndpointsFile, o.API); err != nil {
			return nil, usageErrorf("--endpoints %w", err)
		}
	} else if eps, err = bench.DefaultEndpoints(ctx, o.Client, o.API, o.RequestTimeout); err != nil {
		return nil, err
	}
	return selectEndpoints(eps, o.Only)
}

func selectEndpoints(eps []bench.Endpoint, only []string) ([]bench.Endpoint, error) {
	if len(only) == 0 {
		return eps, nil
	}
	var out []bench.Endpoint
	var names []string
	for _, e := range eps {
		names = append(names, e.Name)
		if slices.Contains(only, e.Name) {
			e.Optional = false // asked for by name: its absence fails the run
			out = append(out, e)
		}
	}
	for _, o := range only {
		if !slices.Contains(names, o) {
			return nil, usageErrorf("--only %s: no such endpoint (have: %s)", o, strings.Join(names, ", "))
		}
	}
	return out, nil
}

func writeBenchOutputs(opts *benchOptions, rep bench.Report) error {
	if opts.ReportFile != "" {
		if err := render.BenchReportFile(opts.ReportFile, opts.Format, rep); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	if path := opts.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := render.BenchStepSummary(path, rep); err != nil {
			return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	if opts.Quiet && opts.Format == output.Table {
		return nil
	}
	return render.Bench(opts.IO, opts.Format, rep)
}
