package catalog

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
)

// The server on Redis Cluster: the seed's key names, its fence and its index
// live in different slots, so every guarantee is checked again there.
func TestOnRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	on := onCluster(cl)
	t.Run("every cached route misses then hits", func(t *testing.T) { testEveryCachedRoute(t, on) })
	t.Run("every write invalidates its keys and nothing else", func(t *testing.T) { testEveryWriteInvalidates(t, on) })
	t.Run("color delete", func(t *testing.T) { testColorDelete(t, on) })
	t.Run("no stale set after a write", func(t *testing.T) { testNoStaleSet(t, on) })
	t.Run("write through another server", func(t *testing.T) { testWriteElsewhere(t, on) })
	t.Run("many readers one writer", func(t *testing.T) { testManyReadersOneWriter(t, on) })
	t.Run("concurrent misses", func(t *testing.T) { testConcurrentMisses(t, on) })
	t.Run("a write at maxmemory", func(t *testing.T) { testWriteAtMaxmemory(t, true, on) })
	t.Run("another writer's values", func(t *testing.T) { testForeignValues(t, on) })
	t.Run("another writer's value stored during a load", func(t *testing.T) { testForeignValueDuringALoad(t, on) })
	t.Run("the start-up warning", func(t *testing.T) { testStartWarning(t, on) })
	t.Run("an invalidation keeps what was loaded after it", func(t *testing.T) {
		// Index members carry the fence their value was loaded under: an
		// invalidation that moves the fence to N removes the older keys and
		// their members, and leaves a key loaded under N (newer than the
		// write) and its member, so the next write still finds it.
		f := time.Now().Add(time.Hour).UnixMicro() // ahead of the clock: the bump is an INCR
		checkInvalidation(t, newEnv(t, on), strconv.FormatInt(f, 10), strconv.FormatInt(f, 10), strconv.FormatInt(f+1, 10), false)
	})
	for name, fence := range map[string]string{"expired or evicted": "", "not a counter": "garbage"} {
		t.Run("an invalidation after the fence was "+name+" removes every key", func(t *testing.T) {
			// A lost fence's old values are unknown, even values that ran ahead
			// of the clock: every indexed key counts as older.
			ahead := strconv.FormatInt(time.Now().Add(time.Hour).UnixMicro(), 10)
			checkInvalidation(t, newEnv(t, on), fence, ahead, ahead+"0", true)
		})
	}
	t.Run("a value is provisional until its fence is checked again", func(t *testing.T) {
		// Should the reader die between its SET and its last check, a stale
		// value must not live its full TTL: until the check it expires soon.
		e := newEnv(t, on)
		done, release := heldGet(t, e, stageChecked, "/api/products/5/")
		ctx := context.Background()
		provisional := e.rdb.PTTL(ctx, "ecommerce:1:product:5").Val()
		release()
		<-done
		full := e.rdb.PTTL(ctx, "ecommerce:1:product:5").Val()
		if limit := e.srv.cache.provisionalTTL(15 * time.Minute); provisional <= 0 || provisional > limit || limit > 10*time.Second {
			t.Fatalf("TTL before the last check %v, want at most %v (and that short)", provisional, limit)
		}
		if full < 14*time.Minute {
			t.Fatalf("TTL after the check %v, want the route's 15 min", full)
		}
	})
	t.Run("a reader's last check removes a racing reader's copy", func(t *testing.T) {
		// Reader A has checked its fence and is about to give its value the
		// full TTL. Reader B, another process, passed its first check; then a
		// write through a third lands, B writes its old copy and dies before
		// its re-check. A's extension must not let that copy live its TTL.
		a := newEnv(t, on)
		b, c := a.another(), a.another()
		const path, key, name = "/api/products/7/", "ecommerce:1:product:7", "Written By A Third"
		bChecked, bWrote, bGo, bDead := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
		b.srv.cache.hook = func(stage string) {
			switch stage {
			case stageBeforeSet:
				close(bChecked)
				<-bGo
			case stageSet:
				close(bWrote)
				<-bDead
			}
		}
		t.Cleanup(func() { close(bDead) })
		go b.get(path)
		<-bChecked
		doneA, releaseA := heldGet(t, a, stageChecked, path)
		if r := c.admin(http.MethodPatch, path, `{"name":"`+name+`"}`); r.status != 200 {
			t.Fatalf("write: %d %s", r.status, r.body)
		}
		close(bGo)
		<-bWrote
		releaseA()
		<-doneA
		if r := c.mustGet(path); !strings.Contains(r.body, name) {
			t.Fatalf("after the write, a read (%s) shows the racing reader's old copy (TTL %v): %.200s",
				r.cache(), pttl(c, key), r.body)
		}
	})
	t.Run("a write waits for this server's set in flight", func(t *testing.T) {
		// Between a reader's checks and its SET, a write through the same
		// server must not return: once it has, no read may see the old value.
		e := newEnv(t, on)
		done, release := heldGet(t, e, stageBeforeSet, "/api/products/9/")
		if lock := e.srv.cache.locks.of("product:9"); lock.TryLock() {
			lock.Unlock()
			t.Fatal("a reader between its checks and its SET does not hold its family's lock")
		}
		wrote := make(chan response, 1)
		go func() { wrote <- e.admin(http.MethodPatch, "/api/products/9/", `{"name":"Held Back"}`) }()
		select {
		case r := <-wrote:
			t.Fatalf("the write returned (%d) while a set of the old product was in flight", r.status)
		case <-time.After(300 * time.Millisecond):
		}
		release()
		if r := <-wrote; r.status != 200 {
			t.Fatalf("write: %d %s", r.status, r.body)
		}
		<-done
		if r := e.mustGet("/api/products/9/"); !strings.Contains(r.body, "Held Back") {
			t.Fatalf("after the write, a read (%s) shows the old product: %.200s", r.cache(), r.body)
		}
	})
	// Last: it stops a master of the shared cluster.
	t.Run("a master down: served from the database, nothing stale after", func(t *testing.T) {
		e := newEnv(t, on)
		const path, key, name = "/api/products/11/", "ecommerce:1:product:11", "Written While Down"
		e.mustGet(path)
		if r := e.mustGet(path); r.cache() != "HIT" {
			t.Fatalf("second GET: %s, want HIT", r.cache())
		}
		// The master comes back from its snapshot, with the copy from before
		// the write: only the replayed invalidation can remove it.
		node := masterOf(t, cl, e.rdb, key)
		if err := node.Client(t).Save(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		node.Stop()
		restarted := false
		t.Cleanup(func() {
			if !restarted {
				node.Restart(t)
			}
		})
		if r := e.mustGet(path); r.cache() != "BYPASS" {
			t.Fatalf("GET with the key's master down: %s, want BYPASS", r.cache())
		}
		if r := e.admin(http.MethodPatch, path, `{"name":"`+name+`"}`); r.status != 200 {
			t.Fatalf("write with a master down: %d %s", r.status, r.body)
		}
		node.Restart(t)
		restarted = true
		// Asked of the node alone, which starts no recovery in the server.
		nc := node.Client(t)
		eventually(t, "the master answers again", func() bool { return nc.Exists(context.Background(), key).Err() == nil })
		if nc.Exists(context.Background(), key).Val() != 1 {
			t.Fatalf("the master came back without the old copy of %s: the test proves nothing", key)
		}
		eventually(t, "the product is served from Redis again", func() bool {
			r := e.mustGet(path)
			if !strings.Contains(r.body, name) {
				t.Fatalf("a read (%s) shows the product from before the write: %.200s", r.cache(), r.body)
			}
			return r.cache() != "BYPASS"
		})
		if r := e.mustGet(path); r.cache() != "HIT" || !strings.Contains(r.body, name) {
			t.Fatalf("after recovery: %s %.200s", r.cache(), r.body)
		}
	})
}

