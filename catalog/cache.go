package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/cachectl/cachectl/keyspace"
)

// How the cache stays correct, in one place:
//
// Families. Every cached key belongs to one invalidation family: "categories"
// (categories:all and category:{id}), "colors" (product_colors:all),
// "product:{id}" (product:{id}, product:{id}:variants, product:{id}:variants:list),
// "recs" (every product:{id}:recommendations) and "lists" (every products:*
// key: lists, filters, top sellers, new arrivals, personalized). A write
// invalidates whole families. Which families there are, and which writes
// invalidate each, is data of the keyspace registry (keyspace.Builtin).
//
// Invalidation cost. Families with fixed key names delete those names. Families
// whose keys carry ids or hashes ("categories", "recs", "lists") keep an index:
// a sorted set, catalog:index:{family}, to which every key is added (scored by
// its expiry) in the same atomic script that writes it; expired members are
// dropped on each add. Invalidation UNLINKs the members and the index in one
// script, so its cost is the number of live keys this server wrote for the
// family, never the size of the keyspace (no SCAN).
// Keys the server never wrote (sessions under the same prefix) are never touched.
//
// No stale sets. Each family has a fence, catalog:fence:{family}, a counter
// that every invalidation increments. A reader that misses reads the fence before
// it loads from the database, and writes the value with a script that only SETs
// when the fence still holds what it read. A write that committed after the
// reader's fence read has incremented the fence before it returned, so the
// reader's old value is dropped. An in-process generation per
// family gives the same guarantee for this server's own writes even when Redis
// did not answer.
//
// Coalescing. Concurrent misses on one key share one database load
// (singleflight), keyed by the key, the fence and the local generation: a
// reader that arrives after a write never joins a load that started before it.
//
// Failing open. Every Redis call has a short deadline. An error that says a
// server cannot serve marks it down (health.go): a single server as a whole,
// on a cluster the master that holds the key. Requests for its keys go
// straight to the database (X-Cache: BYPASS, coalesced as misses are) until
// it answers a PING or its slots move to another node. A value Redis refuses
// at maxmemory is simply not cached; invalidations are allowed there. An
// invalidation that did not reach Redis is kept as pending (and in the
// database file, pending.go); while a family is pending its keys are neither
// read from nor written to Redis, and the pending invalidations are replayed
// before Redis is trusted again, so a copy Redis kept through an outage is
// never served.
//
// Redis Cluster. The scripts above touch keys of several hash slots, which a
// cluster refuses; there the same guarantees come from single-key commands in
// a careful order, described in cluster.go.
//
// Sharing Redis. A Django app may cache under the same prefix and version,
// and the seed's fixed key names (categories:all, product:{id}, ...) are
// then the same keys. Every value the server stores begins with valueMark;
// a value without it (a pickle, zlib, any JSON, a hash) belongs to another
// writer. Such a value is never served, replaced, extended or unlinked by a
// reader: the request is served from the database (X-Cache: BYPASS, counted
// as result "foreign"), and every command that writes a value checks the
// mark in the same atomic step (ownedLua), so a foreign value written while
// the reader loaded survives too. Invalidations still delete the keys they
// name (fixed keys), whoever wrote them, as the app's own signals would,
// and the keys of an index: those the server wrote (on a cluster, also a key
// whose SET found another writer's value, since the entry goes in first).

// Names of the server's own bookkeeping keys, inside the schema's namespace but
// outside every keyspace group, so `cachectl clear` never removes them.
const (
	fenceKeyPrefix = "catalog:fence:"
	indexKeyPrefix = "catalog:index:"
	// fenceTTL outlives any load. A missing fence reads as "0"; the next
	// write recreates it above every value it had (fenceBumpLua).
	fenceTTL = 24 * time.Hour
	// indexTTL outlives the longest TTL of an indexed key, so an index never
	// expires before the keys it lists.
	indexTTL = time.Hour
	// indexSlack keeps index entries this long past their keys' expiry, so a
	// server whose clock runs ahead does not drop entries of live keys.
	indexSlack = time.Minute
	// probeEvery is how often a down Redis is probed.
	probeEvery = 200 * time.Millisecond
)

