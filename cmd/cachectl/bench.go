package main

import (
	"cmp"
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/config"
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

	bench.Job
	ReportFile string
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
			opts.Job.Client, opts.Job.Schema = opts.Client, opts.Schema
			opts.RegressionSet = cmd.Flags().Changed("max-regression")
			return opts.Validate()
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
	fl.DurationVar(&opts.Job.Timeout, "request-timeout", 10*time.Second, "timeout of each request")
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
	fl.StringVar(&opts.BaselineRef, "baseline", "", "gate: compare with baseline NAME (--save-baseline), or FILE (a previous --json report; a value with a / or ending in .json)")
	fl.StringVar(&opts.SaveBaseline, "save-baseline", "", "save this run's report as baseline NAME in --baseline-dir, when it passed")
	fl.StringVar(&opts.BaselineDir, "baseline-dir", "", "directory of named baselines and their history.jsonl (env CACHECTL_BASELINE_DIR; default $XDG_DATA_HOME/cachectl/baselines)")
	fl.StringVar(&opts.History, "history", "", "append one JSON line per run to FILE (default with a named baseline: history.jsonl in --baseline-dir)")
	fl.Float64Var(&opts.MaxRegression, "max-regression", 20, "with --baseline: p95 under load may grow, rps under load and the speedup may shrink, by at most PCT percent")
	return cmd
}

func runBench(ctx context.Context, opts *benchOptions) error {
	suite, err := opts.Suite(ctx, opts.API)
	if err != nil {
		return err
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	suite.Config.Redis = conn.Client
	if suite.Config.Observer, err = observe.New(ctx, conn.Client, observe.Options{Prefix: opts.Schema.Namespace()}); err != nil {
		return err
	}
	var done func()
	suite.Config.Progress, done = render.BenchProgress(opts.IO, opts.Quiet)
	start := time.Now()
	rep, runErr := suite.Run(ctx)
	if cold := bench.Writers(suite.Endpoints); len(cold) > 0 {
		opts.record(ctx, audit.OfBench(start, cold, rep.Complete, runErr, opts.Deleted))
	}
	done()
	if runErr != nil && ctx.Err() == nil {
		return runErr
	}
	if !opts.Quiet {
		render.BenchSkipped(opts.IO, rep)
	}
	outputs := render.BenchOutputs{Format: opts.Format, Quiet: opts.Quiet, ReportFile: opts.ReportFile, StepSummary: opts.Getenv("GITHUB_STEP_SUMMARY")}
	if err := outputs.Write(opts.IO, rep); err != nil {
		return err
	}
	if saved, err := opts.Keeper().Keep(rep, time.Now()); err != nil {
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
