// Package catalog is the reference catalog server of `cachectl serve`: a
// Django REST style JSON API over an embedded SQLite catalog, cached in Redis
// exactly the way the seed's Django app caches (django-redis key names and
// TTLs), with invalidation on writes, no stale sets, request coalescing, and
// failing open when Redis is unavailable.
package catalog

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/keyspace"
)

// Defaults of Config.
const (
	DefaultRedisTimeout    = 150 * time.Millisecond
	DefaultMaxBodyBytes    = 64 << 10
	DefaultShutdownTimeout = 10 * time.Second
)

// Config configures a Server.
type Config struct {
	Store *Store
	// Redis is the cache; nil serves everything from the database. Build it
	// with RedisOptions so that each call honours the short deadline.
	// NewServer adds a hook to it that tells which server failed.
	Redis  redis.UniversalClient
	Schema keyspace.Schema
	// AdminToken guards every write (Authorization: Bearer TOKEN); empty
	// refuses all writes.
	AdminToken string
	// NoCache serves every read from the database while writes still
	// invalidate: the seed's rollback plan.
	NoCache bool
	// RedisTimeout bounds each Redis call before the request falls back to
	// the database.
	RedisTimeout time.Duration
	MaxBodyBytes int64
	// ShutdownTimeout bounds a graceful shutdown: requests in flight, then
	// replaying the invalidations Redis has not taken yet.
	ShutdownTimeout time.Duration
	// ClearArgs are the flags that point `cachectl clear` at this Redis (its
	// URL without credentials, TLS and cluster flags; none for the default).
	// Invalidations left at shutdown are logged as a clear command with them.
	ClearArgs []string
	// Logger receives the access log and cache state changes; nil discards.
	Logger *slog.Logger
	// HitLatency is a SIMULATION, off when 0: every cache HIT waits this
	// long before it is answered, a slower warm path (more work per hit) to
	// prove that a bench baseline notices one. The cold path is unchanged.
	HitLatency time.Duration
}

// RedisOptions returns a copy of opt tuned for serving: every call bounded
// by timeout (and by the caller's context), no retries, a pool wait no longer
// than a call. A request then falls back to the database within about one
// timeout when Redis is down, stalled or slow.
func RedisOptions(opt *redis.Options, timeout time.Duration) *redis.Options {
	o := *opt
	if timeout <= 0 {
		timeout = DefaultRedisTimeout
	}
	o.DialTimeout = timeout
	o.ReadTimeout = timeout
	o.WriteTimeout = timeout
	o.PoolTimeout = timeout
	o.ContextTimeoutEnabled = true
	o.MaxRetries = -1
	return &o
}

// Server is the catalog HTTP API.
type Server struct {
	cfg     Config
	store   *Store
	cache   *cache
	metrics *metrics
	log     *slog.Logger
	routes  []route
	handler http.Handler
}

// NewServer builds a server; it starts nothing until Serve.
func NewServer(cfg Config) *Server {
	option.Default(&cfg.RedisTimeout, DefaultRedisTimeout)
	option.Default(&cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	option.Default(&cfg.ShutdownTimeout, DefaultShutdownTimeout)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := newMetrics(cfg.Store, cfg.Store.latency.Seconds())
	s := &Server{
		cfg: cfg, store: cfg.Store, metrics: m, log: log,
		cache: newCache(cfg, m, log),
	}
	ctx, cancel := context.WithTimeout(context.Background(), restoreTimeout)
	s.cache.restore(ctx)
	cancel()
	s.routes = s.routeTable()
	s.handler = s.instrument(http.HandlerFunc(s.dispatch))
	return s
}

// Handler is the whole API, /healthz, /readyz and /metrics included.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// in-flight requests complete (within ShutdownTimeout) and Serve returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.cache.health.has(wholeCache) {
		// Replay what the last run left before trusting the cache.
		s.cache.recover(ctx)
	}
	s.cache.warnForeign(ctx)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	stopProbe := make(chan struct{})
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		s.keepRecovering(stopProbe)
	}()

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err == nil {
		err = hs.Shutdown(sctx)
		<-errc
	}
	close(stopProbe)
	<-probeDone
	s.cache.drain(sctx)
	return err
}

// keepRecovering replays pending invalidations even when no request comes.
func (s *Server) keepRecovering(stop <-chan struct{}) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if s.cache.health.any() || s.cache.pendingCount() > 0 {
				s.cache.recover(context.Background())
			}
		}
	}
}

// handlerFunc serves one route; ids are the path's ids, in order.
type handlerFunc func(w http.ResponseWriter, r *http.Request, ids []int64)

type route struct {
	pattern string // e.g. "/api/products/{id}/", the metric label
	segs    []string
	methods map[string]handlerFunc
}