// valueMark begins every value the server stores, so that it can tell its
// own values from another writer's. django-redis cannot produce it: '#' is
// not a pickle opcode, nor the start of JSON, an integer (stored as is), a
// zlib or an lzma stream, so a Django app that reads it fails to decode it
// rather than mistaking it for data. Values stored without it (by versions
// before the mark) cannot be told from a JSON-serializing app's and count as
// foreign until they expire or are invalidated.
const valueMark = "#cachectl-serve/1\n"

// ownedLua defines owned(key): true when key is missing or holds one of the
// server's values (ARGV[1] is valueMark), false for another writer's value of
// any type. It reads at most the mark's length of the value.
const ownedLua = `
local function owned(key)
	local t = redis.call('TYPE', key)['ok']
	if t == 'none' then return true end
	return t == 'string' and redis.call('GETRANGE', key, 0, #ARGV[1] - 1) == ARGV[1]
end
`

// setIfFenced writes KEYS[1] only when the fence KEYS[2] still holds ARGV[2]
// and KEYS[1] holds no other writer's value (it returns -1 then); ARGV[1] is
// valueMark. With a third key it also records KEYS[1] in that index, a
// sorted set scored by expiry time (ARGV[6] is now, in ms), and drops the
// members that expired before ARGV[7], so an index never outgrows the keys
// that are still alive.
var setIfFenced = redis.NewScript(ownedLua + `
local f = redis.call('GET', KEYS[2])
if not f then f = '0' end
if f ~= ARGV[2] then return 0 end
if not owned(KEYS[1]) then return -1 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
if #KEYS >= 3 then
	redis.call('ZADD', KEYS[3], tonumber(ARGV[6]) + tonumber(ARGV[4]), KEYS[1])
	redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[7])
	redis.call('PEXPIRE', KEYS[3], ARGV[5])
end
return 1
`)

// fenceBumpLua moves the fence KEYS[1] to INCR's result or to the server's
// time in µs, whichever is higher, and keeps it ARGV[1] ms; lost is 1 when
// the fence was missing or not a counter. Counting from the clock, a fence
// recreated after it expired or was evicted comes back above the values it
// had, so a reader's fence does not come back.
const fenceBumpLua = `
local v = redis.pcall('INCR', KEYS[1])
if type(v) ~= 'number' then v = 0 end
local lost = 0
if v <= 1 then lost = 1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if v < now then
	v = now
	redis.call('SET', KEYS[1], string.format('%.0f', v))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
`

// invalidateFamily unlinks every member of the index KEYS[2] and the index
// itself (when ARGV[2] is "1") and the fixed keys KEYS[3...], then moves the
// fence KEYS[1]. Members are unlinked in batches to stay within Lua's stack.
// The deletes come first: UNLINK is allowed at maxmemory, so should the fence
// write be refused there (see oomScript), the old copies are gone all the same.
var invalidateFamily = newOOMScript(`
local n = 0
if ARGV[2] == '1' then
	local m = redis.call('ZRANGE', KEYS[2], 0, -1)
	for i = 1, #m, 500 do
		n = n + redis.call('UNLINK', unpack(m, i, math.min(i + 499, #m)))
	end
	redis.call('UNLINK', KEYS[2])
end
for i = 3, #KEYS do
	n = n + redis.call('UNLINK', KEYS[i])
end
` + fenceBumpLua + `
return n
`)

// oomScript is a script that must run when Redis is at maxmemory with
// noeviction, where a plain script's first write that adds data fails and
// aborts it. It is flagged allow-oom (Redis 7 and later); a server that does
// not know script flags (an older Redis, the embedded one) gets the same
// script unflagged, from then on.
type oomScript struct {
	flagged, plain *redis.Script
}

func newOOMScript(src string) oomScript {
	return oomScript{flagged: redis.NewScript("#!lua flags=allow-oom\n" + src), plain: redis.NewScript(src)}
}

// run runs the script; unflagged remembers, per server, that Redis could not
// compile the flagged one.
func (s oomScript) run(ctx context.Context, rdb redis.Scripter, unflagged *atomic.Bool, keys []string, args ...any) *redis.Cmd {
	if !unflagged.Load() {
		cmd := s.flagged.Run(ctx, rdb, keys, args...)
		if err := cmd.Err(); err == nil || !strings.Contains(err.Error(), "Error compiling script") {
			return cmd
		}
		unflagged.Store(true)
	}
	return s.plain.Run(ctx, rdb, keys, args...)
}

