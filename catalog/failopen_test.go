package catalog

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/localredis"
	"github.com/cachectl/cachectl/internal/testwait"
	"github.com/cachectl/cachectl/keyspace"
)

// readsDuringOutage checks that reads still answer from the database,
// quickly, with X-Cache BYPASS.
func readsDuringOutage(t *testing.T, e *testEnv, path string) {
	t.Helper()
	for i := range 10 {
		r := e.get(path)
		if r.status != 200 {
			t.Fatalf("read %d during the outage: %d %s", i, r.status, r.body)
		}
		if r.cache() != "BYPASS" || r.queries() == 0 {
			t.Fatalf("read %d during the outage: X-Cache %s, X-DB-Queries %d; want BYPASS from the database", i, r.cache(), r.queries())
		}
		if r.elapsed > time.Second {
			t.Fatalf("read %d during the outage took %v", i, r.elapsed)
		}
	}
}

// afterRecovery checks that every read shows the write made during the
// outage, until the cache serves it again.
func afterRecovery(t *testing.T, e *testEnv, path, want string) {
	t.Helper()
	eventually(t, "the cache serves the new data again", func() bool {
		r := e.mustGet(path)
		if !strings.Contains(r.body, want) {
			t.Fatalf("after Redis came back a read (%s) shows data older than the write made during the outage: %.160s", r.cache(), r.body)
		}
		return r.cache() == "HIT"
	})
}

func TestRedisStoppedServesFromDatabaseAndForgetsNoInvalidation(t *testing.T) {
	// Redis keeps its data across the restart, like a production server with
	// persistence: the old copy comes back and must not be served.
	e := newEnv(t, withRedisTimeout(DefaultRedisTimeout), withRedisArgs("--appendonly", "yes", "--appendfsync", "always"))
	const path = "/api/products/11/"
	e.mustGet(path)
	e.redis.Stop()

	readsDuringOutage(t, e, path)
	w := e.admin(http.MethodPatch, path, `{"price":"4321.00"}`)
	if w.status != 200 || w.elapsed > time.Second {
		t.Fatalf("write during the outage: %d in %v", w.status, w.elapsed)
	}
	if r := e.mustGet(path); !strings.Contains(r.body, `"price":"4321.00"`) {
		t.Fatalf("read after the write, during the outage: %.160s", r.body)
	}
	if r := e.mustGet("/readyz"); r.field(t, "redis") != "down" || r.field(t, "db") != "ok" {
		t.Fatalf("readyz during the outage: %s", r.body)
	}

	// Let the last probe of the outage finish, so that Redis's copy can be
	// looked at before the server replays its invalidation.
	testwait.Eventually(t, 10*time.Second, "the probe of the outage to end", func() bool { return !e.srv.cache.probing.Load() })
	e.redis.Restart(t)
	old, err := e.rdb.Get(context.Background(), "ecommerce:1:product:11").Result()
	if err != nil || strings.Contains(old, "4321.00") {
		t.Fatalf("precondition: Redis should have kept the old copy (err %v)", err)
	}
	afterRecovery(t, e, path, `"price":"4321.00"`)
	e.checkSessionSurvives()
}

// Redis comes back, with its copy from before a write, while the server is
// shutting down: the invalidation it missed is replayed before the server
// exits, so the copy is gone for every other reader.
func TestShutdownReplaysPendingInvalidations(t *testing.T) {
	e := newEnv(t, inMemory(), withRedisTimeout(DefaultRedisTimeout), withRedisArgs("--appendonly", "yes", "--appendfsync", "always"))
	const path, key, name = "/api/products/11/", "ecommerce:1:product:11", "Written Before Shutdown"
	e.mustGet(path)
	e.redis.Stop()
	if r := e.admin(http.MethodPatch, path, `{"name":"`+name+`"}`); r.status != 200 {
		t.Fatalf("write with Redis down: %d %s", r.status, r.body)
	}
	_, cancel, served := e.serve()
	cancel()
	eventually(t, "the shutdown waits for Redis", func() bool {
		return strings.Contains(e.logs.String(), "replaying the invalidations Redis has not taken before exiting")
	})
	e.redis.Restart(t)
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve after a clean shutdown: %v", err)
		}
	case <-time.After(DefaultShutdownTimeout + 5*time.Second):
		t.Fatal("the server did not exit")
	}
	if v, err := e.rdb.Get(context.Background(), key).Result(); err == nil && !strings.Contains(v, name) {
		t.Fatalf("after the shutdown Redis still holds the product from before the write: %.120s", v)
	}
	if !strings.Contains(e.logs.String(), "pending invalidations replayed before exiting") {
		t.Errorf("the log does not say the invalidations were replayed:\n%s", e.logs)
	}
}

