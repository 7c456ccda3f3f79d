package bench

import (
	"context"
	"errors"
	"fmt"

	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

// Endpoint is one thing to benchmark.
type Endpoint struct {
	Name    string            `json:"name" yaml:"name"`
	URL     string            `json:"url" yaml:"url"` // absolute, or a path on the API
	Method  string            `json:"method,omitempty" yaml:"method"`
	Headers map[string]string `json:"headers,omitempty" yaml:"headers"`
	// Clear lists the logical keys (globs inside PREFIX:VERSION:) that make the
	// endpoint cold where its own key cannot be learned (X-Cache-Key, or
	// traced in Redis): that key alone is cleared when it can.
	Clear []string `json:"clear,omitempty" yaml:"clear"`
	// Cold false runs only the load phase: an endpoint with no cache key
	// has no cold/warm pair to measure.
	Cold   *bool `json:"cold,omitempty" yaml:"cold"`
	Weight int   `json:"weight,omitempty" yaml:"weight"` // share of a --mix phase
	// Optional endpoints that answer their first request with a 404 or 410
	// are skipped with a reason; any other endpoint then breaches a gate.
	// The built-in endpoints are optional: not every app has them all.
	Optional bool `json:"optional,omitempty" yaml:"optional"`
}

// warmOnly reports an endpoint with cold: false.
func (ep Endpoint) warmOnly() bool { return ep.Cold != nil && !*ep.Cold }

// Writes reports whether benchmarking ep changes anything: its cold phase
// deletes its cache keys, and a method but GET or HEAD may change the
// API's data. A warm-only GET endpoint only reads.
func (ep Endpoint) Writes() bool {
	m := strings.ToUpper(ep.Method)
	return !ep.warmOnly() || (m != "" && m != http.MethodGet && m != http.MethodHead)
}

// Writers names the endpoints of eps that Writes.
func Writers(eps []Endpoint) []string {
	var names []string
	for _, ep := range eps {
		if ep.Writes() {
			names = append(names, ep.Name)
		}
	}
	return names
}

// DefaultPairs is how many cold/warm pairs an endpoint gets by default. The
// speedup gate reads their medians, which 10 samples leave noisy on a busy
// CI runner; 30 pairs take well under a second on a cached endpoint.
const DefaultPairs = 30

// Config says how to benchmark.
type Config struct {
	Client      *http.Client
	Redis       redis.UniversalClient
	Schema      keyspace.Schema
	ColdSamples int           // cold/warm pairs per endpoint, one request at a time; default DefaultPairs
	Requests    int           // requests of the load phase per endpoint, default 1000
	Concurrency int           // requests in flight in the load phase, default 10
	Timeout     time.Duration // per request, default 10s
	Probes      int           // requests after the load phase that read X-Cache and X-DB-Queries, default 10
	// Repeat runs both phases of every endpoint this many times (default 1),
	// for a baseline comparison that knows the noise between runs.
	Repeat int
	// Rate > 0 runs the load phase as an open loop: Rate requests per
	// second on schedule, Requests in all, latency from when each was due.
	// 0 keeps the closed loop of Concurrency workers.
	Rate float64
	// CacheState names the cache state of a load-phase response for
	// Warm.ByCache; XCacheState (the X-Cache header, else "unknown") when nil.
	CacheState func(*catalogapi.Response) string
	// Progress, if set, is told what is happening ("colors: cold/warm pair 3/10, ...").
	Progress func(msg string)
	// Observer, when set, traces each endpoint's first request in Redis to
	// learn its own cache keys where the API does not name them, and counts
	// the cache writes of a stampede.
	Observer *observe.Observer
	// Stampede > 0 ends each endpoint with a stampede: its keys cleared,
	// then this many concurrent requests released together (Result.Stampede).
	Stampede int
}

// Bounds of Config: beyond them a run is a typo, or a cost the API pays.
const (
	MaxRequests    = 10_000_000
	MaxConcurrency = 10_000
	MaxColdSamples = 10_000
)

// Validate refuses sizes no run should start with (an *option.Error
// naming the flag); zero values are not defaults here.
func (c Config) Validate() error {
	if err := option.First(
		option.InRange("requests", c.Requests, 1, MaxRequests),
		option.InRange("concurrency", c.Concurrency, 1, MaxConcurrency),
		option.InRange("cold-samples", c.ColdSamples, 1, MaxColdSamples),
		option.InRange("stampede", c.Stampede, 0, MaxConcurrency),
	); err != nil {
		return err
	}
	if c.Timeout <= 0 {
		return option.Errorf("--request-timeout must be positive")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
	option.Default(&c.ColdSamples, DefaultPairs)
	option.Default(&c.Requests, 1000)
	option.Default(&c.Concurrency, 10)
	option.Default(&c.Timeout, 10*time.Second)
	option.Default(&c.Probes, 10)
	option.Default(&c.Repeat, 1)
	return c
}

// do sends one plain request of ep.
func do(ctx context.Context, cfg Config, ep Endpoint) (*catalogapi.Response, error) {
	h := http.Header{}
	for k, v := range ep.Headers {
		h.Set(k, v)
	}
	c := catalogapi.New(nil, cfg.Client).WithTimeout(cfg.Timeout)
	return c.Send(ctx, catalogapi.Request{Method: ep.Method, URL: ep.URL, Header: h, Discard: true})
}

func newRequest(ctx context.Context, ep Endpoint) (*http.Request, error) {
	method := ep.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, ep.URL, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// loadRequest builds a request of a warm phase. The load engine sends it
// through its own tuned client, not cfg.Client, so the API's credentials are
// handed over here.
func loadRequest(cfg Config, ep Endpoint) *http.Request {
	r, _ := newRequest(context.Background(), ep)
	if r != nil {
		catalogapi.AddCredentials(cfg.Client, r)
	}
	return r
}

// SpeedupBasis says which figures Result.Speedup divides; the JSON report
// carries it beside every speedup.
const SpeedupBasis = "cold.p50_ms / warm_serial.p50_ms: cold/warm pairs, one request at a time"

// Result is the figures of one endpoint. Cold and WarmSerial are the two
// halves of the same cold/warm pairs, taken one request at a time, and
// Speedup divides their medians; Warm is the load phase at Config.Concurrency,
// which tells throughput and latency under load, not what the cache buys.
type Result struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Skipped says why the endpoint was not measured (its first request was
	// a 404 or 410); every figure is then zero.
	Skipped    string  `json:"skipped,omitempty"`
	Cold       Serial  `json:"cold"`
	WarmSerial Serial  `json:"warm_serial"` // zero in reports written before the pairs
	Warm       Warm    `json:"warm"`
	Speedup    float64 `json:"speedup"` // cold p50 / warm_serial p50
	// SpeedupBasis is SpeedupBasis: which figures Speedup divides.
	SpeedupBasis string  `json:"speedup_basis,omitempty"`
	HitRatio     float64 `json:"hit_ratio"` // Redis keyspace hits / (hits+misses) during the load phase
	// XCacheAgreement is the share of probe responses after the load phase
	// that said HIT; -1 when the server sends no X-Cache.
	XCacheAgreement float64 `json:"xcache_agreement"`
	// Histogram counts the load phase's latencies in 8 buckets between the fastest and the slowest.
	Histogram []Bucket `json:"histogram,omitempty"`
	// Repeats are each repeat's figures with --repeat N > 1; the figures
	// above pool them all.
	Repeats []Repeat `json:"repeats,omitempty"`
	// Optional is the endpoint's: a skipped optional endpoint breaches no gate.
	Optional bool `json:"-"`
	// Keys are what each cold sample clears: the endpoint's own cache keys
	// (logical), or the endpoint's patterns where no key could be learned.
	Keys []string `json:"keys"`
	// KeysFrom says how Keys were learned: "header" (X-Cache-Key),
	// "redis" (the endpoint traced in Redis), or "patterns" (--endpoints).
	KeysFrom string `json:"keys_from"`
	// WarmOnly is an endpoint with cold: false: no pairs, no speedup.
	WarmOnly bool `json:"warm_only,omitempty"`
	// Invalid says why the cold/warm pairs mean nothing (a cold sample that
	// was a HIT, a clear that matched no key); the endpoint then fails.
	Invalid string `json:"invalid,omitempty"`
	// Stampede is the endpoint's stampede with Config.Stampede > 0.
	Stampede *Stampede `json:"stampede,omitempty"`
	// DurationMs is how long the endpoint's whole run took, every phase
	// and repeat (a JUnit testcase's time).
	DurationMs float64 `json:"duration_ms,omitempty"`
}

// Serial is one half of the cold/warm pairs, sent one request at a time:
// cold, each request right after its endpoint's keys were cleared; warm, the
// request right after each cold one.
type Serial struct {
	Samples     int `json:"samples"`
	Concurrency int `json:"concurrency"` // always 1
	// P10 is the fastest tenth's bound: the request's own cost, which other
	// work on the machine delays far less than the median (compare).
	P10       float64 `json:"p10_ms"`
	P50       float64 `json:"p50_ms"`
	P95       float64 `json:"p95_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	Misses    int     `json:"misses"`     // samples the server called MISS in X-Cache
	Hits      int     `json:"hits"`       // samples the server called HIT in X-Cache
	Errors    int     `json:"errors"`     // samples that failed (kept out of the figures)
	DBQueries float64 `json:"db_queries"` // mean X-DB-Queries; -1 when not sent
}

// Warm is the load phase: the endpoint primed, then Requests sent in a
// closed loop at Concurrency, or in an open loop at Rate. In the open loop
// the percentiles count from when each request was due (corrected for
// coordinated omission) and Uncorrected from when it was sent; in the
// closed loop the two are the same.
type Warm struct {
	Requests    int     `json:"requests"`
	Concurrency int     `json:"concurrency"`
	LoadModel   string  `json:"load_model"`     // "closed" or "open"
	Rate        float64 `json:"rate,omitempty"` // open loop: requests per second asked for
	RPS         float64 `json:"rps"`
	Percentiles
	Uncorrected *Percentiles `json:"uncorrected,omitempty"`
	// ByCache splits the successful requests by cache state (CacheStates).
	ByCache map[string]CacheFigures `json:"by_cache,omitempty"`
	// Open loop: requests due while every connection was busy, which left
	// late (the schedule was not kept); the most any request left after it
	// was due; the connections it took.
	Late        int            `json:"late,omitempty"`
	MaxLagMs    float64        `json:"max_lag_ms,omitempty"`
	Connections int            `json:"connections,omitempty"`
	Errors      int            `json:"errors"`
	Status      map[string]int `json:"status"`
	DBQueries   float64        `json:"db_queries"` // mean X-DB-Queries of the probes; -1 when not sent
}

// Percentiles are a load phase's latencies, in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p99_9_ms"`
	Max  float64 `json:"max_ms"`
}

func percentiles(h *Histogram) Percentiles {
	return Percentiles{
		P50: msf(h.Percentile(50)), P90: msf(h.Percentile(90)), P95: msf(h.Percentile(95)),
		P99: msf(h.Percentile(99)), P999: msf(h.Percentile(99.9)), Max: msf(h.Max()),
	}
}

// CacheFigures are the load phase's responses of one cache state.
type CacheFigures struct {
	Requests int     `json:"requests"`
	RPS      float64 `json:"rps"`
	Percentiles
}

// Bucket is one bar of a latency histogram.
type Bucket struct {
	UpToMs float64 `json:"up_to_ms"`
	Count  int     `json:"count"`
}

func msf(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// Run benchmarks one endpoint: cold/warm pairs one request at a time, then
// the load phase. An endpoint whose first request is a 404 or 410 is not
// measured: the result says why in Skipped.
func Run(ctx context.Context, cfg Config, ep Endpoint) (Result, error) {
	cfg = cfg.withDefaults()
	// Figures that cannot be known until measured are -1, as the contract says.
	unknown := Serial{DBQueries: -1}
	res := Result{Name: ep.Name, URL: redact.URL(ep.URL), Optional: ep.Optional, Cold: unknown, WarmSerial: unknown,
		Warm: Warm{Status: map[string]int{}, DBQueries: -1}, HitRatio: -1, XCacheAgreement: -1}
	progress := func(format string, a ...any) {
		if cfg.Progress != nil {
			cfg.Progress(ep.Name + ": " + fmt.Sprintf(format, a...))
		}
	}

	// Learn the endpoint's own keys, so that only they are cleared.
	prime, keys, err := learn(ctx, cfg, ep)
	if ep.warmOnly() {
		keys = learned{from: "none"}
	}
	if err != nil {
		return res, endpointErr(ep, err)
	}
	if reason := absent(prime); reason != "" {
		res.Skipped = reason
		return res, nil
	}
	res.Keys, res.KeysFrom, res.WarmOnly = append([]string{}, keys.names...), keys.from, ep.warmOnly()
	if keys.invalid != "" {
		res.Invalid = keys.invalid
		return res, nil
	}
	clear := keys.patterns()

	var allCold, allWarm samples
	var all LoadResult
	var hits, misses int64
	for r := range cfg.Repeat {
		if cfg.Repeat > 1 {
			progress("repeat %d/%d", r+1, cfg.Repeat)
		}
		rep, c, w, load, err := runOnce(ctx, cfg, ep, clear, progress)
		var cold *ColdError
		if errors.As(err, &cold) {
			res.Invalid = cold.Reason
			return res, nil
		}
		allCold.merge(c)
		allWarm.merge(w)
		all.add(load)
		hits, misses = hits+rep.hits, misses+rep.misses
		if cfg.Repeat > 1 {
			res.Repeats = append(res.Repeats, rep.Repeat)
		}
		res.Cold, res.WarmSerial, res.SpeedupBasis = allCold.serial(), allWarm.serial(), SpeedupBasis
		res.Speedup = speedup(res.Cold, res.WarmSerial)
		if load.Latency != nil {
			res.Warm = warmFigures(all, cfg)
			res.Histogram = all.Latency.Bars(8)
		}
		if hits+misses > 0 {
			res.HitRatio = float64(hits) / float64(hits+misses)
		}
		if err != nil || load.Stopped {
			if err == nil {
				err = ctx.Err()
			}
			return res, err
		}
	}
	res.XCacheAgreement, res.Warm.DBQueries = probe(ctx, cfg, ep)
	if cfg.Stampede > 0 && !ep.warmOnly() && ctx.Err() == nil {
		progress("stampede: %d requests at once at a cleared key", cfg.Stampede)
		if res.Stampede, err = stampede(ctx, cfg, ep, clear); err != nil {
			return res, endpointErr(ep, err)
		}
	}
	return res, ctx.Err()
}

// Repeat is one run of both phases of an endpoint, as --repeat keeps them;
// the Result's own figures pool every repeat's requests.
type Repeat struct {
	Cold       Serial  `json:"cold"`
	WarmSerial Serial  `json:"warm_serial"`
	Speedup    float64 `json:"speedup"`
	Warm       Warm    `json:"warm"`
	HitRatio   float64 `json:"hit_ratio"`
}

type repeatRun struct {
	Repeat
	hits, misses int64
}

func speedup(cold, warm Serial) float64 {
	if cold.P50 > 0 && warm.P50 > 0 {
		return cold.P50 / warm.P50
	}
	return 0
}

// runOnce runs the pairs and then the load phase once.
func runOnce(ctx context.Context, cfg Config, ep Endpoint, clear []string, progress func(string, ...any)) (rep repeatRun, cold, warm samples, load LoadResult, err error) {
	rep.HitRatio = -1
	if !ep.warmOnly() {
		cold, warm, err = pairs(ctx, cfg, ep, clear, progress)
	}
	rep.Cold, rep.WarmSerial = cold.serial(), warm.serial()
	rep.Speedup = speedup(rep.Cold, rep.WarmSerial)
	if err != nil {
		return rep, cold, warm, load, err
	}
	progress("under load, %s", cfg.loadText())
	if _, err := do(ctx, cfg, ep); err != nil { // prime
		return rep, cold, warm, load, endpointErr(ep, err)
	}
	before, berr := observe.Counters(ctx, cfg.Redis)
	load, err = RunLoad(ctx, cfg.load([]*http.Request{loadRequest(cfg, ep)}, nil))
	if err != nil {
		return rep, cold, warm, load, err
	}
	after, aerr := observe.Counters(ctx, cfg.Redis)
	rep.Warm = warmFigures(load, cfg)
	if berr == nil && aerr == nil {
		rep.hits, rep.misses = after[0]-before[0], after[1]-before[1]
		if rep.hits+rep.misses > 0 {
			rep.HitRatio = float64(rep.hits) / float64(rep.hits+rep.misses)
		}
	}
	return rep, cold, warm, load, nil
}

// absent says why an endpoint cannot be measured when its first response
// says the API has no such resource; "" otherwise.
func absent(r *catalogapi.Response) string {
	if r.Status == http.StatusNotFound || r.Status == http.StatusGone {
		return fmt.Sprintf("HTTP %d at the first request: the API has no such route", r.Status)
	}
	return ""
}

// endpointErr names the endpoint in a failed request's error; an
// unreachable API is the API's, not the endpoint's.
func endpointErr(ep Endpoint, err error) error {
	if errors.As(err, new(*catalogapi.UnreachableError)) {
		return err
	}
	return fmt.Errorf("endpoint %s: %w", ep.Name, err)
}

// pairs takes cfg.ColdSamples cold/warm pairs, one request at a time, as
// hyperfine's --prepare does: clear the endpoint's keys, request (cold),
// request again (warm).
func pairs(ctx context.Context, cfg Config, ep Endpoint, clear []string, progress func(string, ...any)) (cold, warm samples, err error) {
	for i := range cfg.ColdSamples {
		progress("cold/warm pair %d/%d, one request at a time", i+1, cfg.ColdSamples)
		var n int64
		if n, err = clearKeys(ctx, cfg.Redis, cfg.Schema, clear); err != nil {
			break
		}
		cleared := cfg.Redis != nil && len(clear) > 0
		if n == 0 && cleared {
			// The request before stored nothing there: the cold sample
			// would be as warm as the warm one.
			return cold, warm, &ColdError{Reason: fmt.Sprintf("clearing %s before cold sample %d deleted no key: the endpoint does not cache there, so cold and warm would be alike", strings.Join(clear, " "), i+1)}
		}
		hits := cold.hits
		if err = cold.take(ctx, cfg, ep); err != nil {
			break
		}
		if cold.hits > hits && cleared {
			return cold, warm, &ColdError{Reason: fmt.Sprintf("cold sample %d said X-Cache: HIT right after %s was cleared: the endpoint is cached under another key", i+1, strings.Join(clear, " "))}
		}
		if err = warm.take(ctx, cfg, ep); err != nil {
			break
		}
	}
	return cold, warm, err
}

// samples collects what requests sent one at a time saw.
type samples struct {
	n, errors        int
	lats             []time.Duration
	hits, misses     int
	withCache        int // responses with an X-Cache header
	queries, counted int // X-DB-Queries summed, and the responses that sent it
}

// merge adds o's requests to s.
func (s *samples) merge(o samples) {
	s.n, s.errors, s.hits, s.misses = s.n+o.n, s.errors+o.errors, s.hits+o.hits, s.misses+o.misses
	s.withCache, s.queries, s.counted = s.withCache+o.withCache, s.queries+o.queries, s.counted+o.counted
	s.lats = append(s.lats, o.lats...)
}

// take sends one request and counts it; only the context's end is an error.
func (s *samples) take(ctx context.Context, cfg Config, ep Endpoint) error {
	r, err := do(ctx, cfg, ep)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.add(r, err)
	return nil
}

// add counts one request; a failed one (a transport error, a 4xx or 5xx)
// enters no figure but the error count.
func (s *samples) add(r *catalogapi.Response, err error) {
	s.n++
	if err != nil || r.Status < 200 || r.Status >= 400 {
		s.errors++
		return
	}
	s.lats = append(s.lats, r.Latency)
	if r.Cache != "" {
		s.withCache++
	}
	switch r.Cache {
	case "HIT":
		s.hits++
	case "MISS":
		s.misses++
	}
	if r.DBQueries >= 0 {
		s.queries += r.DBQueries
		s.counted++
	}
}

// dbQueries is the mean X-DB-Queries; -1 when the server does not say.
func (s *samples) dbQueries() float64 {
	if s.counted == 0 {
		return -1
	}
	return float64(s.queries) / float64(s.counted)
}

// hitShare is the share of responses with X-Cache that said HIT; -1 without X-Cache.
func (s *samples) hitShare() float64 {
	if s.withCache == 0 {
		return -1
	}
	return float64(s.hits) / float64(s.withCache)
}

func (s *samples) serial() Serial {
	l := Sorted(s.lats)
	return Serial{
		Samples: s.n, Concurrency: 1, Errors: s.errors, Hits: s.hits, Misses: s.misses, DBQueries: s.dbQueries(),
		P10: msf(Percentile(l, 10)), P50: msf(Percentile(l, 50)), P95: msf(Percentile(l, 95)), P99: msf(Percentile(l, 99)), Max: msf(Percentile(l, 100)),
	}
}

// load is the load phase of cfg over targets.
func (c Config) load(targets []*http.Request, pick func() int) Load {
	return Load{Requests: c.Requests, Concurrency: c.Concurrency, Rate: c.Rate, Timeout: c.Timeout,
		Targets: targets, Pick: pick, CacheState: c.CacheState}
}

// loadText says how the load phase sends, for progress.
func (c Config) loadText() string {
	if c.Rate > 0 {
		return fmt.Sprintf("%d requests in an open loop at %g/s", c.Requests, c.Rate)
	}
	return fmt.Sprintf("%d requests at concurrency %d", c.Requests, c.Concurrency)
}

func warmFigures(l LoadResult, cfg Config) Warm {
	raw := percentiles(l.Uncorrected)
	w := Warm{
		Requests: l.Requests, Concurrency: cfg.Concurrency, LoadModel: l.Model, RPS: l.RPS(), Errors: l.Errors,
		Percentiles: percentiles(l.Latency), Uncorrected: &raw, ByCache: map[string]CacheFigures{},
		Late: l.Late, MaxLagMs: msf(l.MaxLag), Status: map[string]int{}, DBQueries: -1,
	}
	if l.Model == Open {
		w.Rate, w.Connections = cfg.Rate, l.Connections
	}
	for state, h := range l.ByState {
		n := h.Latency.Count()
		w.ByCache[state] = CacheFigures{Requests: n, RPS: float64(n) / l.Elapsed.Seconds(), Percentiles: percentiles(h.Latency)}
	}
	for code, n := range l.Status {
		key := strconv.Itoa(code)
		if code == 0 {
			key = "error"
		}
		w.Status[key] += n
	}
	return w
}

// probe sends a few requests after the load phase, one at a time, to read
// what hey cannot see: X-Cache and X-DB-Queries.
func probe(ctx context.Context, cfg Config, ep Endpoint) (hitShare, dbQueries float64) {
	var s samples
	for range cfg.Probes {
		if s.take(ctx, cfg, ep) != nil {
			break
		}
	}
	return s.hitShare(), s.dbQueries()
}

// clearKeys makes an endpoint cold: each literal logical key is unlinked
// directly; the globs are cleared together by keyspace.Clear (one SCAN pass
// over every master). Nothing outside the given patterns is touched.
func clearKeys(ctx context.Context, c redis.UniversalClient, s keyspace.Schema, patterns []string) (int64, error) {
	if c == nil || len(patterns) == 0 {
		return 0, nil
	}
	var sel keyspace.Selection
	var deleted int64
	for _, p := range patterns {
		if lit, exact := keyspace.LiteralPrefix(keyspace.EscapeGlob(s.Namespace()) + p); exact {
			n, err := c.Unlink(ctx, lit).Result()
			if err != nil {
				return deleted, fmt.Errorf("clear %s: %w", lit, err)
			}
			deleted += n
			continue
		}
		t, err := s.Pattern(p)
		if err != nil {
			return deleted, err
		}
		sel = append(sel, t)
	}
	if len(sel) == 0 {
		return deleted, nil
	}
	res, err := keyspace.Clear(ctx, c, sel, keyspace.ClearConfig{})
	if err != nil {
		return deleted, fmt.Errorf("clear %s: %w", strings.Join(patterns, " "), err)
	}
	return deleted + res.Deleted, nil
}
