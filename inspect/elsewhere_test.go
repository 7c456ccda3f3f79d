package inspect

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/keyspace"
)

func TestFindElsewhere(t *testing.T) {
	// A user pointed at db 0 with the default prefix finds no group keys:
	// the hint must name where they are (another db, another prefix or
	// version), or say nothing when there is nothing elsewhere either.
	srv := redistest.Start(t)
	ctx := context.Background()
	db := func(n int) *redis.Client {
		o := srv.ClientOptions()
		o.DB = n
		c := redis.NewClient(o)
		t.Cleanup(func() { c.Close() })
		return c
	}
	schema := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	hint := func(t *testing.T) string {
		t.Helper()
		e, err := FindElsewhere(ctx, db(0), 0, schema)
		if err != nil {
			t.Fatal(err)
		}
		return e.Hint(schema)
	}
	if h := hint(t); h != "" {
		t.Errorf("an empty server: hint %q, want none", h)
	}

	// django-redis's documented LOCATION is db 1.
	for i := range 72 {
		db(1).Set(ctx, fmt.Sprintf("ecommerce:1:product:%d", i), "x", 0)
	}
	db(2).Set(ctx, "unrelated", "x", 0)
	if h := hint(t); !strings.Contains(h, "db1 holds 72 keys") || !strings.Contains(h, "/1 at the end of --redis") {
		t.Errorf("keys in db 1: hint %q", h)
	}
	db(1).FlushDB(ctx)

	// Another KEY_PREFIX and VERSION in the same db.
	for i := range 30 {
		db(0).Set(ctx, fmt.Sprintf("shop:7:product:%d", i), "x", 0)
	}
	db(0).Set(ctx, "ecommerce:1:session:abc", "x", 0) // ours, but in no group
	if h := hint(t); !strings.Contains(h, `30 sampled keys are under "shop:7:"`) || !strings.Contains(h, "--prefix shop --key-version 7") {
		t.Errorf("another prefix and version: hint %q", h)
	}
	db(0).FlushDB(ctx)

	// Only unrelated keys elsewhere: say which db holds what, no guess.
	if h := hint(t); !strings.Contains(h, "db2 holds 1 key") || !strings.Contains(h, "is the db in --redis right?") {
		t.Errorf("unrelated keys in db 2: hint %q", h)
	}
}

func TestFindElsewhereOnACluster(t *testing.T) {
	// Every master is sampled, in parallel: keys of another version spread
	// over three masters are all seen.
	cl := redistest.StartCluster(t, 3, 0)
	cc := cl.Client(t)
	ctx := context.Background()
	for i := range 90 {
		cc.Set(ctx, fmt.Sprintf("ecommerce:2:product:%d", i), "x", 0)
	}
	schema := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	e, err := FindElsewhere(ctx, cc, 0, schema)
	if err != nil {
		t.Fatal(err)
	}
	if h := e.Hint(schema); !strings.Contains(h, `90 sampled keys are under "ecommerce:2:"`) || !strings.Contains(h, "--key-version 2") {
		t.Errorf("hint %q", h)
	}
}
