package topfeed

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/tui"
)

// Feed is what top reads from one connection: Redis itself, and the hit
// rate per group from the catalog API's metrics or from sampling Redis.
type Feed struct {
	Redis
	Rates *HitRates
}

// Open reads Redis through rdb and chooses the hit rates of sel's groups
// (ChooseHitRates; sample allows sampling Redis's commands). maxImpact
// paces the exact group counts. Close stops the sampling.
func Open(ctx context.Context, rdb redis.UniversalClient, sel keyspace.Selection, metrics Metrics, sample bool, maxImpact time.Duration) *Feed {
	rates := ChooseHitRates(ctx, metrics, rdb, sel, sample)
	return &Feed{Redis: Redis{Client: rdb, Selection: rates.Selection, MaxImpact: maxImpact}, Rates: rates}
}

// Close stops what Open started.
func (f *Feed) Close() { f.Rates.Close() }

// Dashboard is cfg reading from the feed: its Source, Detail and App.
func (f *Feed) Dashboard(cfg tui.Config) tui.Config {
	cfg.Source, cfg.Detail, cfg.App = f.Redis, f.Redis, f.Rates.App
	return cfg
}
