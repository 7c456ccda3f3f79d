// Package bench measures how much a cache buys: each endpoint's latency
// cold (its keys cleared before the request) against warm (the request right
// after), in pairs sent one request at a time so that both are taken at the
// same concurrency; then the endpoint under load, for throughput and latency
// under load, in a closed loop (N workers, each sending as soon as its last
// request returned) or an open loop (requests sent on a schedule, latency
// counted from the moment each was due). Gates read one phase each, for CI
// to fail a build on.
package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/option"
)

// Load models: how a load phase decides when to send.
const (
	Closed = "closed" // Concurrency workers, each sending when its last request returned
	Open   = "open"   // Rate requests per second on a fixed schedule, whatever came back
)

// CacheStates are the states a load phase splits its figures by; a response
// whose state is none of the first four counts as "unknown".
var CacheStates = []string{"HIT", "MISS", "BYPASS", "STALE", "unknown"}

// XCacheState is the default Config.CacheState: the X-Cache header, or
// "unknown" when the server sends none.
func XCacheState(r *catalogapi.Response) string {
	if r.Cache == "" {
		return "unknown"
	}
	return r.Cache
}

// Load says what one load phase sends.
type Load struct {
	Requests    int // closed loop: exactly this many (fewer if Duration ends first); open loop: at most
	Concurrency int // closed loop: workers; open loop: connections opened before the first is due
	// Rate > 0 makes the loop open: a request is due every 1/Rate seconds,
	// sent then whether or not earlier ones returned, and its latency counts
	// from when it was due (wrk2's correction for coordinated omission).
	Rate float64
	// MaxInFlight bounds the open loop's outstanding requests (one connection
	// each); a request due when all are busy waits and is counted Late.
	// Default max(Concurrency, 1000).
	MaxInFlight int
	Duration    time.Duration // > 0: send nothing after this long
	Timeout     time.Duration // per request, default 10s
	// Targets are the requests to send, without bodies; each worker sends
	// its own copies. Pick chooses one for each request (nil: the first).
	Targets []*http.Request
	Pick    func() int
	// NetHTTP sends through net/http even where the engine's own HTTP/1.1
	// client could (plain http://, no proxy): for comparing the two.
	NetHTTP bool
	// CacheState names the cache state of a response; XCacheState when nil.
	// The Response is reused: it must not be kept.
	CacheState func(*catalogapi.Response) string
}

// LoadResult is what one load phase measured. Only requests that succeeded
// (2xx/3xx) enter the histograms; everything else is an error.
type LoadResult struct {
	Model    string // Open or Closed
	Requests int
	// Latency is from when each request was due (open loop) or sent (closed
	// loop, where the two are the same); Uncorrected from when it was sent.
	Latency, Uncorrected *Histogram
	ByState              map[string]*StateLatency // keyed by CacheStates, only those seen
	Status               map[int]int              // 0: no response
	Errors               int
	ErrorDist            map[string]int
	Elapsed              time.Duration
	Stopped              bool // ended early by the context
	// Open loop: Late counts the requests that were due while all
	// MaxInFlight connections were busy and so left late (k6 would drop
	// them); MaxLag is the most any request left after it was due, for
	// whatever reason (a busy CPU too); Connections is how many it took.
	Late        int
	MaxLag      time.Duration
	Connections int
	Picks       []int // requests per target
}

// StateLatency is the histograms of the responses of one cache state.
type StateLatency struct {
	Latency, Uncorrected *Histogram
}

