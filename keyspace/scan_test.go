package keyspace

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
)

func TestRedisMatchAgreesWithGoMatch(t *testing.T) {
	// The Go matcher is the last check before a delete: it must agree with the
	// server's MATCH on the same keys and patterns.
	c := redistest.Start(t).Client(t)
	keys := []string{"ecommerce:1:product:1", "ecommerce:1:product_colors:all", `sh*p:1:product:1`, "shop:1:product:1",
		`a\b:1:x`, "a[b]:1:x", "ab:1:x", "a?:1:x", "aa:1:x", "new\nline:1:x", "sp ace:1:x", "bin\xff\x00:1:x"}
	seedWithTTL(t, c, keys)
	patterns := []string{"ecommerce:1:product*", "ecommerce:1:product:*", `sh\*p:1:*`, "sh*p:1:*", `a\\b:1:*`, `a\[b\]:1:*`,
		"a[b]:1:*", "a?:1:*", `a\?:1:*`, "[^e]*:1:*", "*:1:x", "new\nline:*", "bin\xff*", "a[a-b]:*", "a["}
	ctx := context.Background()
	for _, p := range patterns {
		redisSet := map[string]bool{}
		var cursor uint64
		for {
			ks, next, err := c.Scan(ctx, cursor, p, 1000).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range ks {
				redisSet[k] = true
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		for _, k := range keys {
			if got := Match(p, k); got != redisSet[k] {
				t.Errorf("pattern %q key %q: Go says %v, Redis says %v", p, k, got, redisSet[k])
			}
		}
	}
}

func TestCountIsExactOnStandaloneAndCluster(t *testing.T) {
	s := New(DefaultPrefix, DefaultVersion)
	products, _ := s.Group(GroupProducts)
	colors, _ := s.Group(GroupColors)
	sel := Selection{products, colors}
	var keys []string
	for i := 1; i <= 2500; i++ {
		keys = append(keys, s.Key(fmt.Sprintf("product:%d", i)))
	}
	keys = append(keys, s.Key("product_colors:all"), s.Key("productivity:1"), s.Key("categories:all"), "other:1")

	cases := map[string]redis.UniversalClient{
		"standalone": redistest.Start(t).Client(t),
		"cluster":    redistest.StartCluster(t, 3, 1).Client(t),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			seedWithTTL(t, c, keys)
			got, err := Count(context.Background(), c, sel, 100)
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != 2500 || got[1] != 1 {
				t.Errorf("Count = %v, want [2500 1]", got)
			}
		})
	}
}
