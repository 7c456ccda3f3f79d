// Package exporter serves Prometheus metrics per group of the key schema
// (`cachectl exporter`). Its cost to Redis is bounded: a background
// refresher runs one keyspace.Survey every Refresh, and scrapes read the
// last result; a scrape never sends a command to Redis.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/keyspace"
)

// Defaults of `cachectl exporter`.
const (
	DefaultListen  = "127.0.0.1:9188"
	DefaultRefresh = time.Minute
	MinRefresh     = time.Second
	MaxRefresh     = 24 * time.Hour
)

// HitRatioSource gives an estimate of the hit ratio (0..1) of each group,
// keyed by group name; a group it does not know is left out. It is how a
// sampler of the application's commands feeds cachectl_group_hit_ratio.
type HitRatioSource interface {
	HitRatios(ctx context.Context) (map[string]float64, error)
}

// Config is what an Exporter surveys, how often, and where Run listens.
type Config struct {
	Listen    string // HOST:PORT for Run; DefaultListen when ""
	Client    redis.UniversalClient
	Selection keyspace.Selection
	Survey    keyspace.SurveyConfig
	Refresh   time.Duration // between surveys; DefaultRefresh when 0
	// HitRatio, when set, is read after each survey; without it the
	// hit-ratio gauge is not exported at all.
	HitRatio HitRatioSource
	// Logger receives failed refreshes (the last good figures stay served).
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Validate refuses a refresh interval outside 1s..24h and a listen
// address that is not HOST:PORT, naming the flags.
func (c Config) Validate() error {
	if c.Listen != "" {
		if err := option.HostPort("listen", c.Listen); err != nil {
			return err
		}
	}
	return option.First(
		option.InRange("refresh", c.Refresh, MinRefresh, MaxRefresh),
		option.InRange("samples", c.Survey.Samples, 1, keyspace.MaxSamples),
	)
}

// Run listens on cfg.Listen, tells onListen (when set) the bound address,
// and serves until ctx ends (Serve).
func Run(ctx context.Context, cfg Config, onListen func(net.Addr)) error {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.Listen, err)
	}
	if onListen != nil {
		onListen(ln.Addr())
	}
	return New(cfg).Serve(ctx, ln)
}

// Exporter holds the last survey and serves it as metrics.
type Exporter struct {
	cfg      Config
	registry *prometheus.Registry

	mu       sync.Mutex
	last     []keyspace.TargetSurvey
	ratios   map[string]float64
	at       time.Time     // when the last good survey ended
	took     time.Duration // how long it took
	failures int64
}

// New builds an Exporter; nothing is surveyed until Refresh or Run.
func New(cfg Config) *Exporter {
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Exporter{cfg: cfg, registry: prometheus.NewRegistry()}
	e.registry.MustRegister(collector{e})
	return e
}

// Refresh runs one survey now and, when it succeeds, makes it what scrapes see.
func (e *Exporter) Refresh(ctx context.Context) error {
	start := e.cfg.Now()
	survey, err := keyspace.Survey(ctx, e.cfg.Client, e.cfg.Selection, e.cfg.Survey)
	var ratios map[string]float64
	if err == nil && e.cfg.HitRatio != nil {
		ratios, err = e.cfg.HitRatio.HitRatios(ctx)
	}
	end := e.cfg.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.failures++
		return fmt.Errorf("survey: %w", err)
	}
	e.last, e.ratios, e.at, e.took = survey, ratios, end, end.Sub(start)
	return nil
}

