package warm

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/observe"
)

// Config says how to run a plan. The zero value of each field has a sensible meaning.
type Config struct {
	Client         *http.Client
	Concurrency    int           // requests in flight at most (default 8)
	QPS            float64       // requests per second for the whole run, retries included (0: no limit)
	Retries        int           // extra attempts after a transport error, 429 or 5xx
	RequestTimeout time.Duration // per attempt (default 10s)
	Backoff        time.Duration // first retry delay, doubled each time, with jitter (default 100ms)
	MaxFailures    int           // stop starting requests after this many final failures (0: never)
	Header         http.Header   // sent with every request
	// OnResult is called once per request as it ends, never concurrently.
	OnResult func(Result)
	// OnBody receives the body of each successful request marked Collect
	// (at most 32 MB of it), never concurrently, before OnResult.
	OnBody func(Request, []byte)
	// Observe, when set, runs requests in windows observed in Redis, one at
	// a time, so that the cache state and the keys each URL wrote come from
	// Redis where the API does not say them. See NewObserving.
	Observe *Observing
}

// Result is the outcome of one request of the plan.
type Result struct {
	URL    string `json:"url"`
	Status int    `json:"status"`
	// Cache is HIT, MISS, BYPASS (or UNCACHED, observed): from X-Cache, or
	// from Redis where the API sent none and the request was observed; ""
	// when neither could tell.
	Cache     string  `json:"cache"`
	CacheFrom string  `json:"cache_from,omitempty"` // "header", "redis" or "redis-approximate"
	LatencyMs float64 `json:"latency_ms"`
	Attempts  int     `json:"attempts"`
	Error     string  `json:"error"`
	// Key is the logical cache key the response was stored under: the plan's
	// own, or the server's X-Cache-Key header.
	Key string `json:"key,omitempty"`
	// Wrote is the logical keys Redis showed the request writing, with the
	// TTL it set (observed requests only).
	Wrote []WrittenKey `json:"wrote,omitempty"`

	transport bool  // failed without any HTTP response
	err       error // the last attempt's error
	skipped   bool  // never started (stopped early)
}

// OK reports whether the request finally succeeded (2xx or 3xx).
func (r Result) OK() bool { return r.Error == "" && r.Status >= 200 && r.Status < 400 }

// Report is the outcome of one run of a plan.
type Report struct {
	URLs     int
	OK       int
	Failed   int
	Hits     int // already cached before this run
	Misses   int // cached by this run
	Known    int // successful requests whose cache state is known (Hits and Misses mean nothing without)
	Retries  int
	Skipped  int // not started: the run was interrupted or hit MaxFailures
	Duration time.Duration
	Results  []Result // in plan order; skipped requests are left out
}

// Run sends every request of plan and returns what happened. It never
// prints. The error is ctx's when the run was interrupted (the report is
// then partial), or *UnreachableError when no request got any response (nor
// any earlier request of a client from NewClient).
func Run(ctx context.Context, cfg Config, plan Plan) (Report, error) {
	cfg = withDefaults(cfg)
	start := time.Now()
	results := make([]Result, len(plan.Requests))
	var limiter *rate.Limiter
	if cfg.QPS > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.QPS), 1)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex
	failures := 0
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(cfg.Concurrency, max(len(plan.Requests), 1)) {
		wg.Go(func() {
			for i := range jobs {
				req := plan.Requests[i]
				res, body := fetch(runCtx, cfg, limiter, req, req.Collect && cfg.OnBody != nil)
				mu.Lock()
				results[i] = res
				if body != nil && cfg.OnBody != nil {
					cfg.OnBody(plan.Requests[i], body)
				}
				if !res.OK() && !res.skipped {
					failures++
					if cfg.MaxFailures > 0 && failures >= cfg.MaxFailures {
						stop()
					}
				}
				if cfg.OnResult != nil && !res.skipped {
					cfg.OnResult(res)
				}
				mu.Unlock()
			}
		})
	}
	for i, req := range plan.Requests {
		if req.Done != nil {
			results[i] = *req.Done
			mu.Lock()
			if req.Collect && cfg.OnBody != nil && req.body != nil && req.Done.OK() {
				cfg.OnBody(req, req.body)
			}
			if cfg.OnResult != nil {
				cfg.OnResult(*req.Done)
			}
			mu.Unlock()
			continue
		}
		if runCtx.Err() != nil {
			results[i] = Result{URL: redact.URL(req.URL), skipped: true}
			continue
		}
		select {
		case jobs <- i:
		case <-runCtx.Done():
			results[i] = Result{URL: redact.URL(req.URL), skipped: true}
		}
	}
	close(jobs)
	wg.Wait()

	rep := summarize(results)
	rep.Duration = time.Since(start)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if rep.OK == 0 && rep.Failed > 0 && allTransport(results) && !catalogapi.Answered(cfg.Client) {
		return rep, &UnreachableError{URL: results[0].URL, Err: results[0].err}
	}
	return rep, nil
}

