package bench

import (
	"context"
	"net/url"
	"time"

	"github.com/cachectl/cachectl/internal/redact"
)

// Suite is a whole benchmark run: every endpoint in turn, or with Mix one
// weighted load phase across them all, then the gates.
type Suite struct {
	Config    Config
	API       *url.URL
	Endpoints []Endpoint // nil: DefaultEndpoints, discovered from the API
	Mix       bool
	Gates     Gates
}

// Run benchmarks the suite and applies its gates. It never prints. When it
// was interrupted the report is partial (Complete false) and the error is
// ctx's; any other error comes without a report worth printing.
func (s Suite) Run(ctx context.Context) (Report, error) {
	rep := Report{Schema: SchemaV1, API: redact.URL(s.API.String()), Endpoints: []Result{}, Complete: true}
	cfg := s.Config.withDefaults()
	eps := s.Endpoints
	if eps == nil {
		var err error
		if eps, err = DefaultEndpoints(ctx, cfg.Client, s.API, cfg.Timeout); err != nil {
			return rep, err
		}
	}
	fp := fingerprint(ctx, cfg, eps)
	fp.Dataset = datasetOf(ctx, cfg, s.API)
	rep.Fingerprint = &fp
	var runErr error
	if s.Mix {
		mix, err := RunMix(ctx, cfg, eps)
		rep.Mix = &mix
		runErr = err
		eps = nil
	}
	for _, ep := range eps {
		start := time.Now()
		res, err := Run(ctx, cfg, ep)
		res.DurationMs = msf(time.Since(start))
		if err != nil && ctx.Err() == nil {
			return rep, err
		}
		rep.Endpoints = append(rep.Endpoints, res)
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		rep.Complete = false
		runErr = ctx.Err()
	} else if runErr != nil {
		return rep, runErr
	}
	s.Gates.Check(&rep)
	return rep, runErr
}