// family is a set of keys invalidated together: one of the keyspace
// registry's families (keyspace.Family), for a product where it is one per product.
type family struct {
	name    string
	indexed bool
	fixed   []string // logical keys deleted by name
}

// The families the handlers cache under, from the registry.
var (
	famCategories = fromRegistry(registryFamily(keyspace.FamilyCategories), 0)
	famColors     = fromRegistry(registryFamily(keyspace.FamilyColors), 0)
	famRecs       = fromRegistry(registryFamily(keyspace.FamilyRecommendations), 0)
	famLists      = fromRegistry(registryFamily(keyspace.FamilyLists), 0)
)

// famProduct is the family of one product's own keys.
func famProduct(id int64) family {
	return fromRegistry(registryFamily(keyspace.FamilyProduct), id)
}

func registryFamily(name string) keyspace.Family {
	for _, g := range keyspace.Builtin() {
		if i := slices.IndexFunc(g.Families, func(f keyspace.Family) bool { return f.Name == name }); i >= 0 {
			return g.Families[i]
		}
	}
	panic("catalog: the keyspace registry has no family " + name)
}

// fromRegistry is f, for product id where f is one family per product.
func fromRegistry(f keyspace.Family, id int64) family {
	if f.ByID != nil {
		return family{name: f.Name + ":" + strconv.FormatInt(id, 10), indexed: f.Indexed, fixed: f.ByID(id)}
	}
	return family{name: f.Name, indexed: f.Indexed, fixed: slices.Clone(f.Keys)}
}

// familiesOn are the families of every group of the registry that a write
// invalidates, in the registry's order; a family per product comes once for
// each distinct product the write touched (ids of 0 are none).
func familiesOn(w keyspace.Write, productIDs ...int64) []family {
	var fams []family
	for _, g := range keyspace.Builtin() {
		for _, f := range g.Families {
			if !f.InvalidatedBy(w) {
				continue
			}
			if f.ByID == nil {
				fams = append(fams, fromRegistry(f, 0))
				continue
			}
			for i, id := range productIDs {
				if id != 0 && !slices.Contains(productIDs[:i], id) {
					fams = append(fams, fromRegistry(f, id))
				}
			}
		}
	}
	return fams
}

// entry is one cacheable response.
type entry struct {
	logical string
	ttl     time.Duration
	fam     family
	group   string // keyspace group, for metrics
}

// Cache states reported in X-Cache.
const (
	cacheHit    = "HIT"
	cacheMiss   = "MISS"
	cacheBypass = "BYPASS"
)

// Results of a lookup in catalog_cache_requests_total.
const (
	resultHit     = "hit"
	resultMiss    = "miss"
	resultBypass  = "bypass"  // Redis not consulted or not answering, or --no-cache
	resultForeign = "foreign" // the key holds another writer's value, left alone
)

type cache struct {
	rdb     redis.UniversalClient // nil: no cache at all
	cluster bool                  // rdb is a Redis Cluster: no multi-key scripts (cluster.go)
	locks   clusterLocks
	schema  keyspace.Schema
	timeout time.Duration
	noCache bool
	metrics *metrics
	log     *slog.Logger
	flights singleflight.Group

	health   health       // the servers taken for down (health.go)
	reloaded atomic.Int64 // unix nanos of the last reload of the slot map
	probing  atomic.Bool
	npending atomic.Int64 // len(pending), read without the lock on every request
	probed   atomic.Int64 // unix nanos of the last probe start
	// unflagged is set once Redis has refused a flagged script (oomScript).
	unflagged atomic.Bool
	full      atomic.Bool // the last value Redis was asked to store was refused for lack of memory

	// hook, when set by a test, runs at each stage of writing a loaded value.
	hook func(stage string)

	mu      sync.Mutex
	gens    map[string]uint64
	pending map[string]pendingInvalidation

	// store keeps the pending invalidations across restarts when it is a
	// file (pending.go); persistMu orders its writes as the map changes.
	store     *Store
	persistMu sync.Mutex
	restored  atomic.Bool // the pending invalidations of the last run are loaded
	// clearArgs point `cachectl clear` at this Redis (ClearArgs).
	clearArgs []string
}

type pendingInvalidation struct {
	fam   family
	epoch uint64
}

