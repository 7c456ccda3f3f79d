package topfeed

import (
	"context"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/tui"
)

func TestOpenWithoutRatesFeedsTheDashboardRedisOnly(t *testing.T) {
	// No API and no sampling: the groups are still counted, and the
	// dashboard has no application to ask. Nothing is sent to Redis yet.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	sel := keyspace.New("ecommerce", 1).Selection()
	feed := Open(context.Background(), rdb, sel, Metrics{}, false, 0)
	defer feed.Close()
	cfg := feed.Dashboard(tui.Config{Addr: "redis://127.0.0.1:1/0"})
	if cfg.App != nil || cfg.Source == nil || cfg.Detail == nil || cfg.Addr != "redis://127.0.0.1:1/0" {
		t.Errorf("dashboard config %+v: want Redis as source and detail, no app", cfg)
	}
	if !slices.Equal(feed.Selection.Names(), sel.Names()) {
		t.Errorf("counts %q, want the groups %q", feed.Selection.Names(), sel.Names())
	}
}
