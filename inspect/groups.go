package inspect

import (
	"context"
	"errors"
	"math"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/keyspace"
)

// GroupCount is the number of keys of one target of a selection.
type GroupCount struct {
	Name string
	Keys int64
	// Exact is set when every key was looked at (SCAN); otherwise Keys is an
	// estimate from sampling and Margin bounds its error.
	Exact bool
	// Margin is the half-width, in keys, of the estimate's 95% confidence
	// interval: the true count lies in Keys±Margin 19 times out of 20.
	Margin int64
	// Samples is how many sampled keys the estimate rests on (0 when exact).
	Samples int
}

// CountGroups counts the keys of each target of sel exactly, with one SCAN
// pass over every master (keyspace.Count). It costs a full walk of the
// keyspace: use it on demand, not on every dashboard tick.
func CountGroups(ctx context.Context, c redis.UniversalClient, sel keyspace.Selection, scanCount int64) ([]GroupCount, error) {
	out, _, err := CountGroupsPaced(ctx, c, sel, keyspace.CountConfig{Count: scanCount})
	return out, err
}

// CountGroupsPaced is CountGroups, paced when cfg.MaxImpact is positive
// (keyspace.CountPaced); the Impact is nil when it is not.
func CountGroupsPaced(ctx context.Context, c redis.UniversalClient, sel keyspace.Selection, cfg keyspace.CountConfig) ([]GroupCount, *keyspace.Impact, error) {
	n, imp, err := keyspace.CountPaced(ctx, c, sel, cfg)
	if err != nil {
		return nil, imp, err
	}
	out := make([]GroupCount, len(sel))
	for i, t := range sel {
		out[i] = GroupCount{Name: t.Name, Keys: n[i], Exact: true}
	}
	return out, imp, nil
}

// Sampling defaults. 10,000 samples put the 95% margin of a group's share of
// a master's keys within ±0.98 percentage points whatever the share
// (1.96·sqrt(0.25/10000)), so an error beyond ±2 points is a 4-sigma event;
// they cost one pipelined round trip and about 10 ms of server time.
const (
	DefaultSamples    = 10000
	DefaultExactBelow = 20000
)

// SampleOptions tunes EstimateGroups.
type SampleOptions struct {
	// Samples is the number of RANDOMKEY calls per master (one pipelined
	// round trip); DefaultSamples when 0.
	Samples int
	// ExactBelow: a master with at most this many keys is counted exactly
	// with SCAN instead, which is then as cheap as sampling; DefaultExactBelow when 0.
	ExactBelow int64
	// ScanCount is the SCAN COUNT hint for exact counts.
	ScanCount int64
}

// EstimateGroups estimates the keys of each target of sel at a small, fixed
// cost whatever the size of the keyspace: on each master it reads DBSIZE and
// classifies Samples keys returned by RANDOMKEY, and scales each target's
// share of the sample by DBSIZE. Masters small enough are counted exactly.
// A result is Exact only when every master was counted exactly.
//
// RANDOMKEY picks keys close to uniformly (Redis's fair random key), so a
// group holding a share p of a master's keys is estimated within
// ±1.96·sqrt(p(1-p)/Samples) of that share at 95% confidence; Margin states
// the bound in keys, summed over masters as independent errors.
func EstimateGroups(ctx context.Context, c redis.UniversalClient, sel keyspace.Selection, opt SampleOptions) ([]GroupCount, error) {
	option.Default(&opt.Samples, DefaultSamples)
	option.Default(&opt.ExactBelow, DefaultExactBelow)
	if _, err := sel.ScanMatch(); err != nil {
		return nil, err
	}
	type partial struct {
		keys     []float64
		variance []float64
		samples  int
		exact    bool
	}
	var mu sync.Mutex
	var parts []partial
	err := keyspace.ForEachMaster(ctx, c, func(ctx context.Context, node *redis.Client) error {
		p := partial{keys: make([]float64, len(sel)), variance: make([]float64, len(sel))}
		size, err := node.DBSize(ctx).Result()
		if err != nil {
			return &NodeError{Addr: keyspace.NodeAddr(node), Op: "DBSIZE", Err: err}
		}
		if size <= opt.ExactBelow {
			n, err := keyspace.Count(ctx, node, sel, opt.ScanCount)
			if err != nil {
				return err
			}
			for i := range n {
				p.keys[i] = float64(n[i])
			}
			p.exact = true
		} else {
			hits, n, err := sample(ctx, node, sel, opt.Samples)
			if err != nil {
				return err
			}
			p.samples = n
			for i, x := range hits {
				if n == 0 {
					break
				}
				p.keys[i] = float64(size) * float64(x) / float64(n)
				// Agresti–Coull: a share seen 0 times still gets a margin.
				q := (float64(x) + 2) / (float64(n) + 4)
				p.variance[i] = float64(size) * float64(size) * q * (1 - q) / float64(n)
			}
		}
		mu.Lock()
		parts = append(parts, p)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]GroupCount, len(sel))
	for i, t := range sel {
		g := GroupCount{Name: t.Name, Exact: true}
		var keys, variance float64
		for _, p := range parts {
			keys += p.keys[i]
			variance += p.variance[i]
			g.Samples += p.samples
			g.Exact = g.Exact && p.exact
		}
		g.Keys = int64(math.Round(keys))
		g.Margin = int64(math.Ceil(1.96 * math.Sqrt(variance)))
		out[i] = g
	}
	return out, nil
}

// sample classifies n RANDOMKEY replies, sent in one pipeline. A nil reply
// (the database emptied meanwhile) is not counted as a sample.
func sample(ctx context.Context, node *redis.Client, sel keyspace.Selection, n int) (hits []int64, sampled int, err error) {
	pipe := node.Pipeline()
	cmds := make([]*redis.StringCmd, n)
	for i := range cmds {
		cmds[i] = pipe.RandomKey(ctx)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, &NodeError{Addr: keyspace.NodeAddr(node), Op: "RANDOMKEY", Err: err}
	}
	hits = make([]int64, len(sel))
	for _, cmd := range cmds {
		key, err := cmd.Result()
		if err != nil {
			continue
		}
		sampled++
		if i := sel.Classify(key); i >= 0 {
			hits[i]++
		}
	}
	return hits, sampled, nil
}
