package warm

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

// WrittenKey is a key an observed request wrote.
type WrittenKey struct {
	Key  string  `json:"key"`   // logical
	TTLS float64 `json:"ttl_s"` // as Redis held it right after: -1 no expiry, -2 gone again
}

// Observing runs a warm's requests in observed windows. Requests are then
// sent one at a time: a request in flight outside a window would lend its
// keys to another's. When the first observed response names its key and
// cache state itself (X-Cache-Key and X-Cache, as cachectl serve does),
// warm trusts those headers from then on, and stops observing (the keys
// are still verified by name in Redis afterwards).
type Observing struct {
	o        *observe.Observer
	decided  atomic.Bool
	trusting atomic.Bool
	mu       sync.Mutex
	err      error // the first observation that failed; the run goes on without
}

// NewObserving observes with o.
func NewObserving(o *observe.Observer) *Observing { return &Observing{o: o} }

// NewObservingOf observes the keys of schema on c with the best mechanism
// the server allows.
func NewObservingOf(ctx context.Context, c redis.UniversalClient, schema keyspace.Schema) (*Observing, error) {
	o, err := observe.New(ctx, c, observe.Options{Prefix: schema.Namespace()})
	if err != nil {
		return nil, err
	}
	return NewObserving(o), nil
}

// Mechanism and Degraded say how requests were observed.
func (w *Observing) Mechanism() observe.Mechanism { return w.o.Mechanism() }
func (w *Observing) Degraded() string             { return w.o.Degraded() }

// Trusting reports whether the API's headers took over from observation.
func (w *Observing) Trusting() bool { return w.trusting.Load() }

// Err is the first observation that failed, if any.
func (w *Observing) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// run sends inside a window, unless the headers have taken over; nil when
// nothing was observed.
func (w *Observing) run(ctx context.Context, send func(context.Context)) *observe.Trace {
	if w.trusting.Load() {
		send(ctx)
		return nil
	}
	t, err := w.o.Observe(ctx, send)
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
		return nil
	}
	return &t
}

// observed takes the cache state and written keys from t where the API
// said nothing, and decides, at the first answer, whether to go on.
func (a *attempt) observed(w *Observing, r *catalogapi.Response, t observe.Trace) {
	if r.Status > 0 && w.decided.CompareAndSwap(false, true) && r.Cache != "" && r.Key != "" {
		w.trusting.Store(true)
	}
	if r.Status < 200 || r.Status >= 300 {
		return
	}
	if a.cache == "" && t.State != observe.Unknown {
		a.cache, a.cacheFrom = string(t.State), "redis"
		if !t.Exact {
			a.cacheFrom = "redis-approximate" // INFO's counters, which every client moves
		}
	}
	prefix := w.o.Prefix()
	for _, k := range t.Writes {
		if !slices.Contains(t.CacheKeys(), k.Key) {
			continue
		}
		a.wrote = append(a.wrote, WrittenKey{Key: observe.Logical(k.Key, prefix), TTLS: k.TTLAfter.Seconds()})
	}
	if a.key == "" {
		if keys := t.CacheKeys(); len(keys) == 1 {
			a.key = observe.Logical(keys[0], prefix)
		}
	}
}
