package catalogapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// MetricsCacheRequests is the reference server's counter of cache lookups
// by group and result (hit, miss, bypass).
const MetricsCacheRequests = "catalog_cache_requests_total"

// ErrMetricsNotCatalog means a /metrics page without MetricsCacheRequests:
// the API is not the reference catalog server.
var ErrMetricsNotCatalog = errors.New("no " + MetricsCacheRequests + " in /metrics: not the reference catalog server")

// Metrics are the cumulative cache lookups per group as the application
// counted them.
type Metrics struct {
	Groups map[string]MetricsGroup
}

// MetricsGroup holds one group's cumulative lookup counters.
type MetricsGroup struct {
	Hits, Misses, Bypass float64
}

// metricsMaxBytes bounds the /metrics page read.
const metricsMaxBytes = 8 << 20

// ScrapeMetrics reads api's /metrics (api is the API's base URL) and picks
// out the cache lookups per group.
func ScrapeMetrics(ctx context.Context, client *http.Client, api string) (Metrics, error) {
	u := strings.TrimSuffix(api, "/") + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Metrics{}, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return Metrics{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Metrics{}, fmt.Errorf("get %s: %s", u, resp.Status)
	}
	return ParseMetrics(io.LimitReader(resp.Body, metricsMaxBytes))
}

// ParseMetrics picks the cache lookups per group out of a Prometheus text
// exposition.
func ParseMetrics(r io.Reader) (Metrics, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return Metrics{}, fmt.Errorf("parse metrics: %w", err)
	}
	fam, ok := families[MetricsCacheRequests]
	if !ok {
		return Metrics{}, ErrMetricsNotCatalog
	}
	stats := Metrics{Groups: map[string]MetricsGroup{}}
	for _, m := range fam.GetMetric() {
		var group, result string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "group":
				group = l.GetValue()
			case "result":
				result = l.GetValue()
			}
		}
		v := m.GetCounter().GetValue()
		if m.GetCounter() == nil {
			v = m.GetUntyped().GetValue()
		}
		g := stats.Groups[group]
		switch result {
		case "hit":
			g.Hits += v
		case "miss":
			g.Misses += v
		case "bypass":
			g.Bypass += v
		default:
			continue
		}
		stats.Groups[group] = g
	}
	return stats, nil
}