// RPS is successful and failed requests per second of wall time.
func (r LoadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// add pools o's requests into r (the repeats of one endpoint).
func (r *LoadResult) add(o LoadResult) {
	if o.Latency == nil {
		return
	}
	if r.Latency == nil {
		*r = LoadResult{Model: o.Model, Latency: &Histogram{}, Uncorrected: &Histogram{}, ByState: map[string]*StateLatency{},
			Status: map[int]int{}, ErrorDist: map[string]int{}}
	}
	r.Requests, r.Errors, r.Elapsed, r.Late = r.Requests+o.Requests, r.Errors+o.Errors, r.Elapsed+o.Elapsed, r.Late+o.Late
	r.MaxLag, r.Connections, r.Stopped = max(r.MaxLag, o.MaxLag), max(r.Connections, o.Connections), r.Stopped || o.Stopped
	r.Latency.Merge(o.Latency)
	r.Uncorrected.Merge(o.Uncorrected)
	for st, h := range o.ByState {
		if r.ByState[st] == nil {
			r.ByState[st] = &StateLatency{&Histogram{}, &Histogram{}}
		}
		r.ByState[st].Latency.Merge(h.Latency)
		r.ByState[st].Uncorrected.Merge(h.Uncorrected)
	}
	for k, n := range o.Status {
		r.Status[k] += n
	}
	for k, n := range o.ErrorDist {
		r.ErrorDist[k] += n
	}
	r.Picks = slices.Grow(r.Picks, len(o.Picks))[:max(len(r.Picks), len(o.Picks))]
	for i, n := range o.Picks {
		r.Picks[i] += n
	}
}

// RunLoad runs one load phase. It never prints. When ctx ends, requests in
// flight are abandoned (and not counted) and the result is Stopped.
func RunLoad(ctx context.Context, l Load) (LoadResult, error) {
	if l.Requests <= 0 || l.Concurrency <= 0 || l.Rate < 0 || len(l.Targets) == 0 || slices.Contains(l.Targets, nil) {
		return LoadResult{}, errors.New("load: requests, concurrency and a target are needed, and the rate must not be negative")
	}
	option.Default(&l.Timeout, 10*time.Second)
	option.Default(&l.MaxInFlight, max(l.Concurrency, 1000))
	if l.CacheState == nil {
		l.CacheState = XCacheState
	}
	conns := l.Concurrency
	if l.Rate > 0 {
		conns = max(l.MaxInFlight, l.Concurrency)
	}
	tr := loadTransport(conns, l.Timeout)
	defer tr.CloseIdleConnections()
	rec := newRecorder(l, &http.Client{Transport: tr, Timeout: l.Timeout})
	start := time.Now()
	if l.Rate > 0 {
		rec.open(ctx, start)
	} else {
		rec.closed(ctx, start)
	}
	elapsed := time.Since(start)
	rec.closeAll()
	return rec.result(ctx, elapsed), nil
}

// loadTransport is tuned for one host: a kept-alive connection per worker,
// none closed for want of an idle slot, and no compression asked for (the
// client would spend its CPU inflating what it only drains; an endpoint that
// wants gzip names Accept-Encoding in its headers and gets the bytes as sent).
func loadTransport(conns int, timeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		TLSHandshakeTimeout: timeout,
	}
}

// recorder is one load phase in progress: every worker records into its
// atomic counters and histograms.
type recorder struct {
	l        Load
	client   *http.Client
	states   []StateLatency // parallel to CacheStates
	status   [600]atomic.Int64
	picks    []atomic.Int64
	sent     atomic.Int64
	late     atomic.Int64
	maxLag   atomic.Int64
	workers  atomic.Int64
	mu       sync.Mutex
	errs     map[string]int
	all      []*worker    // under mu
	canceled atomic.Int64 // requests cut off by ctx: not counted
}

func newRecorder(l Load, c *http.Client) *recorder {
	r := &recorder{l: l, client: c, errs: map[string]int{}, picks: make([]atomic.Int64, len(l.Targets))}
	r.states = make([]StateLatency, len(CacheStates))
	for i := range r.states {
		r.states[i] = StateLatency{&Histogram{}, &Histogram{}}
	}
	return r
}

// worker sends requests one after another over its own copies of the
// targets; its Response is reused for CacheState.
type worker struct {
	*recorder
	ctx  context.Context
	reqs []*http.Request
	raw  *h1 // nil: net/http
	resp catalogapi.Response
}

func (r *recorder) newWorker(ctx context.Context) *worker {
	r.workers.Add(1)
	defer r.mu.Unlock()
	r.mu.Lock()
	w := &worker{recorder: r, ctx: ctx, reqs: make([]*http.Request, len(r.l.Targets))}
	for i, t := range r.l.Targets {
		w.reqs[i] = t.Clone(ctx)
	}
	if !r.l.NetHTTP {
		w.raw = h1For(ctx, w.reqs, r.l.Timeout)
	}
	r.all = append(r.all, w)
	return w
}

// closeAll closes the workers' own connections once they are done.
func (r *recorder) closeAll() {
	for _, w := range r.all {
		if w.raw != nil {
			w.raw.close()
		}
	}
}

// do sends target i and drains the response; header is valid until the next call.
func (w *worker) do(i int) (code int, header http.Header, err error) {
	if w.raw != nil {
		code, err = w.raw.roundTrip(i)
		return code, w.raw.header, err
	}
	resp, err := w.client.Do(w.reqs[i])
	if err != nil {
		return 0, nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header, err
}

// send sends one request that was due at due and records what came back.
func (w *worker) send(due time.Time) {
	i := 0
	if w.l.Pick != nil {
		i = w.l.Pick()
	}
	w.picks[i].Add(1)
	sent := time.Now()
	if due.IsZero() {
		due = sent
	} else if lag := int64(sent.Sub(due)); lag > w.maxLag.Load() {
		for cur := w.maxLag.Load(); lag > cur && !w.maxLag.CompareAndSwap(cur, lag); cur = w.maxLag.Load() {
		}
	}
	code, header, err := w.do(i)
	done := time.Now()
	if err != nil && w.ctx.Err() != nil {
		w.canceled.Add(1)
		return
	}
	w.sent.Add(1)
	w.status[min(max(code, 0), len(w.status)-1)].Add(1)
	if err != nil {
		w.mu.Lock()
		w.errs[errText(err)]++
		w.mu.Unlock()
		return
	}
	if code < 200 || code >= 400 {
		return
	}
	w.resp = catalogapi.Response{Status: code, Header: header, CacheHeaders: catalogapi.ParseCacheHeaders(header), Latency: done.Sub(sent)}
	st := &w.states[stateIndex(w.l.CacheState(&w.resp))]
	st.Latency.Record(done.Sub(due))
	st.Uncorrected.Record(done.Sub(sent))
}

// errText is a failed request's error without the URL, so that one cause
// counts once whichever target it hit.
func errText(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		err = ue.Unwrap()
	}
	return err.Error()
}

