package main

import (
	"context"
	"errors"
	"time"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

// What each command that may write would write, for --read-only's refusal
// (refuseWrites); "" when this run only reads. check runs its read-only
// steps instead (check.Config.ReadOnly); the other commands only read.

func (o *clearOptions) writes() string {
	switch {
	case o.countsOnly():
		return ""
	case o.ByURL():
		return "clear --url deletes the keys the URLs use; --dry-run only lists them"
	case o.Apply != "":
		return "clear --apply deletes the plan's keys; --plan only writes a plan"
	}
	return "clear deletes keys; --dry-run only counts"
}

// countsOnly says whether this clear deletes nothing: --dry-run, and
// --plan, which writes a plan file only.
func (o *clearOptions) countsOnly() bool { return o.DryRun || o.Plan != "" }

func (o *benchOptions) writes() string {
	if o.EndpointsFile != "" {
		eps, err := bench.ReadEndpoints(o.EndpointsFile, o.API)
		if eps, err = bench.Select(eps, o.Only); err != nil || len(bench.Writers(eps)) == 0 {
			return "" // reads only, or stops at this error before it touches anything
		}
	}
	return "bench's cold phase deletes each endpoint's cache keys; an --endpoints file whose endpoints all say cold: false (GET) only reads"
}

func (o *serveOptions) writes() string {
	return "serve caches into --redis and invalidates it on writes"
}

func (o *demoOptions) writes() string {
	if o.RedisExplicit {
		return "demo clears and fills the --redis it is given; without --redis it runs on a private one"
	}
	return ""
}

// record adds a destructive action's line to the audit trail.
func (c *common) record(ctx context.Context, e audit.Entry) {
	if c.Record != nil {
		c.Record(ctx, e)
	}
}

// audited records a clear that deleted, or set out to delete, keys.
func (o *clearOptions) audited(ctx context.Context, res keyspace.Result, err error) {
	if !res.DryRun {
		o.record(ctx, audit.OfClear("clear", res, err))
	}
}

// auditedURLs records a clear --url that set out to delete keys: not a
// dry run, nor one that learned no key or whose keys were not confirmed.
func (o *clearOptions) auditedURLs(ctx context.Context, res observe.URLClearResult, err error) {
	if !res.DryRun && len(res.Keys()) > 0 && !errors.Is(err, errNotConfirmed) && !isUsage(err) {
		o.record(ctx, audit.OfURLClear(res, err))
	}
}

// audited records a bench run with a cold phase: one line naming its
// endpoints, with the keys deleted counted on the connection.
func (o *benchOptions) audited(ctx context.Context, eps []bench.Endpoint, start time.Time, rep bench.Report, err error) {
	if cold := bench.Writers(eps); len(cold) > 0 && o.Deleted != nil {
		e := audit.New("bench", start, cold, nil, rep.Complete, err)
		e.Deleted = o.Deleted()
		o.record(ctx, e)
	}
}
