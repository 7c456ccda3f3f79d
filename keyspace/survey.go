package keyspace

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redisconn"
)

// DefaultSamples is how many keys per target Survey measures on each master.
const DefaultSamples = 20

// SurveyConfig tunes Survey.
type SurveyConfig struct {
	Count   int64 // SCAN COUNT hint; DefaultScanCount when 0
	Samples int   // keys measured per target and master; DefaultSamples when 0
	// MaxImpact, when positive, paces the SCAN on each master as
	// ClearConfig.MaxImpact paces a clear.
	MaxImpact time.Duration
}

// KeySample is one measured key.
type KeySample struct {
	Key   string
	TTL   time.Duration // -1 when the key never expires
	Bytes int64         // MEMORY USAGE; -1 when the user may not run it
}

// TargetSurvey describes the keys of one target.
type TargetSurvey struct {
	Name string
	Keys int64 // exact count from SCAN
	// Samples are keys picked uniformly at random (reservoir sampling) on each
	// master and measured with PTTL and MEMORY USAGE.
	Samples []KeySample
	// MemoryEst is the mean sampled size times Keys: an estimate; -1 when
	// MEMORY USAGE is not permitted for the user.
	MemoryEst int64
	// AvgTTL is the mean TTL of the sampled keys that expire; TTLSamples says how many did.
	AvgTTL     time.Duration
	TTLSamples int
}

// Survey counts the keys of every target of sel exactly in one SCAN pass over
// every master, and measures a random sample of each. A key counts in the
// first target it belongs to. It reads only; memory is bounded by the sample size.
func Survey(ctx context.Context, c redis.UniversalClient, sel Selection, cfg SurveyConfig) ([]TargetSurvey, error) {
	match, err := sel.ScanMatch()
	if err != nil {
		return nil, err
	}
	if cfg.Samples <= 0 {
		cfg.Samples = DefaultSamples
	}
	out := make([]TargetSurvey, len(sel))
	for i, t := range sel {
		out[i].Name = t.Name
	}
	var (
		mu  sync.Mutex
		imp impacts
	)
	err = ForEachMaster(ctx, c, func(ctx context.Context, node *redis.Client) error {
		counts := make([]int64, len(sel))
		picks := make([][]string, len(sel))
		err := imp.scan(ctx, node, match, cfg.Count, cfg.MaxImpact, func(keys []string) error {
			for _, k := range keys {
				i := sel.Classify(k)
				if i < 0 {
					continue
				}
				counts[i]++
				// Reservoir sampling: every key seen so far is equally likely to be kept.
				if len(picks[i]) < cfg.Samples {
					picks[i] = append(picks[i], k)
				} else if j := rand.Int64N(counts[i]); j < int64(cfg.Samples) {
					picks[i][j] = k
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		samples, err := measure(ctx, node, picks)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range sel {
			out[i].Keys += counts[i]
			out[i].Samples = append(out[i].Samples, samples[i]...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		t := &out[i]
		slices.SortFunc(t.Samples, func(a, b KeySample) int { return cmpString(a.Key, b.Key) })
		var bytes int64
		var ttl time.Duration
		sized := true
		for _, s := range t.Samples {
			bytes += s.Bytes
			sized = sized && s.Bytes >= 0
			if s.TTL >= 0 {
				ttl += s.TTL
				t.TTLSamples++
			}
		}
		if n := len(t.Samples); n > 0 {
			t.MemoryEst = int64(float64(bytes) / float64(n) * float64(t.Keys))
		}
		if !sized {
			t.MemoryEst = -1
		}
		if t.TTLSamples > 0 {
			t.AvgTTL = ttl / time.Duration(t.TTLSamples)
		}
	}
	return out, nil
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
