package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// With --pause, the SCAN COUNT and UNLINK batch unless given: each command
// then costs Redis about a tenth of a millisecond.
const (
	gentleCount = 100
	gentleBatch = 100
)

type clearOptions struct {
	IO     *iostreams.IOStreams
	Redis  func(context.Context) (*redisconn.Conn, error)
	Schema func() (keyspace.Schema, error)
	Format output.Format
	Quiet  bool

	All        bool
	Products   bool
	Categories bool
	Colors     bool
	ProductIDs []string
	Groups     []string
	Patterns   []string
	Cascade    bool

	DryRun  bool
	Yes     bool
	MaxKeys int64
	Count   int64
	Batch   int
	Pause   time.Duration
}

// clearGroup is one target's line of the `clear` JSON contract.
type clearGroup struct {
	Matched int64 `json:"matched"`
	Deleted int64 `json:"deleted"`
}

// clearResult is the JSON of `cachectl clear` (DESIGN.md, JSON contracts).
type clearResult struct {
	Op         string                `json:"op"`
	Target     string                `json:"target"`
	Groups     map[string]clearGroup `json:"groups"`
	Matched    int64                 `json:"matched"`
	Deleted    int64                 `json:"deleted"`
	Complete   bool                  `json:"complete"`
	DryRun     bool                  `json:"dry_run"`
	Errors     int                   `json:"errors"`
	Passes     int                   `json:"passes"`
	DurationMs float64               `json:"duration_ms"`
}

