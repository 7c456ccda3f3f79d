package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/clearflow"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/keyspace"
)

type clearOptions struct {
	common
	Schema func() (keyspace.Schema, error)
	API    func() (*url.URL, *http.Client, error)
	// Options holds the targets, the clear's settings, the gate's --yes and
	// --max-keys, --plan and --apply, --url and --rewarm.
	clearflow.Options
}

func newClearCmd(f *factory, runF func(context.Context, *clearOptions) error) *cobra.Command {
	opts := &clearOptions{Schema: f.Schema, API: f.API, Options: clearflow.Options{Targets: clearflow.Targets{Flagged: map[string]*bool{}}}}
	cmd := newCommand(f, "clear {"+strings.Join(clearflow.TargetFlags(), " | ")+"}...", "Delete groups of cached keys safely (SCAN + UNLINK)", opts, []output.Format{output.Table, output.JSON}, func(cmd *cobra.Command) error {
		cmd.Flags().Visit(func(fl *pflag.Flag) {
			if clearflow.Selects(fl.Name) {
				opts.Asked = append(opts.Asked, "--"+fl.Name+"="+fl.Value.String())
			}
		})
		return opts.Check(cmd.Flags().Changed)
	}, runF, runClear)
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "every group of the schema (never the whole database)")
	fl.StringSliceVar(&opts.ProductIDs, "product-id", nil, "product ids, comma-separated or repeated: product:N and product:N:*")
	fl.StringSliceVar(&opts.Groups, "group", nil, "a group by name (built-in or from the config file); repeatable")
	fl.StringArrayVar(&opts.Patterns, "pattern", nil, "a glob inside PREFIX:VERSION: (e.g. 'products:list:*'); repeatable")
	fl.BoolVar(&opts.Cascade, "cascade", false, "with --product-id: also the products:* listings that may embed it")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "count what would be deleted, delete nothing")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking (needed without a terminal)")
	fl.StringArrayVar(&opts.URLs, "url", nil, "the key(s) this URL or path (relative to --api) uses, learned with one GET; repeatable")
	fl.StringVar(&opts.URLFile, "url-file", "", "also the URLs or paths in FILE, one per line (- for stdin)")
	fl.BoolVar(&opts.Rewarm, "rewarm", false, "with --url: request each URL again and prove its key is back with a TTL")
	fl.Int64Var(&opts.MaxKeys, "max-keys", 0, "refuse when more than N keys match (0: no limit)")
	fl.Int64Var(&opts.Count, "count", keyspace.DefaultScanCount, "SCAN COUNT hint")
	fl.IntVar(&opts.Batch, "batch", keyspace.DefaultBatch, "keys per UNLINK round")
	fl.DurationVar(&opts.MaxImpact, "max-impact", 0, "keep other clients' p99 latency within DUR of its idle value, sizing each SCAN and UNLINK round from its measured cost, up to --count and --batch, and pausing when that is not enough (e.g. 1ms)")
	fl.StringVar(&opts.Plan, "plan", "", "write what would be deleted to FILE (- for stdout; FILE.gz is gzipped), delete nothing")
	fl.StringVar(&opts.Apply, "apply", "", "delete exactly the keys of the plan in FILE (- for stdin), on the server it was made on")
	fl.Int64Var(&opts.AllowDrift, "allow-drift", 0, "with --apply: accept up to N keys added or gone since the plan")
	fl.BoolVar(&opts.OldVersions, "old-versions", false, "the targets' keys under every other version than --key-version")
	fl.BoolVar(&opts.Conditions.NoTTL, "no-ttl", false, "only keys without an expiry")
	fl.DurationVar(&opts.Conditions.TTLBelow, "ttl-below", 0, "only keys whose remaining TTL is below DUR (keys without one never match)")
	fl.DurationVar(&opts.Pause, "pause", 0, "pause between UNLINK rounds on each master, to spare other clients (e.g. 2ms); implies --count 100 --batch 100 unless given")
	// One flag per group of the registry; a name taken by another flag
	// stays reachable with --group.
	for _, g := range keyspace.Builtin() {
		if fl.Lookup(g.Name) == nil {
			opts.Flagged[g.Name] = fl.Bool(g.Name, false, g.Describe())
		}
	}
	return cmd
}

