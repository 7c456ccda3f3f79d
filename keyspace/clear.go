package keyspace

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultBatch is the number of keys per UNLINK round: big enough that a
// million keys take a thousand round trips, small enough that one round costs
// Redis well under a millisecond, so other clients barely notice.
const DefaultBatch = 500

// ClearConfig tunes Clear. The zero value is a full-speed clear with the defaults.
type ClearConfig struct {
	Count  int64         // SCAN COUNT hint; DefaultScanCount when 0
	Batch  int           // keys per UNLINK round on one master; DefaultBatch when 0
	Pause  time.Duration // sleep between UNLINK rounds on each master, to spare other clients
	DryRun bool          // find and count, delete nothing
	// Limit, when positive, is the most keys the clear may delete: it stops
	// (incomplete, with ErrLimit) rather than queue one more. It makes
	// --max-keys hold even for keys written after the counting pass.
	Limit int64
	// Progress, when set, is called after every SCAN page and UNLINK round with
	// the running totals. Calls never overlap; it must return quickly.
	Progress func(Progress)
}

// Progress is a running total of a Clear over every master.
type Progress struct {
	ScanCalls int64 // SCAN commands sent; × COUNT approximates the keys examined
	Scanned   int64 // keys SCAN returned (they match the MATCH prefix)
	Matched   int64 // keys that belong to a target
	Deleted   int64 // keys UNLINK reported removed
}

// TargetResult is the outcome for one target of the selection.
type TargetResult struct {
	Name    string
	Matched int64 // keys found that belong to it
	Deleted int64 // keys UNLINK reported removed; 0 in a dry run
}

// Result is the outcome of a Clear. Deleted counts only what UNLINK replied
// it removed, so it is never over-reported. Matched counts keys as SCAN found
// them: it can exceed Deleted when keys expire or are deleted by someone else
// during the clear, or when SCAN returns a key twice (Redis may, while it
// resizes its table); it is exact for a dry run on a quiet database.
type Result struct {
	Targets  []TargetResult // in selection order; a key counts in the first target it belongs to
	Scanned  int64
	Matched  int64
	Deleted  int64
	Complete bool // every master was scanned to the end and every UNLINK succeeded
	DryRun   bool
	Errors   int // masters whose clear failed
	Duration time.Duration
}

// ErrLimit is wrapped by Clear's error when more keys matched than ClearConfig.Limit.
var ErrLimit = errors.New("more keys match than the limit")

// ErrIncomplete is wrapped by Clear's error when the clear stopped part way.
// Running the same clear again finishes the job: it is idempotent.
var ErrIncomplete = errors.New("clear incomplete")

