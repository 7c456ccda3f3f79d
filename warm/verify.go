package warm

import (
	"context"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/keyspace"
)

// Verification is what Redis says before and after a warm run.
type Verification struct {
	Checked    bool     `json:"checked"`
	KeysBefore int64    `json:"keys_before"`
	KeysAfter  int64    `json:"keys_after"`
	Missing    []string `json:"missing"`
	// Coverage is the share of the planned URLs whose every key now exists
	// with a TTL; null when Redis was not read.
	Coverage *Coverage `json:"coverage"`
}

// Coverage counts the URLs whose keys are in Redis, over those planned. A
// URL whose key nobody named (no plan key, no X-Cache-Key, nothing
// observed) is not covered: nothing proves it is cached.
type Coverage struct {
	Covered int     `json:"covered"`
	Planned int     `json:"planned"`
	Ratio   float64 `json:"ratio"`
}

// CountKeys counts the keys of every group of the schema (exact, one SCAN pass).
func CountKeys(ctx context.Context, c redis.UniversalClient, s keyspace.Schema) (int64, error) {
	all, err := s.Group(keyspace.GroupAll)
	if err != nil {
		return 0, err
	}
	n, err := keyspace.Count(ctx, c, keyspace.Selection{all}, keyspace.DefaultScanCount)
	if err != nil {
		return 0, err
	}
	return n[0], nil
}

// ExpectedKeys lists the distinct logical keys the results say were
// cached: the plan's or the API's key, and every cache key Redis showed a
// request writing.
func ExpectedKeys(results []Result) []string {
	var keys []string
	for _, r := range results {
		if !r.OK() {
			continue
		}
		for _, k := range r.keys() {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// keys is every logical key the result is known to be cached under.
func (r Result) keys() []string {
	var keys []string
	if r.Key != "" {
		keys = append(keys, r.Key)
	}
	for _, w := range r.Wrote {
		if !slices.Contains(keys, w.Key) {
			keys = append(keys, w.Key)
		}
	}
	return keys
}

// coverage counts the results whose keys are all present, over planned.
func coverage(results []Result, missing []string, planned int) *Coverage {
	c := &Coverage{Planned: planned}
	for _, r := range results {
		keys := r.keys()
		if r.OK() && len(keys) > 0 && !slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(missing, k) }) {
			c.Covered++
		}
	}
	if planned > 0 {
		c.Ratio = float64(c.Covered) / float64(planned)
	}
	return c
}

// MissingKeys returns the logical keys that do not exist in Redis with a TTL
// (PTTL -2: absent; -1: no expiry, which a cache entry must have).
func MissingKeys(ctx context.Context, c redis.UniversalClient, s keyspace.Schema, logical []string) ([]string, error) {
	if len(logical) == 0 {
		return nil, nil
	}
	p := c.Pipeline()
	cmds := make([]*redis.DurationCmd, len(logical))
	for i, k := range logical {
		cmds[i] = p.PTTL(ctx, s.Key(k))
	}
	if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
		return nil, err
	}
	var missing []string
	for i, cmd := range cmds {
		if ttl, err := cmd.Result(); err != nil || ttl <= 0 {
			missing = append(missing, logical[i])
		}
	}
	return missing, nil
}