// errNotConfirmed is a question answered with anything but yes.
var errNotConfirmed = clearflow.ErrNotConfirmed

func runClear(ctx context.Context, opts *clearOptions) error {
	switch {
	case opts.ByURL():
		return runClearURLs(ctx, opts)
	case opts.Apply != "":
		return runClearApply(ctx, opts)
	}
	schema, err := opts.Schema()
	if err != nil {
		return err
	}
	sel, err := opts.Select(schema)
	if err != nil {
		return err
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	if conn.Assumed && !opts.Quiet {
		opts.IO.Warnf("this user may not run INFO or CLUSTER INFO, so a cluster cannot be told from a single server:" +
			" clearing this server only (give --cluster if it is a cluster node)")
	}
	if opts.Plan != "" {
		return runClearPlan(ctx, opts, schema, conn, sel)
	}
	ask := func(counts []int64, total int64) (bool, error) {
		return render.AskClear(ctx, opts.IO, schema, conn, sel, counts, total)
	}
	if err := opts.gate(conn).Pass(ctx, conn.Client, sel, opts.Counting(), ask); errors.Is(err, clearflow.ErrNothingToClear) {
		if !opts.Quiet {
			defer printElsewhere(ctx, opts.IO, conn, schema)
		}
		return opts.print(conn, keyspace.EmptyResult(sel))
	} else if err != nil {
		return err
	}
	res, clearErr := clearWithProgress(ctx, opts, conn, sel)
	if errors.Is(clearErr, keyspace.ErrMatchAll) {
		return clearErr
	}
	if err := opts.print(conn, res); err != nil {
		return err
	}
	if res.Complete && res.Matched == 0 && !opts.Quiet {
		printElsewhere(ctx, opts.IO, conn, schema)
	}
	if res.DryRun && opts.MaxKeys > 0 && res.Matched > opts.MaxKeys && !opts.Quiet {
		opts.IO.Notef("%d keys is more than --max-keys %d: the real clear would be refused", res.Matched, opts.MaxKeys)
	}
	if clearErr == nil {
		return nil
	}
	if ctx.Err() != nil {
		render.ClearInterrupted(opts.IO, res.Deleted)
	}
	return partialError(fmt.Errorf("%w (deleted %d of the keys found, then stopped)", clearErr, res.Deleted), render.ClearHint(clearErr, conn, opts.MaxKeys))
}

// gate is the confirmation gate before deleting from conn.
func (o *clearOptions) gate(conn *redisconn.Conn) clearflow.Gate {
	return clearflow.Gate{DryRun: o.DryRun, Yes: o.Yes, MaxKeys: o.MaxKeys, CanPrompt: o.IO.CanPrompt(), Addr: conn.Addr, Where: render.ClearTarget(conn)}
}

// clearWithProgress runs the clear, with a status line on a terminal, and
// records one that deleted, or set out to delete, keys in the audit trail.
func clearWithProgress(ctx context.Context, opts *clearOptions, conn *redisconn.Conn, sel keyspace.Selection) (res keyspace.Result, err error) {
	defer func() { // after the status line is gone
		if !res.DryRun {
			opts.record(ctx, audit.OfClear("clear", res, err))
		}
	}()
	cfg := opts.Clearing(conn.Hook) // --read-only holds on the clear's own connections too
	prog := opts.progress(ctx, conn)
	cfg.Progress = prog.Update
	defer prog.Done()
	return keyspace.Clear(ctx, conn.Client, sel, cfg)
}

// progress is the status line of a clear of conn: nil, which draws
// nothing, off a terminal and with -q.
func (o *clearOptions) progress(ctx context.Context, conn *redisconn.Conn) *render.ClearProgress {
	if !o.IO.IsStderrTTY() || o.Quiet {
		return nil
	}
	dbsize, _ := conn.Client.DBSize(ctx).Result()
	return render.NewClearProgress(o.IO, dbsize, o.Count, o.DryRun)
}

// print writes the result of a clear of conn, unless -q.
func (o *clearOptions) print(conn *redisconn.Conn, res keyspace.Result) error {
	if o.Quiet {
		return nil
	}
	return render.Clear(o.IO, o.Format, conn.Addr, res, res.Duration)
}