// Clear deletes every key of sel in one SCAN pass over every master (in
// parallel on a cluster), with UNLINK in pipelined rounds that overlap the
// scan. Memory stays bounded by the batch size whatever the key count. It
// never uses KEYS, DEL, FLUSHDB or FLUSHALL. Keys a master's SCAN returns are
// unlinked on that master, so a cluster never answers CROSSSLOT.
//
// Any failure (SCAN or UNLINK error, lost connection, timeout, NOPERM,
// cancelled ctx) ends with Result.Complete false, the totals so far, and an
// error wrapping ErrIncomplete and the cause.
func Clear(ctx context.Context, c redis.UniversalClient, sel Selection, cfg ClearConfig) (Result, error) {
	start := time.Now()
	res := Result{DryRun: cfg.DryRun, Targets: make([]TargetResult, len(sel))}
	for i, t := range sel {
		res.Targets[i].Name = t.Name
	}
	match, err := sel.ScanMatch()
	if err != nil {
		return res, err
	}
	if cfg.Count <= 0 {
		cfg.Count = DefaultScanCount
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	_, cluster := c.(*redis.ClusterClient)

	cl := &clearer{sel: sel, cfg: cfg, match: match, cluster: cluster,
		matched: make([]atomic.Int64, len(sel)), deleted: make([]atomic.Int64, len(sel))}
	var (
		mu      sync.Mutex
		errs    []error
		nodeErr int
	)
	ferr := ForEachMaster(ctx, c, func(ctx context.Context, node *redis.Client) error {
		if err := cl.clearNode(ctx, node); err != nil {
			mu.Lock()
			errs = append(errs, err)
			nodeErr++
			mu.Unlock()
			return err
		}
		return nil
	})
	if ferr != nil && len(errs) == 0 {
		// The cluster's topology could not be loaded: no master was touched.
		errs = append(errs, ferr)
		nodeErr++
	}
	for i := range sel {
		res.Targets[i].Matched = cl.matched[i].Load()
		res.Targets[i].Deleted = cl.deleted[i].Load()
	}
	p := cl.snapshot()
	res.Scanned, res.Matched, res.Deleted = p.Scanned, p.Matched, p.Deleted
	res.Errors = nodeErr
	res.Duration = time.Since(start)
	if len(errs) > 0 {
		cause := errs[0]
		if ctx.Err() != nil {
			cause = ctx.Err()
		}
		return res, fmt.Errorf("%w: %w", ErrIncomplete, cause)
	}
	res.Complete = true
	return res, nil
}

type clearer struct {
	sel     Selection
	cfg     ClearConfig
	match   string
	cluster bool

	scanCalls, scanned atomic.Int64
	queued             atomic.Int64 // keys queued for UNLINK on every master, against Limit
	matched, deleted   []atomic.Int64

	progressMu sync.Mutex
}

func (cl *clearer) snapshot() Progress {
	p := Progress{ScanCalls: cl.scanCalls.Load(), Scanned: cl.scanned.Load()}
	for i := range cl.matched {
		p.Matched += cl.matched[i].Load()
		p.Deleted += cl.deleted[i].Load()
	}
	return p
}

func (cl *clearer) report() {
	if cl.cfg.Progress == nil {
		return
	}
	cl.progressMu.Lock()
	defer cl.progressMu.Unlock()
	cl.cfg.Progress(cl.snapshot())
}

// batch is one UNLINK round: keys and the target each belongs to.
type batch struct {
	keys    []string
	targets []int
}

// clearNode runs a scanner goroutine that fills batches and the unlinker in
// this goroutine; the channel between them holds one batch, so at most three
// batches (filling, queued, unlinking) are in memory per master.
func (cl *clearer) clearNode(ctx context.Context, node *redis.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan batch, 1)
	scanErr := make(chan error, 1)
	go func() {
		defer close(queue)
		scanErr <- cl.scan(ctx, node, queue)
	}()

	var unlinkErr error
	for b := range queue {
		if unlinkErr != nil {
			continue // drain, so the scanner can see the cancel and stop
		}
		if cl.cfg.DryRun {
			continue
		}
		if err := cl.unlink(ctx, node, b); err != nil {
			unlinkErr = err
			cancel()
			continue
		}
		cl.report()
		if cl.cfg.Pause > 0 {
			t := time.NewTimer(cl.cfg.Pause)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
	serr := <-scanErr
	if unlinkErr != nil {
		return unlinkErr
	}
	return serr
}

// scan walks the node and queues batches of keys that belong to a target.
// A key SCAN returns twice within one batch is queued once.
func (cl *clearer) scan(ctx context.Context, node *redis.Client, queue chan<- batch) error {
	cur := batch{keys: make([]string, 0, cl.cfg.Batch), targets: make([]int, 0, cl.cfg.Batch)}
	seen := make(map[string]struct{}, cl.cfg.Batch)
	send := func() error {
		if len(cur.keys) == 0 {
			return nil
		}
		select {
		case queue <- cur:
		case <-ctx.Done():
			return ctx.Err()
		}
		cur = batch{keys: make([]string, 0, cl.cfg.Batch), targets: make([]int, 0, cl.cfg.Batch)}
		clear(seen)
		return nil
	}
	err := scanNode(ctx, node, cl.match, cl.cfg.Count, func(keys []string) error {
		cl.scanned.Add(int64(len(keys)))
		for _, k := range keys {
			i := cl.sel.Classify(k)
			if i < 0 {
				continue
			}
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			if cl.cfg.Limit > 0 && cl.queued.Add(1) > cl.cfg.Limit {
				return fmt.Errorf("%w: more than %d keys", ErrLimit, cl.cfg.Limit)
			}
			cl.matched[i].Add(1)
			cur.keys = append(cur.keys, k)
			cur.targets = append(cur.targets, i)
			if len(cur.keys) >= cl.cfg.Batch {
				if err := send(); err != nil {
					return err
				}
			}
		}
		return nil
	}, func() {
		cl.scanCalls.Add(1)
		cl.report()
	})
	if err != nil {
		return err
	}
	return send()
}

// unlink deletes one batch in one pipeline and credits each target with what
// UNLINK replied. On a standalone server each target's keys go in one UNLINK;
// on a cluster node every key gets its own UNLINK, since keys of one SCAN
// page live in many slots. Replies of commands that failed count nothing.
func (cl *clearer) unlink(ctx context.Context, node *redis.Client, b batch) error {
	type sent struct {
		cmd    *redis.IntCmd
		target int
	}
	var cmds []sent
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		if cl.cluster {
			cmds = make([]sent, 0, len(b.keys))
			for i, k := range b.keys {
				cmds = append(cmds, sent{p.Unlink(ctx, k), b.targets[i]})
			}
			return nil
		}
		byTarget := make(map[int][]string)
		for i, k := range b.keys {
			byTarget[b.targets[i]] = append(byTarget[b.targets[i]], k)
		}
		for t := range cl.sel {
			if keys := byTarget[t]; len(keys) > 0 {
				cmds = append(cmds, sent{p.Unlink(ctx, keys...), t})
			}
		}
		return nil
	})
	for _, s := range cmds {
		if s.cmd.Err() == nil {
			cl.deleted[s.target].Add(s.cmd.Val())
		}
	}
	if err != nil {
		return fmt.Errorf("unlink on %s: %w", NodeAddr(node), err)
	}
	return nil
}
