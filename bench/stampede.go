package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

// Stampede is what N concurrent requests did to an endpoint whose keys had
// just been cleared: the thundering herd a popular key meets when it
// expires. A server that coalesces concurrent misses loads the origin once
// and stores the key once; one that does not loads and stores it up to N
// times.
type Stampede struct {
	N int `json:"n"`
	// OriginQueries sums X-DB-Queries over the N responses; -1 when the
	// server does not send it.
	OriginQueries int `json:"origin_queries"`
	// CacheWrites counts the commands that stored a value in the endpoint's
	// keys while the N requests ran, as Redis MONITOR showed them; -1 when
	// Redis could not be watched (Note says why).
	CacheWrites int `json:"cache_writes"`
	// ByCache counts the successful responses per cache state (CacheStates).
	ByCache map[string]int `json:"by_cache"`
	Errors  int            `json:"errors"`
	// Latency of the successful responses, from the moment all N were
	// released together.
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
	// Coalesced is CacheWrites <= 1: the N concurrent misses were stored
	// once (or not at all), so at most one of them loaded what is cached.
	// null when CacheWrites is unknown.
	Coalesced *bool `json:"coalesced"`
	// Cached says whether every key the endpoint was cleared of (a literal
	// one) exists again after the burst.
	Cached *bool  `json:"cached,omitempty"`
	Note   string `json:"note,omitempty"`
}

// stampede clears the endpoint's keys, then releases cfg.Stampede requests
// at once and counts what they cost: origin queries, cache stores, states.
func stampede(ctx context.Context, cfg Config, ep Endpoint, clear []string) (*Stampede, error) {
	n := cfg.Stampede
	st := &Stampede{N: n, OriginQueries: -1, CacheWrites: -1, ByCache: map[string]int{}}
	if cfg.Redis == nil || len(clear) == 0 {
		st.Note = "no key to clear: the requests were not at a cold key"
	} else if _, err := clearKeys(ctx, cfg.Redis, cfg.Schema, clear); err != nil {
		return nil, err
	}
	var shots []shot
	fire := func(ctx context.Context) { shots = herd(ctx, cfg, ep, n) }
	switch o := cfg.Observer; {
	case o == nil:
		fire(ctx)
		st.Note = join(st.Note, "cache writes not counted: Redis is not observed")
	default:
		globs := make([]string, len(clear))
		for i, p := range clear {
			globs[i] = keyspace.EscapeGlob(cfg.Schema.Namespace()) + p
		}
		match := func(key string) bool {
			for _, g := range globs {
				if keyspace.Match(g, key) {
					return true
				}
			}
			return false
		}
		stores, err := o.Burst(ctx, match, fire)
		switch {
		case errors.Is(err, observe.ErrUnavailable):
			fire(ctx)
			st.Note = join(st.Note, "cache writes not counted: "+err.Error())
		case err != nil:
			return nil, err
		default:
			st.CacheWrites = 0
			for _, s := range stores {
				st.CacheWrites += s.Commands
			}
			coalesced := st.CacheWrites <= 1
			st.Coalesced = &coalesced
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var lats []time.Duration
	for _, s := range shots {
		if s.err != nil || s.status < 200 || s.status >= 400 {
			st.Errors++
			continue
		}
		lats = append(lats, s.latency)
		st.ByCache[s.state]++
		if s.queries >= 0 {
			st.OriginQueries = max(st.OriginQueries, 0) + s.queries
		}
	}
	l := Sorted(lats)
	st.P50, st.P99, st.Max = msf(Percentile(l, 50)), msf(Percentile(l, 99)), msf(Percentile(l, 100))
	if lit := literalKeys(cfg.Schema, clear); cfg.Redis != nil && len(lit) > 0 {
		n, err := cfg.Redis.Exists(ctx, lit...).Result()
		if err != nil {
			return nil, fmt.Errorf("stampede: EXISTS: %w", err)
		}
		cached := n == int64(len(lit))
		st.Cached = &cached
	}
	return st, nil
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// literalKeys are the full names of the patterns that are single keys.
func literalKeys(s keyspace.Schema, patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if lit, exact := keyspace.LiteralPrefix(keyspace.EscapeGlob(s.Namespace()) + p); exact {
			out = append(out, lit)
		}
	}
	return out
}

// shot is one request of a stampede.
type shot struct {
	status  int
	err     error
	latency time.Duration
	state   string
	queries int
}

// herd sends n requests of ep at once: each on its own connection, all
// waiting at a barrier until every one is ready, then released together.
// Latency counts from the release.
func herd(ctx context.Context, cfg Config, ep Endpoint, n int) []shot {
	tr := loadTransport(n, cfg.Timeout)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: cfg.Timeout}
	state := cfg.CacheState
	if state == nil {
		state = XCacheState
	}
	req := loadRequest(cfg, ep)
	shots := make([]shot, n)
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	var start time.Time
	for i := range shots {
		ready.Add(1)
		done.Go(func() {
			r := req.Clone(ctx)
			ready.Done()
			<-release
			resp, err := client.Do(r)
			s := &shots[i]
			if err != nil {
				s.err = err
				return
			}
			_, s.err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			s.latency = time.Since(start)
			s.status = resp.StatusCode
			cr := catalogapi.Response{Status: resp.StatusCode, Header: resp.Header, CacheHeaders: catalogapi.ParseCacheHeaders(resp.Header)}
			s.state, s.queries = state(&cr), cr.DBQueries
		})
	}
	ready.Wait()
	start = time.Now()
	close(release)
	done.Wait()
	return shots
}

// stampedeText is the stampede of an endpoint in one line.
func (s *Stampede) text() string {
	var states []string
	for _, st := range CacheStates {
		if n := s.ByCache[st]; n > 0 {
			states = append(states, fmt.Sprintf("%s %d", st, n))
		}
	}
	return fmt.Sprintf("%d at once: %s origin queries, %s cache writes, %s; p50 %.2f, p99 %.2f, max %.2f ms",
		s.N, count(s.OriginQueries), count(s.CacheWrites), strings.Join(states, ", "), s.P50, s.P99, s.Max)
}

func count(n int) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprint(n)
}

// stampedeGate holds every endpoint's stampede to at most max cache writes;
// one whose writes could not be counted fails it, as nothing proves it.
func (g Gates) stampedeGate(add func(string, bool, string, ...any), name string, s *Stampede) {
	if g.MaxStampedeWrites <= 0 || s == nil {
		return
	}
	add("max-stampede-writes "+name, s.CacheWrites >= 0 && s.CacheWrites <= g.MaxStampedeWrites,
		"%d concurrent requests at a cleared key stored it %s times, want at most %d", s.N, count(s.CacheWrites), g.MaxStampedeWrites)
}

// stampedeMarkdown is the stampede section of the markdown report; "" without one.
func (r Report) stampedeMarkdown() string {
	var b strings.Builder
	for _, e := range r.Endpoints {
		if s := e.Stampede; s != nil {
			if b.Len() == 0 {
				b.WriteString("\nStampede: concurrent requests released together at a just-cleared key.\n\n")
			}
			fmt.Fprintf(&b, "- %s: %s\n", e.Name, s.text())
		}
	}
	return b.String()
}
