package catalog

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
	time.Sleep(2 * probeEvery)
	e.redis.Restart(t)
	old, err := e.rdb.Get(context.Background(), "ecommerce:1:product:11").Result()
	if err != nil || strings.Contains(old, "4321.00") {
		t.Fatalf("precondition: Redis should have kept the old copy (err %v)", err)
	}
	afterRecovery(t, e, path, `"price":"4321.00"`)
	e.checkSessionSurvives()
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
		for deadline := time.Now().Add(10 * time.Second); arrived.Load() < n && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
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

func TestGarbageInRedisIsNotServed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.rdb.Set(ctx, "ecommerce:1:product:13", "not json at all", time.Hour)
	e.rdb.HSet(ctx, "ecommerce:1:product:14", "field", "value")
	for _, p := range []string{"/api/products/13/", "/api/products/14/"} {
		r := e.mustGet(p)
		if r.field(t, "id") == nil {
			t.Fatalf("%s: %s", p, r.body)
		}
		if r2 := e.mustGet(p); r2.cache() != "HIT" || r2.body != r.body {
			t.Fatalf("%s: the garbage was not replaced by the real value (%s)", p, r2.cache())
		}
	}
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
