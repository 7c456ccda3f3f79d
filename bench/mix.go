package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"

	"github.com/cachectl/cachectl/observe"
)

// Mix is one weighted warm phase across several endpoints, as traffic
// arrives in production. The figures are those of the mix as a whole;
// Picks says how many requests went to each endpoint.
type Mix struct {
	Warm     Warm           `json:"warm"`
	HitRatio float64        `json:"hit_ratio"` // Redis keyspace hits / (hits+misses) during the phase; -1 when unknown
	Weights  map[string]int `json:"weights"`
	Picks    map[string]int `json:"picks"`
	// Skipped names the optional endpoints left out of the mix, and why.
	Skipped map[string]string `json:"skipped,omitempty"`
}

// RunMix primes every endpoint once, then sends cfg.Requests at
// cfg.Concurrency, each to an endpoint picked at random by weight (an
// endpoint without a weight counts 1). An optional endpoint whose first
// request is a 404 or 410 is left out and named in Skipped.
func RunMix(ctx context.Context, cfg Config, all []Endpoint) (Mix, error) {
	cfg = cfg.withDefaults()
	mix := Mix{HitRatio: -1, Weights: map[string]int{}, Picks: map[string]int{}}
	var eps []Endpoint
	var cum []int
	total := 0
	for _, ep := range all {
		if cfg.Progress != nil {
			cfg.Progress("mix: prime " + ep.Name)
		}
		prime, err := do(ctx, cfg, ep)
		if err != nil {
			return mix, endpointErr(ep, err)
		}
		if reason := absent(prime); reason != "" && ep.Optional {
			if mix.Skipped == nil {
				mix.Skipped = map[string]string{}
			}
			mix.Skipped[ep.Name] = reason
			continue
		}
		w := ep.Weight
		if w <= 0 {
			w = 1
		}
		total += w
		eps, cum = append(eps, ep), append(cum, total)
		mix.Weights[ep.Name] = w
	}
	if len(eps) == 0 {
		return mix, errors.New("mix: every endpoint was skipped")
	}
	if cfg.Progress != nil {
		cfg.Progress("mix: under load, weighted across all endpoints")
	}
	before, berr := observe.Counters(ctx, cfg.Redis)
	targets := make([]*http.Request, len(eps))
	for i, ep := range eps {
		targets[i] = loadRequest(cfg, ep)
	}
	load, err := RunLoad(ctx, cfg.load(targets, func() int {
		n := rand.IntN(total)
		i := 0
		for cum[i] <= n {
			i++
		}
		return i
	}))
	if err != nil {
		return mix, err
	}
	after, aerr := observe.Counters(ctx, cfg.Redis)
	mix.Warm = warmFigures(load, cfg)
	if berr == nil && aerr == nil {
		if h, m := after[0]-before[0], after[1]-before[1]; h+m > 0 {
			mix.HitRatio = float64(h) / float64(h+m)
		}
	}
	for i, ep := range eps {
		mix.Picks[ep.Name] += load.Picks[i]
	}
	return mix, ctx.Err()
}