// Append adds a later run's figures to r (a --deep round is two runs).
func (r Report) Append(o Report) Report {
	r.URLs += o.URLs
	r.OK += o.OK
	r.Failed += o.Failed
	r.Hits += o.Hits
	r.Misses += o.Misses
	r.Known += o.Known
	r.Retries += o.Retries
	r.Skipped += o.Skipped
	r.Duration += o.Duration
	r.Results = append(r.Results, o.Results...)
	return r
}

func withDefaults(cfg Config) Config {
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	option.Default(&cfg.Concurrency, 8)
	option.Default(&cfg.RequestTimeout, 10*time.Second)
	option.Default(&cfg.Backoff, 100*time.Millisecond)
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	return cfg
}

func summarize(results []Result) Report {
	rep := Report{URLs: len(results)}
	for _, r := range results {
		if r.skipped {
			rep.Skipped++
			continue
		}
		rep.Results = append(rep.Results, r)
		rep.Retries += max(r.Attempts-1, 0)
		if !r.OK() {
			rep.Failed++
			continue
		}
		rep.OK++
		if r.Cache != "" {
			rep.Known++
		}
		switch r.Cache {
		case "HIT":
			rep.Hits++
		case "MISS":
			rep.Misses++
		}
	}
	return rep
}

func allTransport(results []Result) bool {
	for _, r := range results {
		if !r.skipped && !r.transport {
			return false
		}
	}
	return true
}

// fetch performs one request with its retries. The body is returned only
// for a successful request, and when keepBody says so.
func fetch(ctx context.Context, cfg Config, limiter *rate.Limiter, req Request, keepBody bool) (Result, []byte) {
	res := Result{URL: redact.URL(req.URL), Key: req.Key}
	for attempt := 0; ; attempt++ {
		if limiter != nil {
			if err := limiter.Wait(ctx); err != nil {
				return finish(ctx, res, err), nil
			}
		}
		if ctx.Err() != nil {
			return finish(ctx, res, ctx.Err()), nil
		}
		res.Attempts++
		a, err := attemptOnce(ctx, cfg, req.URL, keepBody)
		res.Status, res.Cache, res.CacheFrom, res.LatencyMs = a.status, a.cache, a.cacheFrom, float64(a.latency.Microseconds())/1000
		if a.key != "" {
			res.Key = a.key
		}
		res.Wrote = a.wrote
		res.transport = err != nil && a.status == 0
		res.Error, res.err = "", err
		switch {
		case err != nil && a.status >= 300 && a.status < 400:
			res.Error = describe(err)
			return res, nil // a redirect loop is final: the next attempt loops too
		case err != nil:
			res.Error = describe(err)
		case a.status == http.StatusTooManyRequests || a.status >= 500:
			res.Error = "HTTP " + strconv.Itoa(a.status)
		case a.status >= 400:
			res.Error = "HTTP " + strconv.Itoa(a.status)
			return res, nil // other 4xx are final
		default:
			return res, a.body
		}
		if attempt >= cfg.Retries || ctx.Err() != nil {
			return res, nil
		}
		wait := backoff(cfg.Backoff, attempt)
		if a.retryAfter > 0 {
			wait = min(a.retryAfter, 30*time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, nil
		case <-t.C:
		}
	}
}

// finish marks a request that could not start because the run was stopped.
func finish(ctx context.Context, res Result, err error) Result {
	if res.Attempts == 0 {
		res.skipped = true
		return res
	}
	if res.Error == "" {
		res.Error = describe(err)
	}
	return res
}

// attempt is what one HTTP exchange saw.
type attempt struct {
	status     int
	cache, key string
	cacheFrom  string
	wrote      []WrittenKey
	retryAfter time.Duration
	latency    time.Duration
	body       []byte // only when asked for
}

func attemptOnce(ctx context.Context, cfg Config, url string, keepBody bool) (attempt, error) {
	c := catalogapi.New(nil, cfg.Client).WithTimeout(cfg.RequestTimeout)
	var r *catalogapi.Response
	var err error
	send := func(ctx context.Context) {
		r, err = c.Send(ctx, catalogapi.Request{URL: url, Header: cfg.Header, Discard: !keepBody})
	}
	var tr *observe.Trace
	if cfg.Observe != nil {
		tr = cfg.Observe.run(ctx, send)
	} else {
		send(ctx)
	}
	a := attempt{status: r.Status, cache: r.Cache, key: r.Key, latency: r.Latency, body: r.Body}
	if a.cache != "" {
		a.cacheFrom = "header"
	}
	if tr != nil {
		a.observed(cfg.Observe, r, *tr)
	}
	if s, perr := strconv.Atoi(r.Header.Get("Retry-After")); perr == nil && s > 0 {
		a.retryAfter = time.Duration(s) * time.Second
	}
	return a, err
}

// maxBody bounds what is kept of a response body for OnBody and discovery.
const maxBody = 32 << 20

func backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 6)
	return d/2 + rand.N(d/2+1)
}

func describe(err error) string { return catalogapi.Describe(err) }
