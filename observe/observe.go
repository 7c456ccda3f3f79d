// Package observe learns from Redis itself what one request did to the
// cache: the keys the app read, wrote (with the TTL it set) and deleted
// under the app's PREFIX:VERSION:, and so whether the request was a HIT or
// a MISS. It trusts what Redis shows, not what the app says in headers.
//
// Three mechanisms, cheapest exact one first, and the Trace says which ran:
//
//   - monitor: MONITOR, on a connection of its own, opened for the window
//     alone. The window is bounded by marker commands (ECHO) sent before and
//     after the request, so it is exact without comparing clocks; the
//     commands of cachectl's own connections are left out.
//   - tracking: where MONITOR is refused (an ACL that denies it), CLIENT
//     TRACKING in BCAST mode on the prefix, redirected to a subscriber. It
//     sees the keys written and deleted, not the reads, nor which client
//     wrote; Exact is then false unless the request wrote.
//   - info: INFO keyspace_hits and keyspace_misses deltas only, server-wide
//     and approximate; no keys.
//
// On a busy server other clients run commands while the request does. With
// MONITOR, short guard intervals before and after the request (also bounded
// by markers) show which clients are busy regardless of it: their commands
// in the window are Noise, never the request's keys. Where several idle
// clients act in the window, the ones that read are the request's.
//
// Observe runs one window at a time (calls are serialised): a request whose
// window overlaps another's would see the other's commands as its own.
// Nothing is observed outside the windows.
package observe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/keyspace"
)

// Mechanism is how a window was observed.
type Mechanism string

const (
	Monitor  Mechanism = "monitor"
	Tracking Mechanism = "tracking"
	Info     Mechanism = "info"
)

// State is what the request did with the cache.
type State string

const (
	Hit      State = "HIT"      // read its key and found it
	Miss     State = "MISS"     // wrote its key (after reading it absent)
	Bypass   State = "BYPASS"   // read its key, absent, and did not store it
	Uncached State = "UNCACHED" // issued no command on the prefix
	Unknown  State = "UNKNOWN"  // the mechanism cannot tell
)

// KeyOp is one key of the request.
type KeyOp struct {
	Key string `json:"key"` // the full Redis key
	Cmd string `json:"cmd"` // the first command that touched it (GET, SET, UNLINK…)
	// TTL, for a write, is the expiry the command set: -1 none, 0 unknown
	// (a tracking window, or a command that keeps the TTL).
	TTL time.Duration `json:"-"`
	// TTLAfter, for a write, is PTTL right after the window: -1 no expiry,
	// -2 the key is gone again.
	TTLAfter time.Duration `json:"-"`
	// Found, for a read, is whether the key existed: false when the request
	// wrote it after reading it, else whether it exists after the window.
	Found bool `json:"found"`
}

// Noise is what other clients did under the prefix during the window.
type Noise struct {
	Commands int      `json:"commands"`
	Keys     []string `json:"keys"` // distinct, at most MaxNoiseKeys
}

// MaxNoiseKeys bounds Noise.Keys.
const MaxNoiseKeys = 20

// Trace is what one request did.
type Trace struct {
	Mechanism Mechanism
	Exact     bool // false for info, and for tracking unless the request wrote
	State     State
	Reads     []KeyOp
	Writes    []KeyOp
	Deletes   []KeyOp
	Noise     Noise
	// Hits and Misses are the window's keyspace_hits and keyspace_misses
	// deltas (summed over masters): everyone's lookups, so approximate.
	Hits, Misses int64
	// OtherDBs are the databases other than the client's in which keys
	// under the prefix were used during the window: an app configured with
	// another database than the one observed.
	OtherDBs []int
	// Degraded says why a better mechanism did not run, e.g. "MONITOR
	// refused: NOPERM …"; empty when the best one ran.
	Degraded string
}

// CacheKeys returns the request's cache keys, in order: on a MISS, the keys
// it read and then wrote; otherwise those it read and found. Keys it only
// wrote (an index, a counter), or only read beside a MISS (a fence, a
// lock), are bookkeeping, not where the response is cached. Under
// tracking, which sees no reads, every key written is taken for one.
func (t Trace) CacheKeys() []string {
	if t.Mechanism == Tracking {
		var out []string
		for _, w := range t.Writes {
			out = append(out, w.Key)
		}
		return out
	}
	written := map[string]bool{}
	for _, w := range t.Writes {
		written[w.Key] = true
	}
	var stored, found []string
	for _, r := range t.Reads {
		switch {
		case written[r.Key] && !slices.Contains(stored, r.Key):
			stored = append(stored, r.Key)
		case r.Found && !slices.Contains(found, r.Key):
			found = append(found, r.Key)
		}
	}
	if len(stored) > 0 {
		return stored
	}
	return found
}

// Options configure an Observer.
type Options struct {
	// Prefix is PREFIX:VERSION: (keyspace.Schema.Namespace()): only keys
	// under it are the request's.
	Prefix string
	// Mechanism forces one; "" picks the best the server allows.
	Mechanism Mechanism
	// Guard is each of the quiet intervals before and after the request in
	// which busy clients are recognised; 0 is DefaultGuard, negative none
	// (cheapest, for a server with no other traffic).
	Guard time.Duration
	// Timeout bounds the wait for the end marker; default 5s.
	Timeout time.Duration
}

// DefaultGuard is the default Options.Guard.
const DefaultGuard = 15 * time.Millisecond

// markerPrefix starts every marker command's argument.
const markerPrefix = "cachectl-observe-"