func newCache(cfg Config, m *metrics, log *slog.Logger) *cache {
	_, cluster := cfg.Redis.(*redis.ClusterClient)
	c := &cache{
		rdb: cfg.Redis, cluster: cluster, schema: cfg.Schema, timeout: cfg.RedisTimeout, noCache: cfg.NoCache, metrics: m, log: log,
		gens: map[string]uint64{}, pending: map[string]pendingInvalidation{},
		store: cfg.Store, clearArgs: cfg.ClearArgs,
	}
	if c.rdb != nil {
		c.rdb.AddHook(failureHook{c})
	}
	return c
}

func (c *cache) gen(fam string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens[fam]
}

func (c *cache) isPending(fam string) bool {
	if c.npending.Load() == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pending[fam]
	return ok
}

func (c *cache) pendingCount() int {
	return int(c.npending.Load())
}

// usable reports whether Redis may be consulted for a family's keys now.
func (c *cache) usable(fam string, keys ...string) bool {
	if c.rdb == nil {
		return false
	}
	if c.health.any() || c.pendingCount() > 0 {
		c.maybeRecover()
	}
	return c.reachable(keys...) && !c.isPending(fam)
}

// fail counts a failed Redis call and logs it with -v; a server failure has
// already marked down the server it blames (health.go).
func (c *cache) fail(op string, err error) {
	c.metrics.redisErrors.WithLabelValues(op).Inc()
	c.log.Debug("redis call failed: served from the database", "op", op, "err", err)
}

// loadFunc loads a response body from the database.
type loadFunc func(ctx context.Context) ([]byte, error)

// fetch returns the body for e, from Redis when it can and the database when
// it must, with the X-Cache state.
func (c *cache) fetch(ctx context.Context, e entry, load loadFunc) ([]byte, string, error) {
	key := c.schema.Key(e.logical)
	if c.noCache || !c.usable(e.fam.name, key) {
		return c.bypass(ctx, e, load, resultBypass)
	}
	gen := c.gen(e.fam.name)
	fenceKey := c.schema.Key(fenceKeyPrefix + e.fam.name)
	// The value alone on the hot path: reading the fence with it would make
	// Redis count a keyspace miss for every hit while no write has created the
	// fence. The fence is read only after a miss, which is all the guarantee
	// needs: before the database load whose result the fence protects.
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	cached, err := c.rdb.Get(rctx, key).Result()
	if err == nil || isWrongType(err) {
		body, own := ownBody(cached)
		switch {
		case err != nil || !own:
			cancel()
			c.log.Debug("another writer's value: served from the database, left in place", "key", key)
			return c.bypass(ctx, e, load, resultForeign)
		case body != "":
			cancel()
			c.metrics.cache.WithLabelValues(e.group, resultHit).Inc()
			return []byte(body), cacheHit, nil
		}
		// One of ours, but its body is not JSON (garbage after the mark): a
		// miss, and replaced below.
	}
	fence := "0" // no write has created the fence yet
	if (err == nil || errors.Is(err, redis.Nil)) && c.onDownNode(fenceKey) {
		cancel()
		return c.bypass(ctx, e, load, resultBypass) // the miss cannot be protected: load without caching
	}
	if err == nil || errors.Is(err, redis.Nil) {
		var f string
		f, err = c.rdb.Get(rctx, fenceKey).Result()
		switch {
		case err == nil:
			fence = f
		case errors.Is(err, redis.Nil):
			err = nil
		}
	}
	cancel()
	if err != nil {
		c.fail("get", err)
		return c.bypass(ctx, e, load, resultBypass)
	}
	c.metrics.cache.WithLabelValues(e.group, resultMiss).Inc()
	flight := key + "\x00" + fence + "\x00" + strconv.FormatUint(gen, 10)
	// The load outlives a leader whose client went away: followers wait on it.
	lctx := context.WithoutCancel(ctx)
	v, err, _ := c.flights.Do(flight, func() (any, error) {
		body, err := load(lctx)
		if err != nil {
			return nil, err
		}
		c.set(lctx, e, key, fenceKey, fence, gen, body)
		return body, nil
	})
	if err != nil {
		return nil, cacheMiss, err
	}
	return v.([]byte), cacheMiss, nil
}

