package keyspace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/redisconn"
)

// Survey defaults.
const (
	// DefaultSamples is how many keys per target Survey measures on each master.
	DefaultSamples = 20
	// DefaultSoon is the TTL below which a key counts as expiring soon.
	DefaultSoon = time.Minute
	// DefaultBiggest is how many of the largest keys a survey keeps per target.
	DefaultBiggest = 5
	// DefaultSizeBudget is how many keys per target and master have their
	// MEMORY USAGE read while SCAN walks them, to find the biggest keys: a
	// group that small is searched exhaustively; beyond it the random sample
	// adds candidates. One MEMORY USAGE of a string costs about a microsecond
	// of server time (perf/survey figures in docs/decisions.md).
	DefaultSizeBudget = 2000
	// SkewMinKeys is the size below which a group is too small for skew to matter.
	SkewMinKeys = 1000
	// SkewFactor: a node holding more than this times its share of the slots
	// of a group's keys is skewed.
	SkewFactor = 2.0
)

// SurveyConfig tunes Survey.
type SurveyConfig struct {
	Count   int64 // SCAN COUNT hint; DefaultScanCount when 0
	Samples int   // keys measured per target and master; DefaultSamples when 0
	// Soon is the TTL below which a key expires soon; DefaultSoon when 0.
	Soon time.Duration
	// Biggest is how many of the largest keys to keep per target; DefaultBiggest when 0.
	Biggest int
	// SizeBudget is how many keys per target and master are sized while
	// scanning, for Biggest; DefaultSizeBudget when 0, none when negative.
	SizeBudget int
	// MaxImpact, when positive, paces the SCAN on each master as
	// ClearConfig.MaxImpact paces a clear.
	MaxImpact time.Duration
}

func (c SurveyConfig) withDefaults() SurveyConfig {
	option.Default(&c.Samples, DefaultSamples)
	option.Default(&c.Soon, DefaultSoon)
	option.Default(&c.Biggest, DefaultBiggest)
	option.DefaultZero(&c.SizeBudget, DefaultSizeBudget)
	return c
}

// KeySample is one measured key.
type KeySample struct {
	Key   string
	TTL   time.Duration // -1 when the key never expires
	Bytes int64         // MEMORY USAGE; -1 when the user may not run it
}

// TTLBucket is one bar of a TTL histogram: the sampled keys whose TTL is at
// most Upper and above the previous bucket's. Upper is -1 for the keys that
// never expire, and TTLOver for those beyond the last bound.
type TTLBucket struct {
	Upper time.Duration
	Count int
}

// TTLOver is the Upper of the histogram's last bucket: longer than every bound.
const TTLOver = time.Duration(math.MaxInt64)

// ttlBounds are the histogram's upper bounds, around the TTLs caches use.
var ttlBounds = []time.Duration{
	10 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, TTLOver,
}

// TTLFigures describe the expiries of a target's keys (or of one master's
// part of them), from the sampled keys, each weighing for its master's keys.
type TTLFigures struct {
	// AvgTTL is the mean TTL of the sampled keys that expire; TTLSamples says how many did.
	AvgTTL     time.Duration
	TTLSamples int

	TTLP50, TTLP90 time.Duration // percentiles of the sampled keys that expire
	NoTTL          int64         // keys without an expiry: sampled share × Keys (estimate)
	ExpiringSoon   float64       // share of sampled keys whose TTL is below SurveyConfig.Soon
	TTLHistogram   []TTLBucket   // over the samples; Upper -1 = no TTL
}

// NodeSurvey is one master's part of a target, on a cluster: every figure
// of the target, for the keys that master holds.
type NodeSurvey struct {
	Addr, ID  string
	Keys      int64   // exact count from SCAN on that master
	MemoryEst int64   // its mean sampled size times its Keys; -1 when unknown
	SlotShare float64 // the share of the cluster's hash slots it serves, 0..1
	TTLFigures
	Biggest []KeySample     // its largest keys, as TargetSurvey.Biggest
	Exact   map[string]bool // as TargetSurvey.Exact, for this master's figures
}