func stateIndex(s string) int {
	if i := slices.Index(CacheStates, s); i >= 0 {
		return i
	}
	return len(CacheStates) - 1
}

// closed runs Concurrency workers, each sending its next request as soon as
// the last one returned, until Requests were sent or Duration passed.
func (r *recorder) closed(ctx context.Context, start time.Time) {
	var left atomic.Int64
	left.Store(int64(r.l.Requests))
	var stopAt time.Time
	if r.l.Duration > 0 {
		stopAt = start.Add(r.l.Duration)
	}
	var wg sync.WaitGroup
	for range min(r.l.Concurrency, r.l.Requests) {
		wg.Go(func() {
			w := r.newWorker(ctx)
			for ctx.Err() == nil && left.Add(-1) >= 0 && (stopAt.IsZero() || time.Now().Before(stopAt)) {
				w.send(time.Time{})
			}
		})
	}
	wg.Wait()
}

// open sends request i when it is due, at start + i/Rate, to an idle worker,
// or to a new one while fewer than MaxInFlight are busy; only when all are
// busy does a request wait, and it is then late.
func (r *recorder) open(ctx context.Context, start time.Time) {
	jobs := make(chan time.Time)
	var wg sync.WaitGroup
	spawn := func(first time.Time) {
		wg.Go(func() {
			w := r.newWorker(ctx)
			if !first.IsZero() {
				w.send(first)
			}
			for due := range jobs {
				w.send(due)
			}
		})
	}
	for range min(r.l.Concurrency, r.l.MaxInFlight) {
		spawn(time.Time{})
	}
	spawned := min(r.l.Concurrency, r.l.MaxInFlight)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	perRequest := float64(time.Second) / r.l.Rate
dispatch:
	for i := range r.l.Requests {
		due := start.Add(time.Duration(float64(i) * perRequest))
		if r.l.Duration > 0 && due.Sub(start) >= r.l.Duration {
			break
		}
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break dispatch
			}
		}
		select {
		case jobs <- due:
			continue
		default:
		}
		if spawned < r.l.MaxInFlight {
			spawned++
			spawn(due)
			continue
		}
		r.late.Add(1)
		select {
		case jobs <- due:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(jobs)
	wg.Wait()
}

func (r *recorder) result(ctx context.Context, elapsed time.Duration) LoadResult {
	res := LoadResult{
		Model: Closed, Requests: int(r.sent.Load()), Latency: &Histogram{}, Uncorrected: &Histogram{},
		ByState: map[string]*StateLatency{}, Status: map[int]int{}, ErrorDist: map[string]int{},
		Elapsed: elapsed, Stopped: ctx.Err() != nil, Late: int(r.late.Load()), MaxLag: time.Duration(r.maxLag.Load()),
		Connections: int(r.workers.Load()),
	}
	if r.l.Rate > 0 {
		res.Model = Open
	}
	for i := range r.status {
		if n := int(r.status[i].Load()); n > 0 {
			res.Status[i] = n
			if i < 200 || i >= 400 {
				res.Errors += n
			}
		}
	}
	for i, st := range r.states {
		if st.Latency.Count() > 0 {
			res.ByState[CacheStates[i]] = &r.states[i]
			res.Latency.Merge(st.Latency)
			res.Uncorrected.Merge(st.Uncorrected)
		}
	}
	for msg, n := range r.errs {
		res.ErrorDist[msg] = n
	}
	for code, n := range res.Status {
		if code != 0 && (code < 200 || code >= 400) {
			res.ErrorDist["HTTP "+strconv.Itoa(code)] += n
		}
	}
	for i := range r.picks {
		res.Picks = append(res.Picks, int(r.picks[i].Load()))
	}
	return res
}

// Percentile returns the p-th percentile (0..100) of sorted latencies, by the
// nearest-rank method; 0 when there are none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Sorted returns a sorted copy.
func Sorted(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}