// bypass serves e from the database without Redis, counted as result.
// Concurrent requests for one key share one load, as misses do: the database
// needs that protection most when it has lost its cache. The flight is keyed
// by the local generation, so a request that arrives after a write never
// joins a load that started before it.
func (c *cache) bypass(ctx context.Context, e entry, load loadFunc, result string) ([]byte, string, error) {
	c.metrics.cache.WithLabelValues(e.group, result).Inc()
	c.testHook(stageBypass)
	flight := "bypass\x00" + e.logical + "\x00" + strconv.FormatUint(c.gen(e.fam.name), 10)
	v, err, _ := c.flights.Do(flight, func() (any, error) { return load(context.WithoutCancel(ctx)) })
	if err != nil {
		return nil, cacheBypass, err
	}
	return v.([]byte), cacheBypass, nil
}

func isWrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE")
}

// ownBody returns the body of one of the server's values (own), or "" when
// that body is not plausible JSON. A value without valueMark is another
// writer's: own is false.
func ownBody(v string) (body string, own bool) {
	body, own = strings.CutPrefix(v, valueMark)
	if !own || !plausibleJSON(body) {
		return "", own
	}
	return body, true
}

// markValue is what the server stores for body.
func markValue(body []byte) string {
	return valueMark + string(body)
}

// plausibleJSON is a cheap guard against a value of ours that is not what we
// wrote (garbage, a truncated write): every body we store is a JSON object or array.
func plausibleJSON(v string) bool {
	n := len(v)
	return n >= 2 && (v[0] == '{' && v[n-1] == '}' || v[0] == '[' && v[n-1] == ']')
}

// set stores body unless a write has happened since the reader's fence read,
// here (local generation) or anywhere (the fence in Redis).
func (c *cache) set(ctx context.Context, e entry, key, fenceKey, fence string, gen uint64, body []byte) {
	if c.cluster {
		c.setClustered(ctx, e, key, fenceKey, fence, gen, body)
		return
	}
	if c.gen(e.fam.name) != gen || !c.usable(e.fam.name) {
		return
	}
	keys := []string{key, fenceKey}
	if e.fam.indexed {
		keys = append(keys, c.schema.Key(indexKeyPrefix+e.fam.name))
	}
	c.testHook(stageBeforeSet)
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	now := time.Now()
	set, err := setIfFenced.Run(rctx, c.rdb, keys, valueMark, fence, markValue(body), e.ttl.Milliseconds(), indexTTL.Milliseconds(),
		now.UnixMilli(), now.Add(-indexSlack).UnixMilli()).Int()
	if c.setRefused(err) {
		return
	}
	if err != nil {
		c.fail("set", err)
		return
	}
	c.stored()
	switch set {
	case 1:
		c.testHook(stageChecked)
	case -1:
		c.log.Debug("another writer stored a value while this one loaded: left in place", "key", key)
	}
}

// setRefused reports whether Redis refused to store a value because it is
// at maxmemory with noeviction, and says so once per episode. That refusal
// changes nothing in Redis, so Redis is not taken for down: it keeps being
// read and invalidated, and the response goes out uncached.
func (c *cache) setRefused(err error) bool {
	if !redis.IsOOMError(err) {
		return false
	}
	c.metrics.redisErrors.WithLabelValues("set").Inc()
	if c.full.CompareAndSwap(false, true) {
		c.log.Warn("redis is out of memory (maxmemory, noeviction): responses are served without being cached", "err", err)
	}
	return true
}

// stored ends an episode of setRefused.
func (c *cache) stored() {
	if c.full.CompareAndSwap(true, false) {
		c.log.Info("redis stores values again")
	}
}

// stageBypass is where a request is about to load from the database without
// Redis (the other stages are in cluster.go).
const stageBypass = "bypass"

func (c *cache) testHook(stage string) {
	if c.hook != nil {
		c.hook(stage)
	}
}

// invalidate is called after a database write has committed and before the
// write's response is sent. It never fails the write: what Redis did not
// take is kept and replayed.
func (c *cache) invalidate(ctx context.Context, fams ...family) {
	for _, f := range fams {
		c.bump(f.name)
	}
	if c.rdb == nil {
		return
	}
	for _, f := range fams {
		if !c.reachable(c.familyKeys(f)...) {
			c.remember(f)
			continue
		}
		if err := c.runInvalidation(ctx, f); err != nil {
			c.fail("invalidate", err)
			c.remember(f)
		}
	}
}