func newClearCmd(f *factory, runF func(context.Context, *clearOptions) error) *cobra.Command {
	opts := &clearOptions{IO: f.IO, Redis: f.Redis, Schema: f.Schema}
	cmd := &cobra.Command{
		Use:   "clear {--all | --products | --categories | --colors | --product-id N | --group NAME | --pattern GLOB}...",
		Short: "Delete groups of cached keys safely (SCAN + UNLINK)",
		Long: `Delete the cache keys of one or more groups in one SCAN pass over every
master, with UNLINK in pipelined rounds. Never KEYS, DEL, FLUSHDB or FLUSHALL:
only keys of the selected groups under PREFIX:VERSION: are touched, never
other keys under the prefix (sessions may live there).

Targets combine: --products --colors clears both in one pass. --pattern GLOB
is applied inside the PREFIX:VERSION: namespace. --product-id N clears exactly
product:N and product:N:*; --cascade adds the products:* listings.

On a terminal it shows the target and the number of keys and asks first.
Without a terminal it deletes nothing unless --yes is given (exit 2).
--dry-run only counts, exactly, and never asks. --max-keys N refuses (exit 2)
when a counting pass finds more than N keys.

A clear that stops part way (error, lost connection, timeout, NOPERM, Ctrl-C)
prints what it deleted, says complete: false and exits 1 (130 on Ctrl-C).
Running the same command again finishes the job. Answering anything but y
at the prompt deletes nothing and exits 1.`,
		Example: `  # on call: what would go?
  cachectl clear --products --dry-run
  # one product and the listings that may embed it, from a deploy script
  cachectl clear --product-id 42 --cascade --yes --json
  # a big clear that must not disturb production traffic
  cachectl clear --all --yes --pause 2ms --max-keys 2000000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.format(output.Table, output.JSON)
			if err != nil {
				return err
			}
			opts.Format = fm
			opts.Quiet = f.opts.Quiet
			if err := firstErr(
				inRange("count", opts.Count, 1, maxScanCount),
				inRange("batch", opts.Batch, 1, maxBatch),
				inRange("pause", opts.Pause, 0, maxPause),
			); err != nil {
				return err
			}
			if opts.MaxKeys < 0 {
				return usageErrorf("--max-keys must not be negative")
			}
			if opts.Pause > 0 {
				// Gentle mode: pausing only helps other clients if no single
				// command holds Redis for long, so SCAN and UNLINK take small
				// bites unless told otherwise.
				if !cmd.Flags().Changed("count") {
					opts.Count = gentleCount
				}
				if !cmd.Flags().Changed("batch") {
					opts.Batch = gentleBatch
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runClear(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "every group of the schema (never the whole database)")
	fl.BoolVar(&opts.Products, "products", false, "product:* and products:*")
	fl.BoolVar(&opts.Categories, "categories", false, "categories:* and category:*")
	fl.BoolVar(&opts.Colors, "colors", false, "product_colors:*")
	fl.StringSliceVar(&opts.ProductIDs, "product-id", nil, "product ids, comma-separated or repeated: product:N and product:N:*")
	fl.StringSliceVar(&opts.Groups, "group", nil, "a group by name (built-in or from the config file); repeatable")
	fl.StringArrayVar(&opts.Patterns, "pattern", nil, "a glob inside PREFIX:VERSION: (e.g. 'products:list:*'); repeatable")
	fl.BoolVar(&opts.Cascade, "cascade", false, "with --product-id: also the products:* listings that may embed it")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "count what would be deleted, delete nothing")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking (needed without a terminal)")
	fl.Int64Var(&opts.MaxKeys, "max-keys", 0, "refuse when more than N keys match (0: no limit)")
	fl.Int64Var(&opts.Count, "count", keyspace.DefaultScanCount, "SCAN COUNT hint")
	fl.IntVar(&opts.Batch, "batch", keyspace.DefaultBatch, "keys per UNLINK round")
	fl.DurationVar(&opts.Pause, "pause", 0, "pause between UNLINK rounds on each master, to spare other clients (e.g. 2ms); implies --count 100 --batch 100 unless given")
	return cmd
}

// selection turns the target flags into one Selection, without duplicates.
// A key counts in the first target it belongs to, so the narrowest come
// first: product ids, then groups and patterns, and --all last, which then
// reports only what the others did not claim.
func (o *clearOptions) selection(s keyspace.Schema) (keyspace.Selection, error) {
	var sel keyspace.Selection
	add := func(t keyspace.Target) {
		for _, have := range sel {
			if have.Name == t.Name {
				return
			}
		}
		sel = append(sel, t)
	}
	if o.Cascade && len(o.ProductIDs) == 0 {
		return nil, usageErrorf("--cascade goes with --product-id")
	}
	for _, raw := range o.ProductIDs {
		id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--product-id %q: %w", raw, keyspace.ErrInvalidID)
		}
		t, err := s.Product(id, o.Cascade)
		if err != nil {
			return nil, err
		}
		add(t)
	}
	var groups []string
	if o.Products {
		groups = append(groups, keyspace.GroupProducts)
	}
	if o.Categories {
		groups = append(groups, keyspace.GroupCategories)
	}
	if o.Colors {
		groups = append(groups, keyspace.GroupColors)
	}
	all := o.All
	for _, g := range o.Groups {
		if g = strings.TrimSpace(g); g == keyspace.GroupAll {
			all = true
		} else {
			groups = append(groups, g)
		}
	}
	for _, name := range groups {
		t, err := s.Group(name)
		if err != nil {
			return nil, err
		}
		add(t)
	}
	for _, p := range o.Patterns {
		t, err := s.Pattern(p)
		if err != nil {
			return nil, fmt.Errorf("--pattern %w", err)
		}
		add(t)
	}
	if all {
		t, err := s.Group(keyspace.GroupAll)
		if err != nil {
			return nil, err
		}
		add(t)
	}
	if len(sel) == 0 {
		return nil, usageErrorf("say what to clear: --all, --products, --categories, --colors, --product-id N, --group NAME or --pattern GLOB")
	}
	return sel, nil
}

func runClear(ctx context.Context, opts *clearOptions) error {
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
	where := clearTarget(conn)
	if conn.Assumed && !opts.Quiet {
		fmt.Fprintln(opts.IO.ErrOut, "warning: this user may not run INFO or CLUSTER INFO, so a cluster cannot be told from a single server:"+
			" clearing this server only (give --cluster if it is a cluster node)")
	}

	// Confirmation, refusal and --max-keys all need the count before the first UNLINK.
	prompt := !opts.DryRun && !opts.Yes && opts.IO.CanPrompt()
	if !opts.DryRun && (prompt || !opts.Yes || opts.MaxKeys > 0) {
		counts, err := keyspace.Count(ctx, conn.Client, sel, opts.Count)
		if err != nil {
			return fmt.Errorf("count keys on %s: %w", conn.Addr, err)
		}
		var total int64
		for _, n := range counts {
			total += n
		}
		summary := describeCounts(sel, counts)
		switch {
		case total == 0:
			// Nothing to delete: nothing to confirm either, and nothing is touched.
			if !opts.Quiet {
				defer printElsewhere(ctx, opts.IO, conn, schema)
			}
			return printClear(opts, conn, clearZero(sel), 0)
		case opts.MaxKeys > 0 && total > opts.MaxKeys:
			return hinted{usageErrorf("refusing to delete %d keys (%s) from %s: more than --max-keys %d", total, summary, where, opts.MaxKeys),
				"narrow the selection, or raise --max-keys if that many is expected"}
		case prompt:
			ok, err := askClear(ctx, opts.IO, schema, conn, sel, counts, total)
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("not confirmed: nothing deleted")
			}
		case !opts.Yes:
			return hinted{usageErrorf("refusing to delete %d keys (%s) from %s without confirmation: no terminal to ask on", total, summary, where),
				"add --yes to delete them, or --dry-run to only count"}
		}
	}

	cfg := keyspace.ClearConfig{Count: opts.Count, Batch: opts.Batch, Pause: opts.Pause, DryRun: opts.DryRun}
	if !opts.DryRun {
		cfg.Limit = opts.MaxKeys // holds even for keys written since the count
	}
	var prog *clearProgress
	if opts.IO.IsStderrTTY() && !opts.Quiet {
		dbsize, _ := conn.Client.DBSize(ctx).Result()
		prog = &clearProgress{ios: opts.IO, total: dbsize, count: opts.Count, start: time.Now(), dryRun: opts.DryRun}
		cfg.Progress = prog.update
	}
	res, clearErr := keyspace.Clear(ctx, conn.Client, sel, cfg)
	if prog != nil {
		prog.done()
	}
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
		fmt.Fprintf(opts.IO.ErrOut, "note: %d keys is more than --max-keys %d: the real clear would be refused\n", res.Matched, opts.MaxKeys)
	}
	if clearErr != nil {
		if ctx.Err() != nil {
			// Ctrl-C: the exit-code mapping prints only "interrupted", so say
			// here what was done and how to finish.
			fmt.Fprintf(opts.IO.ErrOut, "incomplete: deleted %d keys before the interruption; run the same command again to finish the job\n", res.Deleted)
		}
		hint := clearHint(clearErr, conn, opts.MaxKeys)
		return partialError{hinted{fmt.Errorf("%w (deleted %d of the keys found, then stopped)", clearErr, res.Deleted), hint}}
	}
	return nil
}

// clearHint says what to do after an incomplete clear, and never promises
// that running again finishes the job when the server would refuse again.
func clearHint(err error, conn *redisconn.Conn, maxKeys int64) string {
	const again = "run the same command again to finish the job"
	var ce *keyspace.ClearError
	if !errors.As(err, &ce) {
		return "nothing is lost by stopping: " + again
	}
	msg := ce.Cause.Error()
	switch {
	case errors.Is(err, keyspace.ErrLimit):
		return fmt.Sprintf("more keys appeared after the count than --max-keys %d allows; check what writes them, then run again", maxKeys)
	case errors.Is(err, context.Canceled):
		return "nothing is lost by stopping: " + again
	case redisconn.NotPermitted(ce.Cause):
		cmd := deniedCommand(ce.Cause)
		return fmt.Sprintf("this user may not run %s: grant it (ACL SETUSER <user> +%s; a clear needs +scan +unlink +info, and on a cluster +cluster|nodes +cluster|myid) or connect as a user that has it",
			strings.ToUpper(strings.ReplaceAll(cmd, "|", " ")), cmd)
	case strings.Contains(msg, "unknown command"):
		return "this server has no such command (UNLINK needs Redis 4.0 or newer, and a config may rename it); cachectl never falls back to DEL: running again will not help"
	case redisconn.ReplyCode(ce.Cause) == "CROSSSLOT":
		return "these keys live in several hash slots, so this is a Redis Cluster node that could not be detected (this user may not run INFO or CLUSTER INFO): add --cluster"
	case redisconn.ReplyCode(ce.Cause) == "READONLY":
		return "the server at this address is a read-only replica: point --redis at the primary"
	case strings.Contains(msg, "redis-cli --cluster fix"):
		return "run redis-cli --cluster fix on the cluster, then the same command again; until then every clear finds those keys where their slot is not served"
	case !ce.Retry:
		return "the server refused; running again will not help until the cause above is fixed"
	}
	var h string
	switch {
	case ce.Changed != "" && conn.Cluster:
		h = fmt.Sprintf("the cluster changed under the clear (%s): run the same command again once the failover or rebalance has finished (redis-cli --cluster check shows no open slots)", ce.Changed)
	case ce.Changed != "":
		h = fmt.Sprintf("the server changed under the clear (%s): run the same command again once the failover or restart is over", ce.Changed)
	case ce.MasterDown != "":
		h = fmt.Sprintf("master %s does not answer: run the same command again once it is back or its replica has taken over", ce.MasterDown)
	case conn.Cluster:
		h = "a master did not answer: " + again + " once it is back or its replica has taken over"
	default:
		return "nothing is lost by stopping: " + again
	}
	if conn.Cluster && ce.SeedDown && ce.Live != "" {
		h += fmt.Sprintf("; the seed %s does not answer: give --redis %s (a live master), or several seeds (--redis redis://host1:port,host2:port)",
			ce.Seed, redisconn.WithHost(conn.Addr, ce.Live))
	}
	return h
}

// deniedCommand is the command a NOPERM reply names, lower case, or "scan
// or unlink" if it names none.
func deniedCommand(err error) string {
	if cmd := redisconn.DeniedCommand(err); cmd != "" {
		return cmd
	}
	return "scan or unlink"
}

// clearZero is the result of a clear that found nothing to delete.
func clearZero(sel keyspace.Selection) keyspace.Result {
	res := keyspace.Result{Complete: true, Targets: make([]keyspace.TargetResult, len(sel))}
	for i, t := range sel {
		res.Targets[i].Name = t.Name
	}
	return res
}

func describeCounts(sel keyspace.Selection, counts []int64) string {
	parts := make([]string, len(sel))
	for i, t := range sel {
		parts[i] = fmt.Sprintf("%s: %d", t.Name, counts[i])
	}
	return strings.Join(parts, ", ")
}

// clearTarget names where a clear goes, in prompts and refusals.
func clearTarget(conn *redisconn.Conn) string {
	if conn.Cluster {
		return conn.Addr + " (cluster, every master)"
	}
	return fmt.Sprintf("%s db %d", conn.Addr, conn.DB)
}

// askClear shows the target and the keys of each target of sel, and asks.
func askClear(ctx context.Context, ios *iostreams.IOStreams, schema keyspace.Schema, conn *redisconn.Conn, sel keyspace.Selection, counts []int64, total int64) (bool, error) {
	return confirmClear(ctx, ios, fmt.Sprintf("about to delete %d keys under %q from %s\n  %s\ndelete them? [y/N] ",
		total, schema.Namespace(), clearTarget(conn), describeCounts(sel, counts)))
}

// confirmClear asks on stderr and reads one line from stdin; only y or yes agree.
// Ctrl-C while it waits ends the command (exit 130) with nothing deleted.
func confirmClear(ctx context.Context, ios *iostreams.IOStreams, question string) (bool, error) {
	fmt.Fprint(ios.ErrOut, question)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(ios.In).ReadString('\n')
		answer <- line
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(ios.ErrOut)
		return false, ctx.Err()
	case line := <-answer:
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return true, nil
		}
		return false, nil
	}
}

func printClear(opts *clearOptions, conn *redisconn.Conn, res keyspace.Result, d time.Duration) error {
	out := clearResult{
		Op: "clear", Target: conn.Addr, Groups: map[string]clearGroup{},
		Matched: res.Matched, Deleted: res.Deleted, Complete: res.Complete, DryRun: res.DryRun,
		Errors: res.Errors, Passes: res.Passes, DurationMs: ms(d),
	}
	for _, t := range res.Targets {
		out.Groups[t.Name] = clearGroup{Matched: t.Matched, Deleted: t.Deleted}
	}
	if opts.Quiet {
		return nil
	}
	if opts.Format == output.JSON {
		return output.WriteJSON(opts.IO, out)
	}
	tp := output.NewTable(opts.IO, "GROUP", "MATCHED", "DELETED")
	if !opts.IO.IsStdoutTTY() {
		tp = output.NewTable(opts.IO, "group", "matched", "deleted")
	}
	for _, t := range res.Targets {
		tp.AddRow(t.Name, strconv.FormatInt(t.Matched, 10), strconv.FormatInt(t.Deleted, 10))
	}
	if len(res.Targets) > 1 {
		tp.AddRow("total", strconv.FormatInt(res.Matched, 10), strconv.FormatInt(res.Deleted, 10))
	}
	if err := tp.Render(); err != nil {
		return err
	}
	if !opts.IO.IsStdoutTTY() {
		return nil
	}
	switch {
	case res.DryRun:
		fmt.Fprintf(opts.IO.Out, "dry run: %d keys would be deleted from %s; nothing was deleted\n", res.Matched, conn.Addr)
	case res.Complete:
		fmt.Fprintf(opts.IO.Out, "deleted %d keys from %s in %s\n", res.Deleted, conn.Addr, d.Round(time.Millisecond))
	default:
		fmt.Fprintf(opts.IO.Out, "incomplete: deleted %d keys from %s before stopping\n", res.Deleted, conn.Addr)
	}
	return nil
}

// clearProgress redraws one status line on stderr, at most ten times a second.
type clearProgress struct {
	ios    *iostreams.IOStreams
	total  int64 // DBSIZE when the clear started
	count  int64
	start  time.Time
	dryRun bool

	mu    sync.Mutex
	last  time.Time
	drawn bool
}

func (p *clearProgress) update(pr keyspace.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	// SCAN visits about COUNT slots of the table per call: a fair measure of
	// how far through the keyspace the pass is.
	examined := min(pr.ScanCalls*p.count, p.total)
	elapsed := now.Sub(p.start).Seconds()
	if p.dryRun {
		fmt.Fprintf(p.ios.ErrOut, "\r\x1b[Kscanned ~%d/%d  matched %d  %.0f keys/s",
			examined, p.total, pr.Matched, float64(pr.Matched)/elapsed)
	} else {
		fmt.Fprintf(p.ios.ErrOut, "\r\x1b[Kscanned ~%d/%d  matched %d  deleted %d  %.0f keys/s",
			examined, p.total, pr.Matched, pr.Deleted, float64(pr.Deleted)/elapsed)
	}
	p.drawn = true
}

func (p *clearProgress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.ios.ErrOut, "\r\x1b[K")
	}
}
