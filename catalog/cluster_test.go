package catalog

import (
	"context"
	"net/http"
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
	t.Run("an invalidation keeps what was loaded after it", func(t *testing.T) {
		// Index members carry the fence their value was loaded under: an
		// invalidation that moves the fence to N removes the older keys and
		// their members, and leaves a key loaded under N (newer than the
		// write) and its member, so the next write still finds it.
		e := newEnv(t, on)
		ctx := context.Background()
		ns := e.cfg.Schema.Namespace()
		fence, index := ns+fenceKeyPrefix+"lists", ns+indexKeyPrefix+"lists"
		older, newer := ns+"products:list:older", ns+"products:list:newer"
		e.rdb.Set(ctx, fence, "6", time.Hour)
		for _, k := range []string{older, newer} {
			e.rdb.Set(ctx, k, `{"results":[]}`, time.Hour)
		}
		exp := float64(time.Now().Add(time.Hour).UnixMilli())
		e.rdb.ZAdd(ctx, index, redis.Z{Score: exp, Member: "6|" + older}, redis.Z{Score: exp, Member: "7|" + newer})
		n, err := e.srv.cache.invalidateClustered(ctx, famLists)
		if err != nil || n != 1 {
			t.Fatalf("invalidation removed %d keys (err %v), want 1", n, err)
		}
		if e.exists(older) || !e.exists(newer) {
			t.Fatalf("after the invalidation: older exists %v (want false), newer exists %v (want true)", e.exists(older), e.exists(newer))
		}
		if m := e.rdb.ZRange(ctx, index, 0, -1).Val(); len(m) != 1 || m[0] != "7|"+newer {
			t.Fatalf("index members %q, want only the newer key's", m)
		}
	})
	t.Run("a write waits for this server's set in flight", func(t *testing.T) {
		// Between a reader's checks and its SET, a write through the same
		// server must not return: once it has, no read may see the old value.
		e := newEnv(t, on)
		entered, release := holdSet(t, e)
		done := make(chan response)
		go func() { done <- e.get("/api/products/9/") }()
		<-entered
		wrote := make(chan response)
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
}
