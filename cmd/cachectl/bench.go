package main

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/config"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/observe"
)

type benchOptions struct {
	common
	apiTarget
	Getenv func(string) string
	// Deleted is the keys the connection has deleted, for the audit trail.
	Deleted func() int64

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
	Stampede       int

	bench.Gates
	P95          []string // --max-warm-p95: DUR, or STATE=DUR
	BaselineFile string   // --baseline: a name in BaselineDir, or a file
	SaveBaseline string
	BaselineDir  string // --baseline-dir, else CACHECTL_BASELINE_DIR, else in $XDG_DATA_HOME
	History      string
}

func newBenchCmd(f *factory, runF func(context.Context, *benchOptions) error) *cobra.Command {
	opts := &benchOptions{}
	cmd := newCommand(f, "bench", "Measure cold against warm latency per endpoint, with gates for CI", opts,
		[]output.Format{output.Table, output.JSON, output.Markdown, output.JUnit}, func(cmd *cobra.Command) error {
			opts.Getenv, opts.Deleted = f.Getenv, f.deletes.Count
			opts.BaselineDir = cmp.Or(opts.BaselineDir, f.Getenv("CACHECTL_BASELINE_DIR"), filepath.Join(config.Dir(f.Getenv, config.DataHome), "baselines"))
			if err := f.apiTarget(&opts.apiTarget); err != nil {
				return err
			}
			return opts.validate(cmd)
		}, runF, runBench)
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
	fl.StringVar(&opts.ReportFile, "report", "", "also write the report to FILE (its format follows the file's extension: .json, .md, .xml for JUnit, else the --format)")
	fl.Float64Var(&opts.MinSpeedup, "min-speedup", 0, "gate: every endpoint's cold p50 / warm p50 of the pairs, one request at a time, at least X")
	fl.Float64Var(&opts.Rate, "rate", 0, "open loop: send -n requests at R per second on schedule, latency counted from when each was due (default: closed loop at -c)")
	fl.IntVar(&opts.Repeat, "repeat", 1, "run both phases of every endpoint N times; --baseline then compares over the repeats")
	fl.IntVar(&opts.Stampede, "stampede", 0, "end each endpoint with N concurrent requests at its just-cleared key: origin queries, cache writes, latency")
	fl.IntVar(&opts.MaxStampedeWrites, "max-stampede-writes", 0, "gate with --stampede: every endpoint's key stored at most K times by the N requests (1: they coalesce)")
	fl.StringSliceVar(&opts.P95, "max-warm-p95", nil, "gate: every endpoint's p95 under load at most DUR, or STATE=DUR for one cache state's responses (HIT=5ms)")
	fl.Float64Var(&opts.MaxErrorRate, "max-error-rate", 0, "gate: failed / all requests of every endpoint, both phases, at most R (0..1; by default any failed request fails the run)")
	fl.StringVar(&opts.BaselineFile, "baseline", "", "gate: compare with baseline NAME (--save-baseline), or FILE (a previous --json report; a value with a / or ending in .json)")
	fl.StringVar(&opts.SaveBaseline, "save-baseline", "", "save this run's report as baseline NAME in --baseline-dir, when it passed")
	fl.StringVar(&opts.BaselineDir, "baseline-dir", "", "directory of named baselines and their history.jsonl (env CACHECTL_BASELINE_DIR; default $XDG_DATA_HOME/cachectl/baselines)")
	fl.StringVar(&opts.History, "history", "", "append one JSON line per run to FILE (default with a named baseline: history.jsonl in --baseline-dir)")
	fl.Float64Var(&opts.MaxRegression, "max-regression", 20, "with --baseline: p95 under load may grow, rps under load and the speedup may shrink, by at most PCT percent")
	return cmd
}

func (o *benchOptions) validate(cmd *cobra.Command) error {
	if err := option.First(o.config().Validate(), o.Gates.Validate()); err != nil {
		return err
	}
	switch {
	case o.Rate < 0 || o.Repeat < 1 || o.Repeat > 100 || (o.Mix && o.Repeat > 1):
		return usageErrorf("--rate must be positive, --repeat from 1 to 100 and without --mix")
	case cmd.Flags().Changed("max-regression") && o.BaselineFile == "":
		return usageErrorf("--max-regression goes with --baseline")
	case o.Mix && (o.MinSpeedup > 0 || o.BaselineFile != "" || o.SaveBaseline != "" || o.Stampede > 0):
		return usageErrorf("--min-speedup, --baseline, --save-baseline and --stampede are per endpoint, which --mix does not measure one by one")
	case o.MaxStampedeWrites > 0 && o.Stampede == 0:
		return usageErrorf("--max-stampede-writes goes with --stampede")
	case o.SaveBaseline != "":
		return bench.ValidBaselineName("save-baseline", o.SaveBaseline)
	}
	return nil
}

// config is the bench's engine settings; runBench adds the Redis client.
func (o *benchOptions) config() bench.Config {
	return bench.Config{Client: o.Client, Schema: o.Schema, ColdSamples: o.ColdSamples, Requests: o.Requests,
		Concurrency: o.Concurrency, Timeout: o.RequestTimeout, Rate: o.Rate, Repeat: o.Repeat, Stampede: o.Stampede}
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
	cfg := opts.config()
	cfg.Redis = conn.Client
	if cfg.Observer, err = observe.New(ctx, conn.Client, observe.Options{Prefix: opts.Schema.Namespace()}); err != nil {
		return err
	}
	var done func()
	cfg.Progress, done = render.BenchProgress(opts.IO, opts.Quiet)
	suite := bench.Suite{Config: cfg, API: opts.API, Endpoints: eps, Mix: opts.Mix, Gates: gates}
	start := time.Now()
	rep, runErr := suite.Run(ctx)
	opts.audited(ctx, eps, start, rep, runErr)
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
	keeper := bench.Keeper{Baselines: bench.Baselines{Dir: opts.BaselineDir}, SaveAs: opts.SaveBaseline, Baseline: opts.BaselineFile, History: opts.History}
	if saved, err := keeper.Keep(rep, time.Now()); err != nil {
		return err
	} else if opts.SaveBaseline != "" && !saved && !opts.Quiet {
		opts.IO.Warnf("baseline %s not saved: a run that did not pass never replaces one", opts.SaveBaseline)
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
	gates := o.Gates
	if err := gates.SetP95(o.P95); err != nil {
		return gates, usageErrorf("--max-warm-p95 %w", err)
	}
	var err error
	if o.BaselineFile != "" {
		gates.Baseline, err = bench.Baselines{Dir: o.BaselineDir}.Open(o.BaselineFile)
	}
	return gates, err
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
	return bench.Select(eps, o.Only)
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