// checkInvalidation sets the lists fence to fence ("" for none), caches two
// list keys tagged older and newer in the index, invalidates the lists, and
// checks that the older key and its member are gone, and the newer one too
// when newerGone, else kept.
func checkInvalidation(t *testing.T, e *testEnv, fence, older, newer string, newerGone bool) {
	t.Helper()
	ctx := context.Background()
	ns := e.cfg.Schema.Namespace()
	fenceKey, index := ns+fenceKeyPrefix+"lists", ns+indexKeyPrefix+"lists"
	olderKey, newerKey := ns+"products:list:older", ns+"products:list:newer"
	if fence != "" {
		e.rdb.Set(ctx, fenceKey, fence, time.Hour)
	}
	for _, k := range []string{olderKey, newerKey} {
		e.rdb.Set(ctx, k, `{"results":[]}`, time.Hour)
	}
	exp := float64(time.Now().Add(time.Hour).UnixMilli())
	e.rdb.ZAdd(ctx, index, redis.Z{Score: exp, Member: older + "|" + olderKey}, redis.Z{Score: exp, Member: newer + "|" + newerKey})
	want, wantMembers := int64(1), []string{newer + "|" + newerKey}
	if newerGone {
		want, wantMembers = 2, []string{}
	}
	n, err := e.srv.cache.invalidateClustered(ctx, famLists)
	if err != nil || n != want {
		t.Fatalf("invalidation removed %d keys (err %v), want %d", n, err, want)
	}
	if e.exists(olderKey) || e.exists(newerKey) == newerGone {
		t.Fatalf("after the invalidation: older exists %v (want false), newer exists %v (want %v)",
			e.exists(olderKey), e.exists(newerKey), !newerGone)
	}
	if m := e.rdb.ZRange(ctx, index, 0, -1).Val(); !slices.Equal(m, wantMembers) {
		t.Fatalf("index members %q, want %q", m, wantMembers)
	}
	if f, err := e.rdb.Get(ctx, fenceKey).Int64(); err != nil || f < time.Now().Add(-time.Minute).UnixMicro() {
		t.Fatalf("fence after the invalidation: %d (%v), want at least the time in µs", f, err)
	}
}

// masterOf returns the server of cl that holds key.
func masterOf(t *testing.T, cl *redistest.Cluster, rdb redis.UniversalClient, key string) *redistest.Server {
	t.Helper()
	c, err := rdb.(*redis.ClusterClient).MasterForKey(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cl.Masters {
		if m.Addr == c.Options().Addr {
			return m
		}
	}
	t.Fatalf("no master of the cluster at %s", c.Options().Addr)
	return nil
}

// pttl is what is left of key's TTL.
func pttl(e *testEnv, key string) time.Duration {
	return e.rdb.PTTL(context.Background(), key).Val()
}