// Run refreshes at once and then every Refresh until ctx ends; a failed
// refresh is logged and the previous figures stay.
func (e *Exporter) Run(ctx context.Context) {
	t := time.NewTicker(e.cfg.Refresh)
	defer t.Stop()
	for {
		if err := e.Refresh(ctx); err != nil && ctx.Err() == nil {
			e.cfg.Logger.Warn("refresh failed; serving the previous figures", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Handler serves the metrics in the Prometheus exposition formats.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Serve runs the refresher and serves /metrics on ln until ctx ends, then
// shuts down.
func (e *Exporter) Serve(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", e.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "cachectl exporter: metrics at /metrics")
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(e.cfg.Logger.Handler(), slog.LevelWarn)}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { e.Run(rctx) })
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); err == nil || errors.Is(err, http.ErrServerClosed) {
		err = serr
	}
	stop()
	wg.Wait()
	return err
}

// collector turns the last survey into metrics at scrape time, from memory.
type collector struct{ e *Exporter }

var (
	descKeys = prometheus.NewDesc("cachectl_group_keys",
		"Keys of the group, counted exactly by the last survey's SCAN.", []string{"group", "exact"}, nil)
	descMemory = prometheus.NewDesc("cachectl_group_memory_bytes",
		"Estimated memory of the group's keys: mean sampled MEMORY USAGE times the key count, per master.", []string{"group", "exact"}, nil)
	descTTL = prometheus.NewDesc("cachectl_group_ttl_seconds",
		"TTL percentiles of the group's sampled keys that expire.", []string{"group", "quantile", "exact"}, nil)
	descNoTTL = prometheus.NewDesc("cachectl_group_no_ttl_keys",
		"Keys of the group without an expiry: the sampled share times the key count.", []string{"group", "exact"}, nil)
	descSoon = prometheus.NewDesc("cachectl_group_expiring_soon_ratio",
		"Share of the group's sampled keys that expire within the survey's 'soon' (60s by default).", []string{"group"}, nil)
	descNodeKeys = prometheus.NewDesc("cachectl_group_node_keys",
		"Keys of the group on each master of a cluster, counted exactly.", []string{"group", "node"}, nil)
	descNodeMemory = prometheus.NewDesc("cachectl_group_node_memory_bytes",
		"Estimated memory of the group's keys on each master of a cluster.", []string{"group", "node", "exact"}, nil)
	descNodeNoTTL = prometheus.NewDesc("cachectl_group_node_no_ttl_keys",
		"Keys of the group without an expiry on each master of a cluster.", []string{"group", "node", "exact"}, nil)
	descHit = prometheus.NewDesc("cachectl_group_hit_ratio",
		"Estimated hit ratio of the group's reads, from sampling the application's commands.", []string{"group", "exact"}, nil)
	descAge = prometheus.NewDesc("cachectl_survey_age_seconds",
		"Seconds since the last successful survey ended.", nil, nil)
	descTook = prometheus.NewDesc("cachectl_survey_duration_seconds",
		"How long the last successful survey took.", nil, nil)
	descFailures = prometheus.NewDesc("cachectl_survey_failures_total",
		"Surveys that failed (the previous figures stayed).", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descKeys, descMemory, descTTL, descNoTTL, descSoon, descNodeKeys, descNodeMemory, descNodeNoTTL, descAge, descTook, descFailures} {
		ch <- d
	}
	if c.e.cfg.HitRatio != nil {
		ch <- descHit
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	e.mu.Lock()
	defer e.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(e.failures))
	if e.at.IsZero() {
		return // no survey yet: no figures rather than zeros
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descAge, e.cfg.Now().Sub(e.at).Seconds())
	gauge(descTook, e.took.Seconds())
	for _, s := range e.last {
		gauge(descKeys, float64(s.Keys), s.Name, "true")
		if s.MemoryEst >= 0 {
			gauge(descMemory, float64(s.MemoryEst), s.Name, "false")
		}
		if s.TTLSamples > 0 {
			exact := strconv.FormatBool(s.Exact["ttl"])
			gauge(descTTL, s.TTLP50.Seconds(), s.Name, "0.5", exact)
			gauge(descTTL, s.TTLP90.Seconds(), s.Name, "0.9", exact)
		}
		gauge(descNoTTL, float64(s.NoTTL), s.Name, strconv.FormatBool(s.Exact["no_ttl"]))
		gauge(descSoon, s.ExpiringSoon, s.Name)
		for _, n := range s.Nodes {
			gauge(descNodeKeys, float64(n.Keys), s.Name, n.Addr)
			if n.MemoryEst >= 0 {
				gauge(descNodeMemory, float64(n.MemoryEst), s.Name, n.Addr, "false")
			}
			gauge(descNodeNoTTL, float64(n.NoTTL), s.Name, n.Addr, strconv.FormatBool(n.Exact["no_ttl"]))
		}
		if r, ok := e.ratios[s.Name]; ok && e.cfg.HitRatio != nil {
			gauge(descHit, r, s.Name, "false")
		}
	}
}