// bump moves a family's local generation, so that no load that started
// before it is cached. On a cluster it first waits for the sets in flight
// (see cluster.go).
func (c *cache) bump(fam string) {
	if c.cluster {
		lock := c.locks.of(fam)
		lock.Lock()
		defer lock.Unlock()
	}
	c.mu.Lock()
	c.gens[fam]++
	c.mu.Unlock()
}

// remember records an invalidation Redis did not take, and keeps it in the
// database file when there is one (keep).
func (c *cache) remember(f family) {
	c.metrics.invalidations.WithLabelValues(f.metricName(), "deferred").Inc()
	c.persistMu.Lock()
	defer c.persistMu.Unlock()
	c.mu.Lock()
	p := c.pending[f.name]
	// Keep the keys an earlier failure asked to delete by name.
	f = withFixedOf(f, p.fam)
	c.pending[f.name] = pendingInvalidation{fam: f, epoch: p.epoch + 1}
	c.npending.Store(int64(len(c.pending)))
	c.mu.Unlock()
	c.keep(f)
}

func (f family) metricName() string {
	if _, ok := keyspace.ProductFamilyID(f.name); ok {
		return keyspace.FamilyProduct
	}
	return f.name
}

func (c *cache) runInvalidation(ctx context.Context, f family) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	if c.cluster {
		_, err = c.invalidateClustered(ctx, f)
	} else {
		err = c.invalidateScripted(ctx, f)
	}
	if err == nil {
		c.metrics.invalidations.WithLabelValues(f.metricName(), "ok").Inc()
	}
	return err
}

// invalidateScripted invalidates a family in one atomic script.
func (c *cache) invalidateScripted(ctx context.Context, f family) error {
	keys := []string{c.schema.Key(fenceKeyPrefix + f.name), c.schema.Key(indexKeyPrefix + f.name)}
	for _, l := range f.fixed {
		keys = append(keys, c.schema.Key(l))
	}
	indexed := "0"
	if f.indexed {
		indexed = "1"
	}
	return c.step(ctx, func(ctx context.Context) error {
		return invalidateFamily.run(ctx, c.rdb, &c.unflagged, keys, fenceTTL.Milliseconds(), indexed).Err()
	})
}

// maybeRecover starts one probe at a time, at most every probeEvery, without
// making the request that noticed wait for it.
func (c *cache) maybeRecover() {
	if time.Now().UnixNano()-c.probed.Load() < int64(probeEvery) {
		return
	}
	if !c.probing.CompareAndSwap(false, true) {
		return
	}
	c.probed.Store(time.Now().UnixNano())
	go func() {
		defer c.probing.Store(false)
		c.recover(context.Background())
	}()
}

// recover probes what is taken for down, replays the pending invalidations
// whose keys it can reach, and only then lets requests use Redis again:
// the cache as a whole once every invalidation is replayed, a master of a
// cluster as soon as it answers (its families stay pending until replayed).
func (c *cache) recover(ctx context.Context) {
	if c.rdb == nil || !c.restore(ctx) {
		return
	}
	c.probeNodes(ctx)
	whole := c.health.has(wholeCache)
	if whole || !c.cluster {
		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		err := c.rdb.Ping(rctx).Err()
		cancel()
		if err != nil {
			return
		}
	}
	c.mu.Lock()
	todo := make([]pendingInvalidation, 0, len(c.pending))
	for _, p := range c.pending {
		todo = append(todo, p)
	}
	c.mu.Unlock()
	for _, p := range todo {
		if c.onDownNode(c.familyKeys(p.fam)...) {
			continue
		}
		if err := c.runInvalidation(ctx, p.fam); err != nil {
			c.metrics.redisErrors.WithLabelValues("replay").Inc()
			return
		}
		c.replayed(p)
	}
	if whole && c.pendingCount() == 0 && c.health.lift(wholeCache) {
		c.log.Info("redis is back: caching again", "replayed", len(todo))
	}
}

// state describes Redis for /readyz.
func (c *cache) state() string {
	switch {
	case c.rdb == nil:
		return "disabled"
	case c.health.has(wholeCache):
		return "down"
	case c.health.any():
		return "degraded" // some masters of the cluster: see downNodes
	}
	return "ok"
}