// TargetSurvey describes the keys of one target.
type TargetSurvey struct {
	Name string
	Keys int64 // exact count from SCAN
	// Samples are keys picked uniformly at random (reservoir sampling) on each
	// master and measured with PTTL and MEMORY USAGE.
	Samples []KeySample
	// MemoryEst is the mean sampled size times Keys (per master, summed): an
	// estimate; -1 when MEMORY USAGE is not permitted for the user.
	MemoryEst int64
	TTLFigures
	// Biggest are the SurveyConfig.Biggest largest keys by MEMORY USAGE among
	// those sized while scanning (up to SizeBudget per master) and the
	// samples, largest first, each with its TTL: the true biggest only when
	// Exact["biggest"].
	Biggest []KeySample
	Nodes   []NodeSurvey // per master, on a cluster; nil on a single server
	// Skew warns when one node holds far more of the target's keys than its
	// share of the slots ("" otherwise): more than SkewFactor times its share,
	// for a target of at least SkewMinKeys keys.
	Skew string
	// Exact says which figures are exact: "keys" always; "ttl" and "no_ttl"
	// when every key was sampled, "biggest" when every key was sized;
	// "memory" never (MEMORY USAGE itself estimates aggregates).
	Exact map[string]bool
}

// nodePart is what one master's pass found for one target.
type nodePart struct {
	m       master
	keys    int64
	samples []KeySample
	big     topKeys
	sized   int64 // keys sized while scanning
	noSize  bool  // MEMORY USAGE was refused
}

