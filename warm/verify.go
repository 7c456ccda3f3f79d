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

// ExpectedKeys lists the distinct logical keys the results say were cached.
func ExpectedKeys(results []Result) []string {
	var keys []string
	for _, r := range results {
		if r.OK() && r.Key != "" && !slices.Contains(keys, r.Key) {
			keys = append(keys, r.Key)
		}
	}
	return keys
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
