package observe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/catalogapi"
)

// ErrNoKey is a URL for which no cache key could be learned.
var ErrNoKey = errors.New("Redis showed no cache key for URL") //nolint:staticcheck // Redis is a name

// URLClear configures ClearURLs: `cachectl clear --url`.
//
// Each URL's keys are learned with one GET inside an observed window (so a
// MISS caches the URL first): the logical key the response names in
// X-Cache-Key where it sends one, else the keys the request read and found
// or wrote (Trace.CacheKeys). Then exactly those keys are deleted, nothing
// else, and with Rewarm each URL is requested again and its keys must be
// back with a TTL.
type URLClear struct {
	API  *catalogapi.Client
	URLs []string // absolute
	// Key is the Redis key of a logical key (keyspace.Schema.Key), for X-Cache-Key.
	Key    func(logical string) string
	DryRun bool // learn and list, delete nothing
	Rewarm bool
	// Confirm is called once the keys are learned and before any is deleted
	// (never on a dry run, nor when no key was learned). false deletes
	// nothing; its error is returned as it is.
	Confirm func(urls []URLKeys) (bool, error)
}

// URLKeys is one URL of a ClearURLs: its keys and what was done with them.
type URLKeys struct {
	URL    string
	Source string // "x-cache-key", or the observation's mechanism
	Keys   []URLKey
	// Err says why no key was learned (wrapping ErrNoKey), or the request's
	// error; the URL's keys are then none.
	Err    error
	Rewarm *Rewarm // after a Rewarm; nil otherwise
}

// URLKey is one learned key, by its Redis name.
type URLKey struct {
	Key     string
	Deleted bool // UNLINK removed it (for this URL or another that shares it); false when it was already gone
}

// Rewarm is what requesting a URL again after the clear showed.
type Rewarm struct {
	OK      bool          // every key of the URL exists again with a TTL
	TTL     time.Duration // the smallest PTTL of its keys after the request
	Missing []string      // the keys that did not come back with a TTL
	Err     error         // the request's error
}

// URLClearResult is the outcome of ClearURLs.
type URLClearResult struct {
	URLs      []URLKeys
	Mechanism Mechanism
	Degraded  string
	DryRun    bool
	// Complete is false when a delete failed: some learned keys may remain.
	Complete bool
	Duration time.Duration
}

// Keys returns the distinct learned keys, in order.
func (r URLClearResult) Keys() []string {
	var out []string
	for _, u := range r.URLs {
		for _, k := range u.Keys {
			if !slices.Contains(out, k.Key) {
				out = append(out, k.Key)
			}
		}
	}
	return out
}

// Deleted counts the distinct keys deleted.
func (r URLClearResult) Deleted() int {
	var out []string
	for _, u := range r.URLs {
		for _, k := range u.Keys {
			if k.Deleted && !slices.Contains(out, k.Key) {
				out = append(out, k.Key)
			}
		}
	}
	return len(out)
}

// Failed reports a URL whose key was not learned or did not come back.
func (r URLClearResult) Failed() bool {
	return slices.ContainsFunc(r.URLs, func(u URLKeys) bool { return u.Err != nil || u.Rewarm != nil && !u.Rewarm.OK })
}