// Bounds of surveyForeign on each master, whatever the size of the keyspace:
// at most surveyScans SCAN calls of COUNT surveyCount, and at most
// surveyKeys values looked at, each with a GETRANGE of the mark's length.
const (
	surveyScans   = 10
	surveyCount   = 1000
	surveyKeys    = 1000
	surveyTimeout = 2 * time.Second
)

// foreignSurvey is what a bounded look at the seed's keys found.
type foreignSurvey struct {
	checked, foreign int
	// complete: every master's SCAN came back to cursor 0 within the
	// bounds, so the counts are exact (for that moment), not a sample.
	complete bool
}

// surveyForeign counts the keys of the seed's families (the keys the
// server reads; sessions and other keys under the prefix do not count) whose
// values another writer stored, on every master, within the bounds above.
func (c *cache) surveyForeign(ctx context.Context) (foreignSurvey, error) {
	var sel keyspace.Selection
	for _, g := range keyspace.Builtin() {
		t, err := c.schema.Group(g.Name)
		if err != nil {
			return foreignSurvey{}, err
		}
		sel = append(sel, t)
	}
	match, err := sel.ScanMatch()
	if err != nil {
		return foreignSurvey{}, err
	}
	var mu sync.Mutex
	total := foreignSurvey{complete: true}
	err = keyspace.ForEachMaster(ctx, c.rdb, func(ctx context.Context, node *redis.Client) error {
		s, err := c.surveyNode(ctx, node, sel, match)
		mu.Lock()
		defer mu.Unlock()
		total.checked += s.checked
		total.foreign += s.foreign
		total.complete = total.complete && s.complete && err == nil
		return err
	})
	return total, err
}

func (c *cache) surveyNode(ctx context.Context, node *redis.Client, sel keyspace.Selection, match string) (foreignSurvey, error) {
	var s foreignSurvey
	var cursor uint64
	for range surveyScans {
		var keys []string
		err := c.step(ctx, func(ctx context.Context) (err error) {
			keys, cursor, err = node.Scan(ctx, cursor, match, surveyCount).Result()
			return err
		})
		if err != nil {
			return s, fmt.Errorf("scan %s: %w", keyspace.NodeAddr(node), err)
		}
		keys = slices.DeleteFunc(keys, func(k string) bool { return sel.Classify(k) < 0 })
		keys = keys[:min(len(keys), surveyKeys-s.checked)]
		// Each command's own error is read below: WRONGTYPE is an answer.
		var heads []*redis.StringCmd
		_ = c.step(ctx, func(ctx context.Context) error {
			_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					heads = append(heads, p.GetRange(ctx, k, 0, int64(len(valueMark)-1)))
				}
				return nil
			})
			return err
		})
		for _, h := range heads {
			switch {
			case isWrongType(h.Err()): // a hash, a list, a set: not ours
				s.checked++
				s.foreign++
			case h.Err() != nil:
				return s, fmt.Errorf("survey %s: %w", keyspace.NodeAddr(node), h.Err())
			case h.Val() == "": // expired since the SCAN
			default:
				s.checked++
				if h.Val() != valueMark {
					s.foreign++
				}
			}
		}
		if cursor == 0 {
			s.complete = true
			return s, nil
		}
		if s.checked >= surveyKeys {
			return s, nil
		}
	}
	return s, nil
}

// warnForeign logs, once at start, how many of the seed's keys hold another
// writer's values (surveyForeign).
func (c *cache) warnForeign(ctx context.Context) {
	if c.rdb == nil || c.noCache || c.health.has(wholeCache) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, surveyTimeout)
	defer cancel()
	s, err := c.surveyForeign(ctx)
	if err != nil {
		c.log.Debug("cannot look for other writers' values under the prefix", "err", err)
		return
	}
	if s.foreign == 0 {
		c.log.Debug("no other writer's values under the prefix", "checked", s.checked, "sampled", !s.complete)
		return
	}
	c.log.Warn("the cache already holds values this server did not write: they are served from the database (X-Cache: BYPASS) and left alone",
		"foreign", s.foreign, "checked", s.checked, "sampled", !s.complete, "keys", c.schema.Namespace()+"*",
		"hint", "another app caches under this prefix and version and cannot read this server's values either: give each its own prefix or version")
}