func TestRedisStalledServesFromDatabaseAndForgetsNoInvalidation(t *testing.T) {
	e := newEnv(t, withRedisTimeout(DefaultRedisTimeout))
	const path = "/api/products/12/"
	e.mustGet(path)
	e.redis.Pause()
	paused := true
	defer func() {
		if paused {
			e.redis.Resume()
		}
	}()

	readsDuringOutage(t, e, path)
	w := e.admin(http.MethodPatch, path, `{"name":"Written While Stalled"}`)
	if w.status != 200 || w.elapsed > time.Second {
		t.Fatalf("write during the stall: %d in %v", w.status, w.elapsed)
	}
	readsDuringOutage(t, e, path)
	e.redis.Resume()
	paused = false
	afterRecovery(t, e, path, "Written While Stalled")
}

// A stampede while Redis is down is coalesced as it is with Redis up: the
// database gets one load per key, not one per request.
func TestRedisStoppedStillCoalescesLoads(t *testing.T) {
	e := newEnv(t, withRedisTimeout(DefaultRedisTimeout))
	e.redis.Stop()
	const n = 300
	// Hold every load until all n requests are about to load, so that none
	// can have finished before the last arrived.
	var arrived atomic.Int64
	e.srv.cache.hook = func(stage string) {
		if stage == stageBypass {
			arrived.Add(1)
		}
	}
	e.store.beforeRead = func(context.Context) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		testwait.For(ctx, func() bool { return arrived.Load() >= n })
	}
	before := e.store.Queries()
	res := e.getConcurrently(n, "/api/products/9/")
	sum := 0
	for i, r := range res {
		if r.status != 200 || r.cache() != "BYPASS" || r.body != res[0].body {
			t.Fatalf("request %d: %d %s, want 200 BYPASS with the same body", i, r.status, r.cache())
		}
		sum += r.queries()
	}
	// One load of a product detail is two queries: the row and its variants.
	q := e.store.Queries() - before
	if q > 6 || int64(sum) != q {
		t.Fatalf("%d concurrent GETs with Redis down made %d database queries (X-DB-Queries sum %d), want the 2 of one load", n, q, sum)
	}
}

// At maxmemory with noeviction (Redis's default policy) every write that
// adds data is refused. An invalidation must still remove the old copy, for
// this server, for another one on the same Redis, and for anyone reading the
// key itself (the Django app). Redis 7 runs the flagged scripts whole; on a
// Redis without script flags the deletes still come before the refused fence
// write, which then stays pending.
func TestWriteInvalidatesWhenRedisIsOutOfMemory(t *testing.T) {
	for _, flags := range []bool{true, false} {
		t.Run(fmt.Sprintf("script flags %v", flags), func(t *testing.T) { testWriteAtMaxmemory(t, flags) })
	}
}

func testWriteAtMaxmemory(t *testing.T, flags bool, opts ...envOption) {
	e := newEnv(t, opts...)
	e.srv.cache.unflagged.Store(!flags)
	other := e.another()
	const path, key, price = "/api/products/21/", "ecommerce:1:product:21", "4321.00"
	e.mustGet(path)
	if r := other.mustGet(path); r.cache() != "HIT" || strings.Contains(r.body, price) {
		t.Fatalf("precondition: the other server should hit the old product: %s %.120s", r.cache(), r.body)
	}
	atMaxmemory(t, e)

	if r := e.admin(http.MethodPatch, path, `{"price":"`+price+`"}`); r.status != 200 {
		t.Fatalf("write at maxmemory: %d %s", r.status, r.body)
	}
	if v, err := e.rdb.Get(context.Background(), key).Result(); err == nil && !strings.Contains(v, price) {
		t.Fatalf("Redis still holds the product from before the write, as the Django app would read it: %.120s", v)
	}
	for i, env := range []*testEnv{e, other, e.another()} {
		r := env.mustGet(path)
		if r.field(t, "price") != price {
			t.Fatalf("server %d after the write: %s with the old product: %.120s", i, r.cache(), r.body)
		}
	}
	if !flags {
		return
	}
	// A full Redis refuses the new copy, and nothing else: it is still read
	// from, and not taken for down.
	for range 3 {
		if r := e.mustGet(path); r.cache() != "MISS" {
			t.Fatalf("a read at maxmemory: %s, want MISS (Redis answers; it only refuses the new copy)", r.cache())
		}
	}
	if r := e.mustGet("/readyz"); r.field(t, "pending_invalidations") != 0.0 || r.field(t, "redis") != "ok" {
		t.Fatalf("readyz at maxmemory: %s", r.body)
	}
	// Three servers, each says it once.
	if logs := e.logs.String(); strings.Count(logs, "redis is out of memory") != 3 || strings.Contains(logs, "redis unavailable") {
		t.Fatalf("each server should say once that Redis is full, and never that it is unavailable:\n%s", logs)
	}
}

