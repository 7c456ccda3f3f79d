package inspect

import (
	"context"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/keyspace"
)

// Report is one snapshot and, when groups were asked for, the exact key
// count of each: what `stats` and `top --once` print.
type Report struct {
	Snapshot Snapshot
	// Groups is nil when no groups were counted.
	Groups []GroupCount
	// Impact is what pacing the count measured; nil when it was not paced.
	Impact *keyspace.Impact
}

// GroupsEmpty reports whether groups were counted and none holds a key.
func (r Report) GroupsEmpty() bool {
	if r.Groups == nil {
		return false
	}
	for _, g := range r.Groups {
		if g.Keys > 0 {
			return false
		}
	}
	return true
}

// CommandError says which command a composite reading failed on; its text
// is the cause's own.
type CommandError struct {
	Command string // "INFO", "SCAN"
	Err     error
}

func (e *CommandError) Error() string { return e.Err.Error() }
func (e *CommandError) Unwrap() error { return e.Err }

// Read takes one snapshot and counts the groups of sel exactly (one SCAN
// pass; none when sel is nil). Errors are *CommandError.
func Read(ctx context.Context, c redis.UniversalClient, sel keyspace.Selection, scanCount int64) (Report, error) {
	return ReadPaced(ctx, c, sel, keyspace.CountConfig{Count: scanCount})
}

// ReadPaced is Read with the group count paced when cfg.MaxImpact is
// positive (keyspace.CountPaced).
func ReadPaced(ctx context.Context, c redis.UniversalClient, sel keyspace.Selection, cfg keyspace.CountConfig) (Report, error) {
	snap, err := Take(ctx, c)
	if err != nil {
		return Report{}, &CommandError{Command: "INFO", Err: err}
	}
	rep := Report{Snapshot: snap}
	if sel == nil {
		return rep, nil
	}
	if rep.Groups, rep.Impact, err = CountGroupsPaced(ctx, c, sel, cfg); err != nil {
		return Report{}, &CommandError{Command: "SCAN", Err: err}
	}
	if rep.Groups == nil {
		rep.Groups = []GroupCount{}
	}
	return rep, nil
}

// Identity reads the server's version and role from INFO: "unknown" for
// each where INFO is not permitted for this user.
func Identity(ctx context.Context, c redis.UniversalClient) (version, role string) {
	version, role = "unknown", "unknown"
	text, err := c.Info(ctx, "server", "replication").Result()
	if err != nil {
		return version, role
	}
	info := ParseInfo(text)
	if v, ok := info.Get("redis_version"); ok {
		version = v
	}
	if r, ok := info.Get("role"); ok {
		role = r
	}
	return version, role
}

// Ping sends n PINGs (at least one) and returns the last reply and the
// median round trip; it stops at the first error.
func Ping(ctx context.Context, c redis.UniversalClient, n int) (reply string, median time.Duration, err error) {
	rtts := make([]time.Duration, 0, max(n, 1))
	for range max(n, 1) {
		start := time.Now()
		if reply, err = c.Ping(ctx).Result(); err != nil {
			return "", 0, err
		}
		rtts = append(rtts, time.Since(start))
	}
	slices.Sort(rtts)
	return reply, rtts[len(rtts)/2], nil
}
