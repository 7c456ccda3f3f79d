package keyspace

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultScanCount is the SCAN COUNT hint: large enough that a million keys
// take a thousand round trips, small enough that each SCAN call stays short.
const DefaultScanCount = 1000

// ForEachMaster calls fn for every server that owns keys: the one server of a
// standalone deployment, or every master of a cluster (never a replica), in
// parallel. It returns the first error after all calls have ended.
//
// A cluster's masters are those of a view in which every slot is served
// (see viewCluster), not go-redis's cached slot map, which a seed that has
// left the cluster leaves empty: a count over no master would say zero.
func ForEachMaster(ctx context.Context, c redis.UniversalClient, fn func(ctx context.Context, node *redis.Client) error) error {
	switch c := c.(type) {
	case *redis.ClusterClient:
		return forEachViewedMaster(ctx, c, fn)
	case *redis.Client:
		return fn(ctx, c)
	default:
		return fmt.Errorf("unsupported redis client %T", c)
	}
}

// NodeAddr names a node in messages.
func NodeAddr(node *redis.Client) string { return node.Options().Addr }

// ScanNode walks one node's keyspace with SCAN MATCH match COUNT count and
// calls fn with each non-empty page, until the cursor returns to 0, ctx ends,
// or fn fails. The page slice is reused only by SCAN's reply, so fn may keep it.
func ScanNode(ctx context.Context, node *redis.Client, match string, count int64, fn func(keys []string) error) error {
	return scanNode(ctx, node, match, count, fn, nil)
}

// scanNode is ScanNode that also calls afterCall, when set, after every SCAN
// reply (empty pages included), so progress can move during sparse scans.
func scanNode(ctx context.Context, node *redis.Client, match string, count int64, fn func(keys []string) error, afterCall func()) error {
	if count <= 0 {
		count = DefaultScanCount
	}
	page := func(cursor uint64) ([]string, uint64, error) {
		return node.Scan(ctx, cursor, match, count).Result()
	}
	return scanPages(ctx, NodeAddr(node), page, fn, afterCall)
}

// scanPages follows SCAN cursors from 0 back to 0, fetching each page with
// page, and calls fn with every non-empty one.
func scanPages(ctx context.Context, addr string, page func(cursor uint64) ([]string, uint64, error), fn func(keys []string) error, afterCall func()) error {
	var cursor uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		keys, next, err := page(cursor)
		if err != nil {
			return fmt.Errorf("scan %s: %w", addr, err)
		}
		if afterCall != nil {
			afterCall()
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// Count returns the exact number of keys of each target of sel, in one SCAN
// pass over every master. A key is counted once, in the first target it belongs to.
func Count(ctx context.Context, c redis.UniversalClient, sel Selection, count int64) ([]int64, error) {
	n, _, err := CountPaced(ctx, c, sel, CountConfig{Count: count})
	return n, err
}

// CountConfig tunes CountPaced.
type CountConfig struct {
	Count int64 // SCAN COUNT hint; DefaultScanCount when 0
	// MaxImpact, when positive, paces the SCAN on each master as
	// ClearConfig.MaxImpact paces a clear.
	MaxImpact time.Duration
	// Conditions narrow the count to the keys that meet them (checked with
	// one pipelined PTTL per SCAN page).
	Conditions Conditions
}

// CountPaced is Count, paced when cfg.MaxImpact is positive; the Impact is
// nil when it is not.
func CountPaced(ctx context.Context, c redis.UniversalClient, sel Selection, cfg CountConfig) ([]int64, *Impact, error) {
	match, err := sel.ScanMatch()
	if err != nil {
		return nil, nil, err
	}
	totals := make([]int64, len(sel))
	var (
		mu      sync.Mutex
		imp     impacts
		scanned atomic.Int64
	)
	err = ForEachMaster(ctx, c, func(ctx context.Context, node *redis.Client) error {
		local := make([]int64, len(sel))
		err := imp.scan(ctx, node, match, cfg.Count, cfg.MaxImpact, func(page []string) error {
			scanned.Add(int64(len(page)))
			keys, targets := classify(sel, page)
			_, targets, err := cfg.Conditions.filter(ctx, node, NodeAddr(node), keys, targets)
			for _, i := range targets {
				local[i]++
			}
			return err
		})
		mu.Lock()
		for i, n := range local {
			totals[i] += n
		}
		mu.Unlock()
		return err
	})
	return totals, imp.result(scanned.Load()), err
}

// scan is ScanNode, paced when budget is positive, its Impact added to s.
func (s *impacts) scan(ctx context.Context, node *redis.Client, match string, count int64, budget time.Duration, fn func(keys []string) error) error {
	if budget <= 0 {
		return ScanNode(ctx, node, match, count, fn)
	}
	if count <= 0 {
		count = DefaultScanCount
	}
	start := Pace{Count: count, Batch: DefaultBatch}
	pc, err := startPacer(ctx, node.Options(), budget, start)
	if err != nil {
		return err
	}
	defer func() { s.add(pc.finish()) }()
	page := func(cursor uint64) ([]string, uint64, error) {
		count, at := pc.pace(start).Count, time.Now()
		keys, next, err := node.Scan(ctx, cursor, match, count).Result()
		if err == nil {
			rtt := time.Since(at)
			pc.learn(func(c *Controller) { c.Scanned(count, rtt) })
		}
		return keys, next, err
	}
	return scanPages(ctx, NodeAddr(node), page, fn, func() {
		if p := pc.pace(start).Pause; p > 0 {
			Sleep(ctx, p)
		}
	})
}
