// Package topfeed reads what the `cachectl top` dashboard shows, behind the
// interfaces tui declares: Redis (INFO, PING, the groups' keys) and the
// catalog API's metrics. tui itself never talks to Redis or HTTP.
package topfeed

import (
	"context"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/tui"
)

// Redis is a tui.Source over one client and the groups to count.
type Redis struct {
	Client redis.UniversalClient
	// Selection is the groups to count; nil leaves the keyspace panel empty.
	Selection keyspace.Selection
	// MaxImpact paces the exact count (keyspace.SurveyConfig.MaxImpact).
	MaxImpact time.Duration
}

// Snapshot is one INFO reading.
func (r Redis) Snapshot(ctx context.Context) (inspect.Snapshot, error) {
	return inspect.Take(ctx, r.Client)
}

// Ping is the round trip of one PING.
func (r Redis) Ping(ctx context.Context) (time.Duration, error) {
	_, rtt, err := inspect.Ping(ctx, r.Client, 1)
	return rtt, err
}

// Groups estimates the groups' keys by sampling, or counts them exactly
// with one SCAN pass that also measures a sample of each group's keys (TTL
// and MEMORY USAGE).
func (r Redis) Groups(ctx context.Context, exact bool) ([]tui.Group, error) {
	if len(r.Selection) == 0 {
		return nil, nil
	}
	if !exact {
		counts, err := inspect.EstimateGroups(ctx, r.Client, r.Selection, inspect.SampleOptions{ScanCount: keyspace.DefaultScanCount})
		if err != nil {
			return nil, err
		}
		out := make([]tui.Group, len(counts))
		for i, c := range counts {
			out[i] = tui.Group{GroupCount: c}
		}
		return out, nil
	}
	survey, err := keyspace.Survey(ctx, r.Client, r.Selection, keyspace.SurveyConfig{MaxImpact: r.MaxImpact})
	if err != nil {
		return nil, err
	}
	out := make([]tui.Group, len(survey))
	for i, t := range survey {
		out[i] = tui.Group{
			GroupCount: inspect.GroupCount{Name: t.Name, Keys: t.Keys, Exact: true},
			AvgTTL:     t.AvgTTL, TTLKnown: t.TTLSamples > 0,
			Memory: t.MemoryEst, MemoryKnown: len(t.Samples) > 0 || t.Keys == 0,
		}
	}
	return out, nil
}

// Metrics is a tui.AppSource: the application's hit rate per group from
// the reference server's Prometheus metrics.
type Metrics struct {
	API    string
	Client *http.Client
}

// App scrapes the metrics once.
func (m Metrics) App(ctx context.Context) (tui.AppStats, error) {
	met, err := catalogapi.ScrapeMetrics(ctx, m.Client, m.API)
	if err != nil {
		return tui.AppStats{}, err
	}
	stats := tui.AppStats{Groups: make(map[string]tui.AppGroup, len(met.Groups))}
	for name, g := range met.Groups {
		stats.Groups[name] = tui.AppGroup{Hits: g.Hits, Misses: g.Misses, Bypass: g.Bypass}
	}
	return stats, nil
}