// Survey counts the keys of every target of sel exactly in one SCAN pass over
// every master, and measures a random sample of each: PTTL and MEMORY USAGE.
// While scanning it also sizes up to SizeBudget keys per target and master,
// to find the biggest. A key counts in the first target it belongs to. It
// reads only; memory is bounded by the sample size and budget.
func Survey(ctx context.Context, c redis.UniversalClient, sel Selection, cfg SurveyConfig) ([]TargetSurvey, error) {
	match, err := sel.ScanMatch()
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var (
		mu    sync.Mutex
		parts = make([][]nodePart, len(sel)) // by target, then master
	)
	err = eachSurveyedMaster(ctx, c, func(ctx context.Context, node *redis.Client, m master) error {
		np, err := surveyNode(ctx, node, sel, match, cfg)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range sel {
			np[i].m = m
			parts[i] = append(parts[i], np[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]TargetSurvey, len(sel))
	for i, t := range sel {
		slices.SortFunc(parts[i], func(a, b nodePart) int { return cmpString(a.m.Addr, b.m.Addr) })
		out[i] = summarize(t.Name, parts[i], cfg)
	}
	return out, nil
}

// surveyNode is one master's pass: count, reservoir-sample and size keys per
// target, then measure the samples.
func surveyNode(ctx context.Context, node *redis.Client, sel Selection, match string, cfg SurveyConfig) ([]nodePart, error) {
	np := make([]nodePart, len(sel))
	picks := make([][]string, len(sel))
	var toSize []sizing
	var imp impacts
	err := imp.scan(ctx, node, match, cfg.Count, cfg.MaxImpact, func(keys []string) error {
		toSize = toSize[:0]
		for _, k := range keys {
			i := sel.Classify(k)
			if i < 0 {
				continue
			}
			p := &np[i]
			p.keys++
			// Reservoir sampling: every key seen so far is equally likely to be kept.
			if len(picks[i]) < cfg.Samples {
				picks[i] = append(picks[i], k)
			} else if j := rand.Int64N(p.keys); j < int64(cfg.Samples) {
				picks[i][j] = k
			}
			if !p.noSize && p.sized < int64(cfg.SizeBudget) {
				p.sized++
				toSize = append(toSize, sizing{target: i, key: k})
			}
		}
		return sizeKeys(ctx, node, toSize, np, cfg.Biggest)
	})
	if err != nil {
		return nil, err
	}
	samples, err := measure(ctx, node, picks)
	if err != nil {
		return nil, err
	}
	for i := range np {
		np[i].samples = samples[i]
		for _, s := range samples[i] {
			if s.Bytes >= 0 {
				np[i].big.add(s, cfg.Biggest)
			}
		}
	}
	return np, nil
}

// summarize turns the masters' parts of one target into its survey. Each
// master's samples stand for its own keys: a sample from a master with many
// keys weighs more than one from a master with few. On a cluster each
// master's part is summarized the same way on its own, in Nodes.
func summarize(name string, parts []nodePart, cfg SurveyConfig) TargetSurvey {
	t := TargetSurvey{Name: name}
	t.TTLFigures, t.Exact = ttlFigures(parts, cfg)
	mean := meanSize(parts)
	var big topKeys
	for _, p := range parts {
		t.Keys += p.keys
		t.Samples = append(t.Samples, p.samples...)
		for _, k := range p.big.keys {
			big.add(k, cfg.Biggest)
		}
		nodeMem := nodeMemory(p, mean)
		if nodeMem < 0 || t.MemoryEst < 0 {
			t.MemoryEst = -1
		} else {
			t.MemoryEst += nodeMem
		}
		if p.m.Cluster {
			n := NodeSurvey{Addr: p.m.Addr, ID: p.m.ID, Keys: p.keys, MemoryEst: nodeMem,
				SlotShare: float64(p.m.Slots) / numSlots}
			n.TTLFigures, n.Exact = ttlFigures([]nodePart{p}, cfg)
			n.Biggest = p.big.sorted()
			t.Nodes = append(t.Nodes, n)
		}
	}
	slices.SortFunc(t.Samples, func(a, b KeySample) int { return cmpString(a.Key, b.Key) })
	t.Biggest = big.sorted()
	t.Skew = skew(name, t.Keys, t.Nodes)
	return t
}

// ttlFigures are the TTL figures of the parts' samples, each weighted by
// its master's keys, and which figures are exact: "keys" always; "ttl" and
// "no_ttl" when every key was sampled, "biggest" when every key was sized;
// "memory" never.
func ttlFigures(parts []nodePart, cfg SurveyConfig) (TTLFigures, map[string]bool) {
	var (
		f         TTLFigures
		ttls      []weighted
		ttlSum    time.Duration
		noTTL     float64
		soon      float64
		weightAll float64
		allSample = true
		allSized  = true
	)
	f.TTLHistogram = make([]TTLBucket, 0, len(ttlBounds)+1)
	f.TTLHistogram = append(f.TTLHistogram, TTLBucket{Upper: -1})
	for _, b := range ttlBounds {
		f.TTLHistogram = append(f.TTLHistogram, TTLBucket{Upper: b})
	}
	for _, p := range parts {
		allSample = allSample && int64(len(p.samples)) >= p.keys
		allSized = allSized && !p.noSize && p.sized >= p.keys
		if len(p.samples) == 0 {
			continue
		}
		w := float64(p.keys) / float64(len(p.samples))
		for _, s := range p.samples {
			weightAll += w
			f.TTLHistogram[bucketOf(s.TTL)].Count++
			if s.TTL < 0 {
				noTTL += w
				continue
			}
			ttlSum += s.TTL
			f.TTLSamples++
			ttls = append(ttls, weighted{s.TTL, w})
			if s.TTL < cfg.Soon {
				soon += w
			}
		}
	}
	if f.TTLSamples > 0 {
		f.AvgTTL = ttlSum / time.Duration(f.TTLSamples)
		f.TTLP50, f.TTLP90 = percentile(ttls, 0.5), percentile(ttls, 0.9)
	}
	if weightAll > 0 {
		f.NoTTL = int64(math.Round(noTTL))
		f.ExpiringSoon = soon / weightAll
	}
	exact := map[string]bool{"keys": true, "memory": false, "ttl": allSample, "no_ttl": allSample, "biggest": allSized}
	return f, exact
}

// meanSize is the mean MEMORY USAGE of every sample of a target, -1 when
// a size is unknown (MEMORY refused), 0 without samples.
func meanSize(parts []nodePart) float64 {
	var bytes, n int64
	for _, p := range parts {
		for _, s := range p.samples {
			if s.Bytes < 0 {
				return -1
			}
			bytes += s.Bytes
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(bytes) / float64(n)
}

// nodeMemory estimates a master's part of a target: its own mean sampled
// size times its keys; where all its sampled keys vanished since SCAN saw
// them, the target's mean size stands in. -1 when a size is unknown.
func nodeMemory(p nodePart, mean float64) int64 {
	if mean < 0 {
		return -1
	}
	if len(p.samples) == 0 {
		return int64(mean * float64(p.keys))
	}
	var bytes int64
	for _, s := range p.samples {
		bytes += s.Bytes
	}
	return int64(float64(bytes) / float64(len(p.samples)) * float64(p.keys))
}

// skew names the node that holds more than SkewFactor times its share of
// the slots of a target's keys, the worst first; "" when none does or the
// target has fewer than SkewMinKeys keys.
func skew(name string, keys int64, nodes []NodeSurvey) string {
	if keys < SkewMinKeys || len(nodes) < 2 {
		return ""
	}
	worst, ratio := -1, SkewFactor
	for i, n := range nodes {
		if n.SlotShare <= 0 {
			continue
		}
		share := float64(n.Keys) / float64(keys)
		if r := share / n.SlotShare; r > ratio {
			worst, ratio = i, r
		}
	}
	if worst < 0 {
		return ""
	}
	n := nodes[worst]
	return fmt.Sprintf("%s: node %s holds %.0f%% of the keys for %.0f%% of the slots (hash tags or a hot key pattern pin them there)",
		name, n.Addr, 100*float64(n.Keys)/float64(keys), 100*n.SlotShare)
}

func bucketOf(ttl time.Duration) int {
	if ttl < 0 {
		return 0
	}
	for i, b := range ttlBounds {
		if ttl <= b {
			return i + 1
		}
	}
	return len(ttlBounds)
}

type weighted struct {
	d time.Duration
	w float64
}

// percentile is the weighted nearest-rank percentile: the smallest value
// whose cumulative weight reaches q of the total. With every key sampled
// it is the exact percentile of the keys.
func percentile(v []weighted, q float64) time.Duration {
	slices.SortFunc(v, func(a, b weighted) int { return cmp.Compare(a.d, b.d) })
	var total float64
	for _, x := range v {
		total += x.w
	}
	var cum float64
	for _, x := range v {
		cum += x.w
		if cum >= q*total-1e-9*total {
			return x.d
		}
	}
	return v[len(v)-1].d
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// measure reads PTTL and MEMORY USAGE of the picked keys on their node in one
// pipeline. Keys that vanished since SCAN saw them are dropped.
func measure(ctx context.Context, node *redis.Client, picks [][]string) ([][]KeySample, error) {
	type pair struct {
		ttl *redis.DurationCmd
		mem *redis.IntCmd
	}
	cmds := make([][]pair, len(picks))
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, keys := range picks {
			for _, k := range keys {
				cmds[i] = append(cmds[i], pair{p.PTTL(ctx, k), p.MemoryUsage(ctx, k)})
			}
		}
		return nil
	})
	// The pipeline's error is its first failed command's; replies from the
	// server (a key gone, NOPERM on MEMORY) are judged per command below, and
	// only a failure to talk to the node fails the survey.
	var replyErr redis.Error
	if err != nil && !errors.Is(err, redis.Nil) && !errors.As(err, &replyErr) {
		return nil, fmt.Errorf("measure samples on %s: %w", NodeAddr(node), err)
	}
	out := make([][]KeySample, len(picks))
	for i, keys := range picks {
		for j, k := range keys {
			ttl, err := cmds[i][j].ttl.Result()
			if err != nil || ttl == -2*time.Nanosecond || ttl == -2 {
				continue
			}
			mem, err := cmds[i][j].mem.Result()
			switch {
			case isNoPerm(err):
				mem = -1 // counts and TTLs still tell a lot; sizes are unknown
			case err != nil:
				continue
			}
			if ttl < 0 {
				ttl = -1
			}
			out[i] = append(out[i], KeySample{Key: k, TTL: ttl, Bytes: mem})
		}
	}
	return out, nil
}

func isNoPerm(err error) bool { return redisconn.NotPermitted(err) }