// ClearURLs learns the keys of c.URLs, asks c.Confirm, deletes them and,
// with c.Rewarm, proves they come back. An API that never answered, an
// observation that failed or Confirm's error end it; a failed delete
// returns the result so far, not Complete.
func (o *Observer) ClearURLs(ctx context.Context, c URLClear) (res URLClearResult, err error) {
	start := time.Now()
	res = URLClearResult{Mechanism: o.mech, Degraded: o.degraded, DryRun: c.DryRun, Complete: true}
	defer func() { res.Duration = time.Since(start) }()
	for _, u := range c.URLs {
		uk, err := o.learn(ctx, c, u)
		if err != nil {
			return res, err
		}
		res.URLs = append(res.URLs, uk)
	}
	if c.DryRun || len(res.Keys()) == 0 {
		return res, nil
	}
	if ok, err := c.Confirm(res.URLs); err != nil || !ok {
		return res, err
	}
	if err := o.unlink(ctx, &res); err != nil {
		res.Complete = false
		return res, err
	}
	if c.Rewarm {
		for i := range res.URLs {
			if err := o.rewarm(ctx, c.API, &res.URLs[i]); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// learn requests u once, observed, and names its keys.
func (o *Observer) learn(ctx context.Context, c URLClear, u string) (URLKeys, error) {
	p, err := o.Get(ctx, c.API, u)
	if err != nil {
		return URLKeys{}, err
	}
	uk := URLKeys{URL: u, Source: string(o.mech)}
	var keys []string
	switch {
	case errors.As(p.Err, new(*catalogapi.UnreachableError)):
		return uk, p.Err
	case p.Err != nil:
		uk.Err = p.Err
	case !p.Response.Success():
		uk.Err = fmt.Errorf("%w: GET answered %d, and an error is not cached", ErrNoKey, p.Response.Status)
	case p.Response.Key != "" && p.Trace.UsedAnotherKey(c.Key(p.Response.Key)):
		// The app caches it elsewhere (another db, prefix or version), and
		// a key of that name here is not the URL's.
		uk.Err = fmt.Errorf("%w: the response names %s in X-Cache-Key, but the request used no such key in this db: %s",
			ErrNoKey, c.Key(p.Response.Key), elsewhereHint(p.Trace))
	case p.Response.Key != "":
		uk.Source, keys = "x-cache-key", []string{c.Key(p.Response.Key)}
	default:
		if keys = p.Trace.CacheKeys(); len(keys) == 0 {
			uk.Err = fmt.Errorf("%w: %s", ErrNoKey, noKeyReason(p.Trace))
		}
	}
	for _, k := range keys {
		uk.Keys = append(uk.Keys, URLKey{Key: k})
	}
	return uk, nil
}

// UsedAnotherKey says whether the request used the cache of this server,
// yet not key: MONITOR saw every command of the window, none on key, while
// the server counted lookups (keyspace hits or misses) or keys in another
// db were used. The key an X-Cache-Key header names is then not where the
// app caches that response. A request that made no lookup here at all (a
// replica or a cache in the app's own process served it) proves nothing,
// and neither does a trace of another mechanism, which does not see reads.
func (t Trace) UsedAnotherKey(key string) bool {
	return t.Mechanism == Monitor && !t.Saw(key) && (t.Hits+t.Misses > 0 || len(t.OtherDBs) > 0)
}

// Saw reports whether key was read or written in the window, by the
// request or by noise, or whether the noise was too much to tell. It means
// something only for a MONITOR trace, which sees every command.
func (t Trace) Saw(key string) bool {
	has := func(op KeyOp) bool { return op.Key == key }
	return slices.ContainsFunc(t.Reads, has) || slices.ContainsFunc(t.Writes, has) ||
		slices.Contains(t.Noise.Keys, key) || len(t.Noise.Keys) >= MaxNoiseKeys
}

// elsewhereHint says where the request's cache may be instead.
func elsewhereHint(t Trace) string {
	if len(t.OtherDBs) == 0 {
		return "check --prefix and --key-version against the app's KEY_PREFIX and VERSION"
	}
	dbs := make([]string, len(t.OtherDBs))
	for i, n := range t.OtherDBs {
		dbs[i] = strconv.Itoa(n)
	}
	return "it used the cache in db " + strings.Join(dbs, ", ") + ": point --redis at that db"
}

// noKeyReason says why a successful request's trace names no cache key.
func noKeyReason(t Trace) string {
	switch {
	case t.Mechanism == Info:
		return "only INFO counters could be observed (MONITOR and CLIENT TRACKING refused), and they name no keys"
	case t.Mechanism == Tracking && len(t.Writes) == 0:
		return "CLIENT TRACKING (MONITOR refused) sees writes only, and the request wrote nothing: an already cached URL shows no key this way"
	case len(t.Reads)+len(t.Writes)+len(t.Deletes) == 0:
		return "the request issued no command on the cache's keys"
	case len(t.Writes) == 0:
		var read []string
		for _, r := range t.Reads {
			read = append(read, r.Key)
		}
		return "the request read " + strings.Join(read, ", ") + ", found nothing and stored nothing"
	}
	return "the request only wrote keys it never read (bookkeeping, not a cached response)"
}

// unlink deletes each learned key once, one UNLINK per key (keys of a
// cluster live in several slots).
func (o *Observer) unlink(ctx context.Context, res *URLClearResult) error {
	for _, k := range res.Keys() {
		n, err := o.rdb.Unlink(ctx, k).Result()
		if err != nil {
			return fmt.Errorf("unlink %s: %w", k, err)
		}
		for i := range res.URLs {
			for j := range res.URLs[i].Keys {
				if res.URLs[i].Keys[j].Key == k {
					res.URLs[i].Keys[j].Deleted = n > 0
				}
			}
		}
	}
	return nil
}

// rewarm requests u's URL again, observed, and reads its keys' PTTL.
func (o *Observer) rewarm(ctx context.Context, api *catalogapi.Client, u *URLKeys) error {
	if len(u.Keys) == 0 {
		return nil
	}
	p, err := o.Get(ctx, api, u.URL)
	if err != nil {
		return err
	}
	rw := &Rewarm{OK: true, Err: p.Err}
	for _, k := range u.Keys {
		ttl, err := o.rdb.PTTL(ctx, k.Key).Result()
		if err != nil {
			return fmt.Errorf("pttl %s: %w", k.Key, err)
		}
		if ttl <= 0 {
			rw.OK = false
			rw.Missing = append(rw.Missing, k.Key)
			continue
		}
		if rw.TTL == 0 || ttl < rw.TTL {
			rw.TTL = ttl
		}
	}
	if len(rw.Missing) > 0 {
		rw.TTL = 0
	}
	u.Rewarm = rw
	return nil
}