func newRoute(pattern string, methods map[string]handlerFunc) route {
	return route{pattern: pattern, segs: strings.Split(strings.Trim(pattern, "/"), "/"), methods: methods}
}

// match reports whether path fits the route, with the ids it carries.
func (rt route) match(segs []string) ([]int64, bool) {
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	var ids []int64
	for i, want := range rt.segs {
		if want == "{id}" {
			id, ok := parseID(segs[i])
			if !ok {
				return nil, false
			}
			ids = append(ids, id)
			continue
		}
		if segs[i] != want {
			return nil, false
		}
	}
	return ids, true
}

func (rt route) allow() string {
	ms := make([]string, 0, len(rt.methods))
	for m := range rt.methods {
		ms = append(ms, m)
		if m == http.MethodGet {
			ms = append(ms, http.MethodHead)
		}
	}
	slices.Sort(ms)
	return strings.Join(ms, ", ")
}

// find returns the route for a path ("" pattern when none matches).
func (s *Server) find(path string) (route, []int64, bool) {
	if !strings.HasSuffix(path, "/") && strings.HasPrefix(path, "/api/") {
		return route{}, nil, false
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range s.routes {
		if ids, ok := rt.match(segs); ok {
			return rt, ids, true
		}
	}
	return route{}, nil, false
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	rt, ids, ok := s.find(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	h, ok := rt.methods[r.Method]
	if !ok && r.Method == http.MethodHead {
		// net/http drops the body of a HEAD response; the headers (X-Cache) stay.
		h, ok = rt.methods[http.MethodGet]
	}
	if !ok {
		w.Header().Set("Allow", rt.allow())
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	h(w, r, ids)
}

// routePattern names the route of a path for metrics without letting ids
// or unknown paths create label values.
func (s *Server) routePattern(path string) string {
	if rt, _, ok := s.find(path); ok {
		return rt.pattern
	}
	return "other"
}

// methodLabel names a request's method for metrics: the methods of HTTP
// itself, and OTHER for any token a client invents, which would otherwise add
// a series per request.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// statusRecorder remembers the status for the access log and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.status == 0 {
		sr.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

func (sr *statusRecorder) Write(b []byte) (int, error) {
	if sr.status == 0 {
		sr.status = http.StatusOK
	}
	return sr.ResponseWriter.Write(b)
}

// instrument adds metrics, the access log and a last-resort recovery.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sr := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panic", "path", r.URL.Path, "panic", p)
				if sr.status == 0 {
					writeError(sr, http.StatusInternalServerError, "internal error")
				}
			}
			if sr.status == 0 {
				sr.status = http.StatusOK
			}
			d := time.Since(start)
			pattern := s.routePattern(r.URL.Path)
			s.metrics.requests.WithLabelValues(pattern, methodLabel(r.Method), strconv.Itoa(sr.status)).Inc()
			s.metrics.latency.WithLabelValues(pattern).Observe(d.Seconds())
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sr.status), slog.Duration("duration", d),
				slog.String("cache", sr.Header().Get("X-Cache")),
				slog.String("db_queries", sr.Header().Get("X-DB-Queries")),
				slog.String("remote", r.RemoteAddr))
		}()
		next.ServeHTTP(sr, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// writeStoreError answers a failed load or write with the status it deserves.
func (s *Server) writeStoreError(w http.ResponseWriter, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.status, ae.msg)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, ErrInsufficientStock):
		writeError(w, http.StatusConflict, "insufficient stock")
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, "conflicts with existing data (a duplicate value, or rows that still refer to it)")
	case errors.Is(err, errMissingRef):
		writeError(w, http.StatusBadRequest, "a referenced category, product or color does not exist")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		s.log.Error("database error", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

// authorize admits writes that carry the admin token: 403 when the server
// has none (writes disabled), 401 when the request's is missing or wrong.
// The tokens are compared as hashes in constant time.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.AdminToken == "" {
		writeError(w, http.StatusForbidden, "writes are disabled: the server has no admin token")
		return false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	got := sha256.Sum256([]byte(tok))
	if !ok || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cachectl"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong admin token")
		return false
	}
	return true
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ []int64) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports the database and Redis. Redis being down does not make the
// server unready: it keeps serving from the database.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ []int64) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	res := map[string]any{"db": "ok", "redis": s.cache.state(), "pending_invalidations": s.cache.pendingCount(),
		"cache": !s.cfg.NoCache}
	if down := s.cache.downNodes(); len(down) > 0 {
		res["redis_down_nodes"] = down
	}
	if s.store.latency > 0 {
		res["db_simulated_latency_ms"] = float64(s.store.latency.Microseconds()) / 1000
	}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		res["db"] = "down"
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, res)
}

func (s *Server) metricsHandler() handlerFunc {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	return func(w http.ResponseWriter, r *http.Request, _ []int64) { h.ServeHTTP(w, r) }
}
