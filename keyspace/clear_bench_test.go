package keyspace

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkClear clears the products group from 100,000 django-redis shaped
// keys of which 90% match, on a private redis-server, reloading before every
// clear. It reports keys deleted per second and the engine's allocations;
// perf/clear/run.sh holds the full-size comparison with the floor.
func BenchmarkClear(b *testing.B) {
	const total, matching = 100_000, 90_000
	s, c := onRedis(b)
	ctx := context.Background()
	sel := Selection{must(b)(s.Group(GroupProducts))}
	products := []string{"product:%d", "product:%d:variants", "product:%d:variants:list", "product:%d:recommendations", "products:list:%x"}
	others := []string{"category:%d", "categories:all:%d", "product_colors:%d", "session:%x"}
	keys := make([]string, total)
	for i := range keys {
		if i < matching {
			keys[i] = s.Key(fmt.Sprintf(products[i%len(products)], i))
		} else {
			keys[i] = s.Key(fmt.Sprintf(others[i%len(others)], i))
		}
	}
	var deleted int64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := c.FlushDB(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		seedWithTTL(b, c, keys)
		b.StartTimer()
		res, err := Clear(ctx, c, sel, ClearConfig{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Deleted != matching {
			b.Fatalf("deleted %d keys, want %d", res.Deleted, matching)
		}
		deleted += res.Deleted
	}
	b.ReportMetric(float64(deleted)/b.Elapsed().Seconds(), "keys/s")
}
