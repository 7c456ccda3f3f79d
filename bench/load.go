// Package bench measures how much a cache buys: each endpoint's latency
// cold (its keys cleared before the request) against warm (the request right
// after), in pairs sent one request at a time so that both are taken at the
// same concurrency; then the endpoint under load through hey's requester, for
// throughput and latency under load. Gates read one phase each, for CI to
// fail a build on.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rakyll/hey/requester"
)

// heyTemplate makes hey's requester hand its raw figures back as one JSON
// document instead of its human report. Lats and StatusCodes are parallel
// (one entry per request that got a response); ErrorDist counts the rest.
const heyTemplate = `{"lats":{{ jsonify .Lats }},"codes":{{ jsonify .StatusCodes }},"errors":{{ jsonify .ErrorDist }},"total_ns":{{ .Total.Nanoseconds }}}`

type heyOutput struct {
	Lats    []float64      `json:"lats"` // seconds
	Codes   []int          `json:"codes"`
	Errors  map[string]int `json:"errors"`
	TotalNs int64          `json:"total_ns"`
}

// Load says what one load phase sends.
type Load struct {
	Requests    int // total, exactly
	Concurrency int
	Timeout     time.Duration
	// NewRequest builds each request (hey calls it from its workers).
	NewRequest func() *http.Request
	// Template is what hey reads its Host from; NewRequest() when nil.
	Template func() *http.Request
}

// LoadResult is what one load phase measured. Latencies hold only the
// requests that succeeded (2xx/3xx); everything else is an error.
type LoadResult struct {
	Requests  int
	Latencies []time.Duration // successful requests only, unsorted
	Status    map[int]int
	Errors    int
	ErrorDist map[string]int
	Elapsed   time.Duration
	Stopped   bool // ended early by the context
}

// RPS is successful and failed requests per second of wall time, as hey counts them.
func (r LoadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// RunLoad sends exactly l.Requests requests at l.Concurrency. hey's requester
// drops the remainder of N/C, so the remainder runs as a second, narrower
// round; it has no context, so Stop is called (once) when ctx ends.
func RunLoad(ctx context.Context, l Load) (LoadResult, error) {
	if l.Requests <= 0 || l.Concurrency <= 0 {
		return LoadResult{}, errors.New("load: requests and concurrency must be positive")
	}
	c := min(l.Concurrency, l.Requests)
	res := LoadResult{Status: map[int]int{}, ErrorDist: map[string]int{}}
	rounds := []struct{ n, c int }{{l.Requests - l.Requests%c, c}}
	if rem := l.Requests % c; rem > 0 {
		rounds = append(rounds, struct{ n, c int }{rem, rem})
	}
	for _, r := range rounds {
		if ctx.Err() != nil {
			res.Stopped = true
			break
		}
		out, stopped, err := runHey(ctx, l, r.n, r.c)
		if err != nil {
			return res, err
		}
		res.merge(out)
		res.Stopped = res.Stopped || stopped
	}
	return res, nil
}

func (r *LoadResult) merge(out heyOutput) {
	r.Elapsed += time.Duration(out.TotalNs)
	for i, s := range out.Lats {
		code := 0
		if i < len(out.Codes) {
			code = out.Codes[i]
		}
		r.Requests++
		r.Status[code]++
		if code >= 200 && code < 400 {
			r.Latencies = append(r.Latencies, time.Duration(s*float64(time.Second)))
		} else {
			r.Errors++
			r.ErrorDist[fmt.Sprintf("HTTP %d", code)]++
		}
	}
	for msg, n := range out.Errors {
		r.Requests += n
		r.Errors += n
		r.ErrorDist[msg] += n
	}
}

func runHey(ctx context.Context, l Load, n, c int) (out heyOutput, stopped bool, err error) {
	var buf bytes.Buffer
	// hey counts whole seconds: round up, never below the timeout asked for.
	timeout := int((l.Timeout + time.Second - 1) / time.Second)
	template := l.Template
	if template == nil {
		template = l.NewRequest
	}
	w := &requester.Work{
		// hey reads Request.Host even when RequestFunc is set.
		Request:     template(),
		RequestFunc: l.NewRequest,
		N:           n,
		C:           c,
		Timeout:     timeout,
		Output:      heyTemplate,
		Writer:      &buf,
	}
	w.Init()
	done := make(chan struct{})
	var once sync.Once
	go func() {
		select {
		case <-ctx.Done():
			once.Do(func() { stopped = true; w.Stop() })
		case <-done:
		}
	}()
	w.Run()
	close(done)
	once.Do(func() {}) // no Stop after Run returned
	if err := json.NewDecoder(&buf).Decode(&out); err != nil {
		return out, stopped, fmt.Errorf("load: decode hey's report: %w", err)
	}
	return out, stopped, nil
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
