package topfeed

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
	"github.com/cachectl/cachectl/tui"
)

// Sampled is a tui.AppSource over observe.Sample: the hit rate per group
// as short MONITOR windows see it, for an app without /metrics (a Django
// app). The sampling runs in the background from StartSampling to Close.
type Sampled struct {
	mu    sync.Mutex
	last  observe.SampleReport
	ok    bool
	err   error
	ready chan struct{} // closed at the first report or the end
	stop  context.CancelFunc
	done  chan struct{}
}

// StartSampling starts sampling rdb with cfg until Close.
func StartSampling(ctx context.Context, rdb redis.UniversalClient, cfg observe.SampleConfig) *Sampled {
	ctx, stop := context.WithCancel(ctx)
	s := &Sampled{ready: make(chan struct{}), stop: stop, done: make(chan struct{})}
	var once sync.Once
	cfg.OnWindow = func(r observe.SampleReport) {
		s.mu.Lock()
		s.last, s.ok = r, true
		s.mu.Unlock()
		once.Do(func() { close(s.ready) })
	}
	go func() {
		defer close(s.done)
		_, err := observe.Sample(ctx, rdb, cfg)
		s.mu.Lock()
		if err != nil {
			s.err = err
		}
		s.mu.Unlock()
		once.Do(func() { close(s.ready) })
	}()
	return s
}

// Report is the sampling's report so far; observe.ErrNoSample before the
// first window, the sampling's error once it failed.
func (s *Sampled) Report() (observe.SampleReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return observe.SampleReport{}, s.err
	}
	if !s.ok {
		return observe.SampleReport{}, observe.ErrNoSample
	}
	return s.last, nil
}

// App waits for the first window (or ctx), then returns what was sampled.
func (s *Sampled) App(ctx context.Context) (tui.AppStats, error) {
	select {
	case <-s.ready:
	case <-ctx.Done():
		return tui.AppStats{}, ctx.Err()
	}
	r, err := s.Report()
	if err != nil {
		return tui.AppStats{}, err
	}
	return SampledStats(r), nil
}

// Close stops the sampling and waits for its window to end.
func (s *Sampled) Close() {
	s.stop()
	<-s.done
}

// SampledStats turns a sample into the dashboard's figures.
func SampledStats(r observe.SampleReport) tui.AppStats {
	st := tui.AppStats{Groups: make(map[string]tui.AppGroup, len(r.Groups)), Sampled: true, Note: SampleNote(r)}
	for _, g := range r.Groups {
		lo, hi := g.Interval()
		st.Groups[g.Name] = tui.AppGroup{Hits: float64(g.Hits), Misses: float64(g.Misses), Lo: lo, Hi: hi, Sampled: true}
	}
	return st
}

// SampleNote says how the figures were sampled and what that cost Redis.
func SampleNote(r observe.SampleReport) string {
	s := fmt.Sprintf("sampled %s every %s, %d windows", r.Window, r.Period, r.Windows)
	if r.Cost.Known {
		s += fmt.Sprintf(" · redis cpu +%s of a core (budget %s)", format.Percent(r.Cost.Added), format.Percent(r.Budget))
	}
	if r.Widened != "" {
		s += " · period widened"
	}
	return s
}

// HitRates is where top's per-group hit rate comes from: the catalog
// API's /metrics when it answers with its cache counters, else (unless
// sample is false) sampling Redis. App is nil when neither.
type HitRates struct {
	App tui.AppSource
	// Selection is the groups the rates are for.
	Selection keyspace.Selection
	sampled   *Sampled
}

// ChooseHitRates probes metrics (when it has an API and a client) once and
// falls back to sampling sel's groups with the default windows.
func ChooseHitRates(ctx context.Context, metrics Metrics, rdb redis.UniversalClient, sel keyspace.Selection, sample bool) *HitRates {
	cfg := observe.SampleConfig{Selection: sel}
	if metrics.API != "" && metrics.Client != nil {
		probe, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := metrics.App(probe)
		cancel()
		if err == nil && len(st.Groups) > 0 {
			return &HitRates{App: metrics, Selection: cfg.Selection}
		}
	}
	if !sample || len(cfg.Selection) == 0 {
		return &HitRates{Selection: cfg.Selection}
	}
	s := StartSampling(ctx, rdb, cfg)
	return &HitRates{App: s, Selection: cfg.Selection, sampled: s}
}

// Sample is the sampling's report, when the rates are sampled and a
// window has run.
func (h *HitRates) Sample() (observe.SampleReport, bool) {
	if h.sampled == nil {
		return observe.SampleReport{}, false
	}
	r, err := h.sampled.Report()
	return r, err == nil
}

// Close stops the sampling, if any.
func (h *HitRates) Close() {
	if h.sampled != nil {
		h.sampled.Close()
	}
}

// Stats reads the current figures; an error when there are none.
func (h *HitRates) Stats(ctx context.Context) (tui.AppStats, error) {
	if h.App == nil {
		return tui.AppStats{}, errNoHitRates
	}
	return h.App.App(ctx)
}

var errNoHitRates = errors.New("no per-group hit rate: the API has no /metrics and sampling is off")

// HitRatios are the groups' hit ratios (hits / lookups) for the exporter's
// cachectl_group_hit_ratio: the API's counters or the sampled ones; a group
// with no lookup yet has none, and before the first sampling window (or
// where MONITOR is refused) there are none at all: the survey's other
// figures stand without them.
func (h *HitRates) HitRatios(ctx context.Context) (map[string]float64, error) {
	out := map[string]float64{}
	st, err := h.Stats(ctx)
	if err != nil {
		return out, nil
	}
	for name, g := range st.Groups {
		if n := g.Hits + g.Misses; n > 0 {
			out[name] = g.Hits / n
		}
	}
	return out, nil
}
