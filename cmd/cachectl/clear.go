package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/keyspace"
)

// With --pause, the SCAN COUNT and UNLINK batch unless given: each command
// then costs Redis about a tenth of a millisecond.
const (
	gentleCount = 100
	gentleBatch = 100
)

type clearOptions struct {
	common
	Schema func() (keyspace.Schema, error)

	All bool
	// Flagged holds the flags of the registry's groups (--products, ...), by group name.
	Flagged    map[string]*bool
	ProductIDs []string
	Groups     []string
	Patterns   []string
	Cascade    bool

	// ClearConfig holds --count, --batch, --pause and --dry-run.
	keyspace.ClearConfig
	Yes     bool
	MaxKeys int64

	clearURLOptions
	clearPlanOptions
}

func newClearCmd(f *factory, runF func(context.Context, *clearOptions) error) *cobra.Command {
	opts := &clearOptions{Schema: f.Schema, Flagged: map[string]*bool{}, clearURLOptions: clearURLOptions{API: f.API}}
	cmd := newCommand(f, "clear {"+strings.Join(clearTargetFlags(), " | ")+"}...", "Delete groups of cached keys safely (SCAN + UNLINK)", opts, []output.Format{output.Table, output.JSON}, func(cmd *cobra.Command) error {
		if err := opts.urlTarget(cmd.Flags().Changed); err != nil {
			return err
		}
		if err := opts.planTarget(cmd.Flags()); err != nil {
			return err
		}
		return opts.bound(cmd.Flags().Changed)
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
	fl.DurationVar(&opts.MaxImpact, "max-impact", 0, "keep other clients' p99 latency within DUR of its idle value, adapting --count, --batch and pauses as it goes (e.g. 1ms)")
	opts.planFlags(fl)
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

// bound checks the sizes and, with --pause, takes the gentle SCAN COUNT
// and UNLINK batch unless they were given (changed).
func (o *clearOptions) bound(changed func(flag string) bool) error {
	cfg := o.ClearConfig
	cfg.Limit = o.MaxKeys
	if err := option.First(keyspace.CheckMaxImpact(o.MaxImpact, changed("max-impact")), cfg.Validate()); err != nil {
		return err
	}
	if o.Pause > 0 {
		// Gentle mode: pausing only helps other clients if no single
		// command holds Redis for long, so SCAN and UNLINK take small
		// bites unless told otherwise.
		if !changed("count") {
			o.Count = gentleCount
		}
		if !changed("batch") {
			o.Batch = gentleBatch
		}
	}
	return nil
}

// selection turns the target flags into one Selection (keyspace.Select):
// product ids, the registry's group flags and --group in that order,
// patterns, and --all last.
func (o *clearOptions) selection(s keyspace.Schema) (keyspace.Selection, error) {
	if o.Cascade && len(o.ProductIDs) == 0 {
		return nil, usageErrorf("--cascade goes with --product-id")
	}
	req := keyspace.Request{Cascade: o.Cascade, Patterns: o.Patterns}
	for _, raw := range o.ProductIDs {
		id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--product-id %q: %w", raw, keyspace.ErrInvalidID)
		}
		req.ProductIDs = append(req.ProductIDs, id)
	}
	for _, g := range s.Groups() {
		if on := o.Flagged[g.Name]; on != nil && *on {
			req.Groups = append(req.Groups, g.Name)
		}
	}
	req.Groups = append(req.Groups, o.Groups...)
	if o.All {
		req.Groups = append(req.Groups, keyspace.GroupAll)
	}
	sel, err := s.Select(req)
	switch {
	case errors.Is(err, keyspace.ErrMatchAll):
		return nil, fmt.Errorf("--pattern %w", err) // only a pattern can match every key
	case err != nil:
		return nil, err
	case len(sel) == 0:
		flags := clearTargetFlags()
		return nil, usageErrorf("say what to clear: %s or %s", strings.Join(flags[:len(flags)-1], ", "), flags[len(flags)-1])
	case o.OldVersions:
		return s.OldVersions(sel), nil
	}
	return sel, nil
}

// clearTargetFlags are the ways to name a target: --all, a flag per group
// of the registry, --product-id N, --group NAME, --pattern GLOB.
func clearTargetFlags() []string {
	flags := []string{"--all"}
	for _, g := range keyspace.Builtin() {
		flags = append(flags, "--"+g.Name)
	}
	return append(flags, "--product-id N", "--group NAME", "--pattern GLOB", "--url URL")
}

// errNothingToClear ends a clear whose count found no key: nothing to
// confirm, nothing touched.
var errNothingToClear = errors.New("nothing to clear")

// errNotConfirmed is a prompt answered with anything but yes.
var errNotConfirmed = errors.New("not confirmed: nothing deleted")

func runClear(ctx context.Context, opts *clearOptions) error {
	if opts.byURL() {
		return runClearURLs(ctx, opts)
	}
	if opts.Apply != "" {
		return runClearApply(ctx, opts)
	}
	schema, err := opts.Schema()
	if err != nil {
		return err
	}
	sel, err := opts.selection(schema)
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
	if err := clearGate(ctx, opts, schema, conn, sel); errors.Is(err, errNothingToClear) {
		if !opts.Quiet {
			defer printElsewhere(ctx, opts.IO, conn, schema)
		}
		return printClear(opts, conn, keyspace.EmptyResult(sel), 0)
	} else if err != nil {
		return err
	}
	res, clearErr := clearWithProgress(ctx, opts, conn, sel)
	opts.audited(ctx, res, clearErr)
	if errors.Is(clearErr, keyspace.ErrMatchAll) {
		return clearErr
	}
	if err := printClear(opts, conn, res, res.Duration); err != nil {
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

// clearGate counts before the first UNLINK when confirmation, refusal or
// --max-keys need it, and asks or refuses; errNothingToClear when the
// count is 0. A dry run passes.
func clearGate(ctx context.Context, opts *clearOptions, schema keyspace.Schema, conn *redisconn.Conn, sel keyspace.Selection) error {
	prompt := !opts.DryRun && !opts.Yes && opts.IO.CanPrompt()
	if opts.DryRun || !prompt && opts.Yes && opts.MaxKeys <= 0 {
		return nil
	}
	counts, _, err := keyspace.CountPaced(ctx, conn.Client, sel, keyspace.CountConfig{Count: opts.Count, MaxImpact: opts.MaxImpact, Conditions: opts.Conditions})
	if err != nil {
		return fmt.Errorf("count keys on %s: %w", conn.Addr, err)
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	where := render.ClearTarget(conn)
	switch {
	case total == 0:
		return errNothingToClear
	case opts.MaxKeys > 0 && total > opts.MaxKeys:
		return hinted(usageErrorf("refusing to delete %d keys (%s) from %s: more than --max-keys %d", total, sel.Summary(counts), where, opts.MaxKeys),
			"narrow the selection, or raise --max-keys if that many is expected")
	}
	return confirmClear(opts, func() (bool, error) { return render.AskClear(ctx, opts.IO, schema, conn, sel, counts, total) },
		total, sel.Summary(counts), where)
}

// confirmClear is a gate's last step before deleting n keys (summary) from
// where: --yes passes, a terminal asks, and without one it refuses (exit 2).
func confirmClear(opts *clearOptions, ask func() (bool, error), n int64, summary, where string) error {
	switch {
	case opts.Yes:
		return nil
	case opts.IO.CanPrompt():
		ok, err := ask()
		if err == nil && !ok {
			err = errNotConfirmed
		}
		return err
	}
	return hinted(usageErrorf("refusing to delete %d keys (%s) from %s without confirmation: no terminal to ask on", n, summary, where),
		"add --yes to delete them, or --dry-run to only count")
}

// clearWithProgress runs the clear, with a status line on a terminal.
func clearWithProgress(ctx context.Context, opts *clearOptions, conn *redisconn.Conn, sel keyspace.Selection) (keyspace.Result, error) {
	cfg := opts.ClearConfig
	cfg.Wrap = conn.Hook // --read-only holds on the clear's own connections too
	if !opts.DryRun {
		cfg.Limit = opts.MaxKeys // holds even for keys written since the count
	}
	if opts.IO.IsStderrTTY() && !opts.Quiet {
		dbsize, _ := conn.Client.DBSize(ctx).Result()
		prog := render.NewClearProgress(opts.IO, dbsize, opts.Count, opts.DryRun)
		cfg.Progress = prog.Update
		defer prog.Done()
	}
	return keyspace.Clear(ctx, conn.Client, sel, cfg)
}

func printClear(opts *clearOptions, conn *redisconn.Conn, res keyspace.Result, d time.Duration) error {
	if opts.Quiet {
		return nil
	}
	return render.Clear(opts.IO, opts.Format, conn.Addr, res, d)
}
