package keyspace

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/redistest"
)

// A clear opens clients of its own for each pass; ClearConfig.Wrap puts the
// caller's hooks on them, so a read-only connection stays read-only for
// the clear's UNLINKs: nothing is deleted, and the error says read-only.
func TestClearWrapKeepsReadOnlyOnTheClearsOwnConnections(t *testing.T) {
	c := redistest.Start(t).Client(t)
	keys := []string{"ecommerce:1:product:1", "ecommerce:1:product:2", "ecommerce:1:product:3"}
	seedWithTTL(t, c, keys)
	sel := Selection{must(t)(New("ecommerce", 1).Group(GroupProducts))}

	res, err := Clear(context.Background(), c, sel, ClearConfig{Wrap: func(c *redis.Client) { redisconn.ReadOnly(c) }})
	if !errors.Is(err, redisconn.ErrReadOnly) {
		t.Fatalf("clear through a read-only wrap: err %v, want ErrReadOnly", err)
	}
	if res.Deleted != 0 || res.Complete {
		t.Errorf("result %+v: want nothing deleted and the clear incomplete", res)
	}
	checkSurvivors(t, c, keys)

	// The same clear without the wrap deletes them: the refusal above came
	// from the hook, not from the data.
	if res, err := Clear(context.Background(), c, sel, ClearConfig{}); err != nil || res.Deleted != 3 {
		t.Fatalf("plain clear: deleted %d, err %v; want 3", res.Deleted, err)
	}
}
