// Package tui is the live dashboard of `cachectl top`: a Bubble Tea model
// that reads everything it shows through a Source, so it never talks to
// Redis or HTTP itself and runs the same against a fake in tests.
package tui

import (
	"context"
	"math"
	"time"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/option"
)

// Source is where the dashboard gets its data. Every method is called from a
// tea.Cmd, never from Update or View, and at most one call of each kind is
// in flight at a time.
type Source interface {
	// Snapshot is one INFO reading (a cluster aggregate for a cluster).
	Snapshot(ctx context.Context) (inspect.Snapshot, error)
	// Ping returns the round trip of one PING.
	Ping(ctx context.Context) (time.Duration, error)
	// Groups counts the keys of each group: exactly (a full SCAN) when exact
	// is set, otherwise a cheap estimate.
	Groups(ctx context.Context, exact bool) ([]Group, error)
}

// AppSource reads the application's own cache figures (the reference
// server's /metrics). An error means there is no such panel to show.
type AppSource interface {
	App(ctx context.Context) (AppStats, error)
}

// DetailSource reads one group closely, on demand: the drill-down (Enter)
// and the dry run of clearing it (d). It only reads; nothing in the
// dashboard deletes.
type DetailSource interface {
	// Detail surveys the group's keys: the exact count, the spread of their
	// TTLs and the biggest of the keys measured.
	Detail(ctx context.Context, group string) (GroupDetail, error)
	// Count is the exact number of keys a clear of the group would delete,
	// counted as `clear --dry-run` counts them.
	Count(ctx context.Context, group string) (int64, error)
}

// GroupDetail is what a survey of one group found.
type GroupDetail struct {
	Name string
	// Keys is the exact count (one SCAN pass).
	Keys int64
	// Sampled is how many keys were measured (PTTL and MEMORY USAGE); the
	// figures below come from them and are estimates unless Sampled == Keys.
	Sampled int
	// Memory is the estimated memory of the group's keys in bytes.
	Memory      int64
	MemoryKnown bool
	// TTLP50 and TTLP90 are percentiles of the TTLs of the keys that expire;
	// TTLKnown is false when none of those measured does.
	TTLP50, TTLP90 time.Duration
	TTLKnown       bool
	// NoTTL is the number of keys without a TTL; ExpiringSoon the share of
	// keys that expire soon (within Soon).
	NoTTL        int64
	ExpiringSoon float64
	Soon         time.Duration
	// TTLExact is set when every key was measured: the TTL figures are
	// then counts, not estimates.
	TTLExact bool
	// Histogram counts the measured keys by TTL, shortest first; a bucket
	// with Upper < 0 holds the keys without a TTL, one with Upper TTLOver
	// those beyond the last bound.
	Histogram []TTLBucket
	// Biggest are the largest keys sized, largest first (MEMORY USAGE: an
	// estimate); BiggestExact is set when every key of the group was sized.
	Biggest      []KeySize
	BiggestExact bool
	// Nodes are the group's keys per master, on a cluster; Skew warns when
	// one master holds far more of them than its share of the slots.
	Nodes []NodeKeys
	Skew  string
}

// TTLOver is the Upper of the bucket of TTLs beyond every bound.
const TTLOver = time.Duration(math.MaxInt64)

// TTLBucket counts the keys whose TTL is at most Upper (and more than the
// previous bucket's); Upper < 0 is the bucket of keys without a TTL.
type TTLBucket struct {
	Upper time.Duration
	Count int64
}

// NodeKeys is one master's share of a group.
type NodeKeys struct {
	Addr   string
	Keys   int64
	Memory int64 // estimate; < 0 when unknown
	NoTTL  int64 // keys without a TTL on that master (estimate unless every key was sampled)
	// TTLP50 is the median TTL of its sampled keys that expire; TTLKnown
	// is false when none does.
	TTLP50   time.Duration
	TTLKnown bool
}

// KeySize is one key and its MEMORY USAGE in bytes.
type KeySize struct {
	Key   string
	Bytes int64
}

// Group is the key count of one keyspace group, with what is known of its
// keys' TTL and memory.
type Group struct {
	inspect.GroupCount
	// AvgTTL is the mean TTL of sampled keys that expire; TTLKnown is false
	// when nothing was sampled or no sampled key expires.
	AvgTTL   time.Duration
	TTLKnown bool
	// Memory is the estimated memory of the group's keys, in bytes.
	Memory      int64
	MemoryKnown bool
}

// AppStats are cumulative cache lookups by group as the application counted
// them, or as sampling Redis's commands saw them (Sampled).
type AppStats struct {
	Groups map[string]AppGroup
	// Sampled says the figures are a sample of Redis's commands, not the
	// application's own counts; Note then says how they were sampled and
	// what it cost Redis.
	Sampled bool
	Note    string
}

// AppGroup holds one group's cumulative lookup counters.
type AppGroup struct {
	Hits, Misses, Bypass float64
	// Lo and Hi bound a sampled hit rate (95%); Sampled marks it.
	Lo, Hi  float64
	Sampled bool
}

// Config is what the dashboard needs besides its Source.
type Config struct {
	Source Source
	// App is nil when there is no application to ask.
	App AppSource
	// Detail is nil when groups cannot be surveyed one by one: Enter and d
	// then say so.
	Detail DetailSource
	// ClearArgs are the flags, free of secrets, that point `cachectl clear`
	// at the same Redis and schema; the dry-run view prints them after
	// `cachectl clear --group NAME`.
	ClearArgs []string
	// Addr is the redacted Redis address shown in the header.
	Addr string
	// Interval between two INFO readings; 1 s when 0.
	Interval time.Duration
	// GroupEvery is the number of readings between two group estimates; 10 when 0.
	GroupEvery int
	// ExactBelow: at start, a database with at most this many keys is
	// counted exactly (SCAN with TTL and memory samples); 20,000 when 0.
	ExactBelow int64
	// DB is the database whose key count decides ExactBelow.
	DB int
	// Timeout bounds each reading; 2 s when 0. Exact counts get ExactTimeout (2 min when 0).
	Timeout      time.Duration
	ExactTimeout time.Duration
	// NoColor renders without colour (borders and layout stay).
	NoColor bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Context bounds every call to the sources; context.Background when nil.
	Context context.Context
}

func (c *Config) defaults() {
	option.Default(&c.Interval, time.Second)
	option.Default(&c.GroupEvery, 10)
	option.Default(&c.ExactBelow, inspect.DefaultExactBelow)
	option.Default(&c.Timeout, 2*time.Second)
	option.Default(&c.ExactTimeout, 2*time.Minute)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Context == nil {
		c.Context = context.Background()
	}
}