// ErrUnavailable is returned by New when a forced mechanism is refused.
var ErrUnavailable = errors.New("observation mechanism unavailable")

// Observer observes requests against one Redis (standalone or cluster).
type Observer struct {
	rdb      redis.UniversalClient
	opts     Options
	mech     Mechanism
	degraded string
	mu       sync.Mutex
}

// New returns an Observer on rdb, having found which mechanism the server
// allows (a MONITOR or CLIENT TRACKING refused by ACL falls back, and
// Mechanism/Degraded say so).
func New(ctx context.Context, rdb redis.UniversalClient, opts Options) (*Observer, error) {
	if opts.Prefix == "" {
		return nil, errors.New("observe: no key prefix")
	}
	switch {
	case opts.Guard == 0:
		opts.Guard = DefaultGuard
	case opts.Guard < 0:
		opts.Guard = 0
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	o := &Observer{rdb: rdb, opts: opts}
	var why []string
	for _, m := range []Mechanism{Monitor, Tracking, Info} {
		if opts.Mechanism != "" && m != opts.Mechanism {
			continue
		}
		err := o.probe(ctx, m)
		if err == nil {
			o.mech, o.degraded = m, strings.Join(why, "; ")
			return o, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		why = append(why, err.Error())
	}
	return nil, fmt.Errorf("%w: %s", ErrUnavailable, strings.Join(why, "; "))
}

// Mechanism is the mechanism Observe uses.
func (o *Observer) Mechanism() Mechanism { return o.mech }

// Degraded says why a better mechanism is not used; "" when none was refused.
func (o *Observer) Degraded() string { return o.degraded }

// Close releases nothing today (every window's connections are closed when
// it ends); it is there so that callers need not know.
func (o *Observer) Close() error { return nil }

// probe tries m once, without a request.
func (o *Observer) probe(ctx context.Context, m Mechanism) error {
	switch m {
	case Monitor:
		return o.eachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			mon, err := dialMonitor(ctx, node.Options())
			if err != nil {
				return err
			}
			mon.close()
			return nil
		})
	case Tracking:
		if _, ok := o.rdb.(*redis.ClusterClient); ok {
			return errors.New("CLIENT TRACKING: not used on a cluster")
		}
		w, err := o.startTracking(ctx)
		if err != nil {
			return err
		}
		w.close(ctx)
		return nil
	case Info:
		_, err := o.counters(ctx)
		return err
	}
	return fmt.Errorf("observe: unknown mechanism %q", m)
}

// Observe runs request inside an observed window and returns what it did
// to the cache. The error is the observation's; request keeps its own
// results (and errors) in its closure.
func (o *Observer) Observe(ctx context.Context, request func(context.Context)) (Trace, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var t Trace
	var err error
	switch o.mech {
	case Monitor:
		t, err = o.viaMonitor(ctx, request)
	case Tracking:
		t, err = o.viaTracking(ctx, request)
	default:
		t, err = o.viaInfo(ctx, request)
	}
	if err != nil {
		return Trace{}, fmt.Errorf("observe: %w", err)
	}
	t.Mechanism, t.Degraded = o.mech, o.degraded
	return t, nil
}

// eachMaster runs fn on every master (the one server when standalone).
func (o *Observer) eachMaster(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	switch c := o.rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, fn)
	case *redis.Client:
		return fn(ctx, c)
	}
	return fmt.Errorf("observe: unsupported client %T", o.rdb)
}

func (o *Observer) masters(ctx context.Context) ([]*redis.Client, error) {
	var mu sync.Mutex
	var nodes []*redis.Client
	err := o.eachMaster(ctx, func(_ context.Context, n *redis.Client) error {
		mu.Lock()
		nodes = append(nodes, n)
		mu.Unlock()
		return nil
	})
	return nodes, err
}

// counters sums keyspace_hits and keyspace_misses over the masters.
func (o *Observer) counters(ctx context.Context) ([2]int64, error) { return Counters(ctx, o.rdb) }

// Counters sums INFO's keyspace_hits and keyspace_misses over every master
// of c: everyone's lookups, so a window's deltas are approximate.
func Counters(ctx context.Context, c redis.UniversalClient) ([2]int64, error) {
	var total [2]int64
	if c == nil {
		return total, errors.New("no redis")
	}
	var mu sync.Mutex
	err := keyspace.ForEachMaster(ctx, c, func(ctx context.Context, node *redis.Client) error {
		text, err := node.Info(ctx, "stats").Result()
		if err != nil {
			return fmt.Errorf("INFO stats: %w", err)
		}
		info := inspect.ParseInfo(text)
		h, _ := info.Int("keyspace_hits")
		m, _ := info.Int("keyspace_misses")
		mu.Lock()
		total[0] += h
		total[1] += m
		mu.Unlock()
		return nil
	})
	return total, err
}

// viaInfo is the last resort: the window's hit and miss deltas alone.
func (o *Observer) viaInfo(ctx context.Context, request func(context.Context)) (Trace, error) {
	before, err := o.counters(ctx)
	if err != nil {
		return Trace{}, err
	}
	request(ctx)
	after, err := o.counters(ctx)
	if err != nil {
		return Trace{}, err
	}
	t := Trace{Hits: after[0] - before[0], Misses: after[1] - before[1], State: Uncached}
	switch {
	case t.Misses > 0:
		t.State = Miss
	case t.Hits > 0:
		t.State = Hit
	}
	return t, nil
}

func nonce() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Prefix is the PREFIX:VERSION: the Observer keeps keys under.
func (o *Observer) Prefix() string { return o.opts.Prefix }
