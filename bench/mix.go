package bench

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
)

// Mix is one weighted warm phase across several endpoints, as traffic
// arrives in production. hey reports no per-request URL, so the figures are
// those of the mix as a whole; Picks says how many requests went to each endpoint.
type Mix struct {
	Warm     Warm           `json:"warm"`
	HitRatio float64        `json:"hit_ratio"` // Redis keyspace hits / (hits+misses) during the phase; -1 when unknown
	Weights  map[string]int `json:"weights"`
	Picks    map[string]int `json:"picks"`
}

// RunMix primes every endpoint once, then sends cfg.Requests at
// cfg.Concurrency, each to an endpoint picked at random by weight (an
// endpoint without a weight counts 1).
func RunMix(ctx context.Context, cfg Config, eps []Endpoint) (Mix, error) {
	cfg = cfg.withDefaults()
	mix := Mix{HitRatio: -1, Weights: map[string]int{}, Picks: map[string]int{}}
	cum := make([]int, len(eps))
	total := 0
	for i, ep := range eps {
		w := ep.Weight
		if w <= 0 {
			w = 1
		}
		total += w
		cum[i] = total
		mix.Weights[ep.Name] = w
		if cfg.Progress != nil {
			cfg.Progress("mix: prime " + ep.Name)
		}
		if _, err := do(ctx, cfg, ep); err != nil {
			return mix, endpointErr(ep, err)
		}
	}
	picks := make([]atomic.Int64, len(eps))
	if cfg.Progress != nil {
		cfg.Progress("mix: under load, weighted across all endpoints")
	}
	before, berr := redisCounters(ctx, cfg.Redis)
	load, err := RunLoad(ctx, Load{
		Requests: cfg.Requests, Concurrency: cfg.Concurrency, Timeout: cfg.Timeout,
		NewRequest: func() *http.Request {
			n := rand.IntN(total)
			i := 0
			for cum[i] <= n {
				i++
			}
			picks[i].Add(1)
			return loadRequest(cfg, eps[i])
		},
		Template: func() *http.Request { return loadRequest(cfg, eps[0]) },
	})
	if err != nil {
		return mix, err
	}
	after, aerr := redisCounters(ctx, cfg.Redis)
	mix.Warm = warmFigures(load, cfg.Concurrency)
	if berr == nil && aerr == nil {
		if h, m := after[0]-before[0], after[1]-before[1]; h+m > 0 {
			mix.HitRatio = float64(h) / float64(h+m)
		}
	}
	for i, ep := range eps {
		mix.Picks[ep.Name] += int(picks[i].Load())
	}
	return mix, ctx.Err()
}