// atMaxmemory gives every master of e's Redis a maxmemory of 4 MB with
// noeviction and fills it until a write fails with OOM; then it lowers
// maxmemory below what each master uses, so that a few bytes freed meanwhile
// cannot let a write through by chance. Cleanup lifts the limit.
func atMaxmemory(t *testing.T, e *testEnv) {
	t.Helper()
	ctx := context.Background()
	setMaxmemory := func(limit func(m *redis.Client) int64) {
		t.Helper()
		err := forEachMaster(e.rdb, func(m *redis.Client) error {
			if err := m.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
				return err
			}
			return m.ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit(m), 10)).Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { setMaxmemory(func(*redis.Client) int64 { return 0 }) })
	setMaxmemory(func(*redis.Client) int64 { return 4 << 20 })
	value := strings.Repeat("x", 16<<10)
	for i := 0; ; i++ {
		err := e.rdb.Set(ctx, "filler:"+strconv.Itoa(i), value, 0).Err()
		if redis.IsOOMError(err) {
			break
		}
		if err != nil || i == 10000 {
			t.Fatalf("filling Redis until it runs out of memory: %d keys, %v", i, err)
		}
	}
	setMaxmemory(func(m *redis.Client) int64 {
		used, _ := strconv.ParseInt(infoValue(m.Info(ctx, "memory").Val(), "used_memory"), 10, 64)
		return max(1, used-1<<20)
	})
	if err := e.rdb.Set(ctx, "probe", "x", 0).Err(); !redis.IsOOMError(err) {
		t.Fatalf("precondition: a SET at maxmemory should fail with OOM, got %v", err)
	}
}

// forEachMaster runs fn on the server, or on every master of a cluster.
func forEachMaster(rdb redis.UniversalClient, fn func(m *redis.Client) error) error {
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(context.Background(), func(_ context.Context, m *redis.Client) error { return fn(m) })
	}
	return fn(rdb.(*redis.Client))
}

// The invalidation scripts are flagged for Redis 7; a Redis that does not
// know script flags (the embedded one of demo, an older server) must still
// have its keys invalidated.
func TestWriteInvalidatesOnARedisWithoutScriptFlags(t *testing.T) {
	emb, err := localredis.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	rdb := redis.NewClient(RedisOptions(&redis.Options{Addr: emb.Addr, Password: emb.Password}, 2*time.Second))
	t.Cleanup(func() { rdb.Close() })
	e := &testEnv{t: t, rdb: rdb, cache: rdb, store: openSeeded(t)}
	e.cfg = Config{Store: e.store, Redis: rdb, Schema: keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion), AdminToken: testToken}
	e.srv, e.url = serveOver(t, e.cfg)
	const path = "/api/products/22/"
	e.mustGet(path)
	if r := e.mustGet(path); r.cache() != "HIT" {
		t.Fatalf("second GET: %s, want HIT", r.cache())
	}
	if r := e.admin(http.MethodPatch, path, `{"name":"Renamed Without Flags"}`); r.status != 200 {
		t.Fatalf("write: %d %s", r.status, r.body)
	}
	if e.exists("ecommerce:1:product:22") {
		t.Fatal("the write did not remove the product's key")
	}
	if r := e.mustGet(path); r.cache() != "MISS" || !strings.Contains(r.body, "Renamed Without Flags") {
		t.Fatalf("GET after the write: %s %.120s", r.cache(), r.body)
	}
	if r := e.mustGet("/readyz"); r.field(t, "pending_invalidations") != 0.0 || r.field(t, "redis") != "ok" {
		t.Fatalf("readyz after the write: %s", r.body)
	}
}

// infoValue is one field of an INFO reply.
func infoValue(info, field string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}

func TestNoCacheServesFromDatabaseButStillInvalidates(t *testing.T) {
	e := newEnv(t)
	// Another instance, with caching on, filled the cache.
	e.mustGet("/api/products/15/")
	e.mustGet("/api/categories/")
	noCache := NewServer(Config{Store: e.store, Redis: e.srv.cfg.Redis, Schema: e.srv.cfg.Schema, AdminToken: testToken, NoCache: true})
	e2 := *e
	e2.t = t
	hs := httptestServer(t, noCache)
	e2.url = hs

	for range 2 {
		r := e2.mustGet("/api/products/15/")
		if r.cache() != "BYPASS" || r.queries() == 0 {
			t.Fatalf("--no-cache read: %s with %d queries", r.cache(), r.queries())
		}
	}
	size := e.dbsize()
	e2.mustGet("/api/products/16/")
	if e.dbsize() != size {
		t.Fatal("--no-cache wrote a key")
	}
	if r := e2.admin(http.MethodPatch, "/api/products/15/", `{"name":"Rolled Back"}`); r.status != 200 {
		t.Fatalf("write: %d", r.status)
	}
	if e.exists("ecommerce:1:product:15") || e.exists("ecommerce:1:categories:all") {
		t.Fatal("--no-cache must keep invalidating on writes")
	}
	e.checkSessionSurvives()
}
