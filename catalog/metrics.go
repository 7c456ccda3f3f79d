package catalog

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics live in the server's own registry, so two servers in one process
// (tests, demo) never collide and /metrics shows only the catalog.
type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	cache         *prometheus.CounterVec
	redisErrors   *prometheus.CounterVec
	invalidations *prometheus.CounterVec
}

func newMetrics(store *Store, simulatedLatency float64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "catalog_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "catalog_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "catalog_cache_requests_total", Help: "Cache lookups by keyspace group and result (hit, miss, bypass, foreign: the key holds another writer's value, served from the database and left alone).",
		}, []string{"group", "result"}),
		redisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "catalog_redis_errors_total", Help: "Redis calls that failed or timed out, by operation.",
		}, []string{"op"}),
		invalidations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "catalog_invalidations_total", Help: "Family invalidations by family and result (ok, deferred until Redis answers).",
		}, []string{"family", "result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.cache, m.redisErrors, m.invalidations,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "catalog_db_queries_total", Help: "Database queries made while serving requests.",
		}, func() float64 { return float64(store.Queries()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "catalog_db_simulated_latency_seconds", Help: "Simulated delay added to each database query (--db-latency); 0 when off.",
		}, func() float64 { return simulatedLatency }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}
