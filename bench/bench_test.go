package bench

import (
	"context"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/keyspace"
)

// Making an endpoint cold deletes exactly its literal keys and the keys its
// globs match inside the namespace, nothing else.
func TestClearKeysTouchesOnlyTheEndpointsKeys(t *testing.T) {
	rs := redistest.Start(t)
	c := rs.Client(t)
	ctx := context.Background()
	gone := []string{"ecommerce:1:products:list:a", "ecommerce:1:products:list:b", "ecommerce:1:product:7"}
	kept := []string{"ecommerce:1:products_archive:1", "ecommerce:1:products:filters:a", "ecommerce:1:product:70",
		"ecommerce:1:product:7:variants", "ecommerce:1:django.contrib.sessions.cache:abc",
		"ecommerce:2:products:list:a", "other:1:products:list:a"}
	for _, k := range append(append([]string{}, gone...), kept...) {
		if err := c.Set(ctx, k, "v", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := clearKeys(ctx, c, keyspace.New("ecommerce", 1), []string{"products:list:*", "product:7"}); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, gone...).Val(); n != 0 {
		t.Errorf("%d of the endpoint's keys survived", n)
	}
	for _, k := range kept {
		if c.Exists(ctx, k).Val() != 1 {
			t.Errorf("%s was deleted", k)
		}
	}
}
