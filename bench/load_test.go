package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunLoadSendsExactlyNAndKeepsFailuresOutOfLatencies(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		if n%10 == 0 {
			// Fast, and failed: must not pull the percentiles down.
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		time.Sleep(20 * time.Millisecond) // the latency under test
	}))
	defer srv.Close()
	res, err := RunLoad(context.Background(), Load{
		Requests: 103, Concurrency: 10, Timeout: 5 * time.Second,
		Targets: get(srv.URL),
	})
	if err != nil {
		t.Fatal(err)
	}
	if served.Load() != 103 || res.Requests != 103 {
		t.Fatalf("served %d, reported %d; want exactly 103 (hey's requester alone would send 100)", served.Load(), res.Requests)
	}
	if res.Errors != 10 || res.Status[500] != 10 || res.Status[200] != 93 || res.Latency.Count() != 93 {
		t.Errorf("errors %d, status %v, %d latencies", res.Errors, res.Status, res.Latency.Count())
	}
	// Every success took at least 20ms, so a shorter latency is a failure that got in.
	if fastest := res.Latency.Percentile(0); fastest < 20*time.Millisecond {
		t.Errorf("fastest latency %s is a failed request's", fastest)
	}
}

func TestRunLoadCountsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close()
	res, err := RunLoad(context.Background(), Load{Requests: 20, Concurrency: 4,
		Targets: get(url)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 20 || res.Latency.Count() != 0 || res.Requests != 20 {
		t.Errorf("result = %+v", res)
	}
}

func TestRunLoadStopsWhenTheContextEnds(t *testing.T) {
	// Slow on purpose: the run must still be going when the context ends.
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(5 * time.Millisecond) }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := RunLoad(ctx, Load{Requests: 100000, Concurrency: 4,
		Targets: get(srv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Requests >= 100000 || time.Since(start) > 3*time.Second {
		t.Errorf("stopped=%v after %d requests in %s", res.Stopped, res.Requests, time.Since(start))
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := Percentile(d, tt.p); got != tt.want {
			t.Errorf("p%v = %s, want %s", tt.p, got, tt.want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty percentile")
	}
}

func get(url string) []*http.Request {
	r, _ := http.NewRequest(http.MethodGet, url, nil)
	return []*http.Request{r}
}

// The engine's own HTTP/1.1 client reads every shape of response a server
// may send (a length, chunks, no body, a closed connection) and splits them
// by X-Cache exactly as net/http's client does.
func TestRunLoadReadsEveryResponseShapeAndSplitsByCacheState(t *testing.T) {
	var served atomic.Int64
	var sent [3]atomic.Int64 // HIT, MISS, no header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		switch n % 4 {
		case 0:
			sent[0].Add(1)
			w.Header().Set("X-Cache", "HIT")
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("hello"))
		case 1:
			sent[1].Add(1)
			w.Header().Set("X-Cache", "miss")
			w.Write([]byte("chunk one"))
			w.(http.Flusher).Flush() // no length: chunked
			w.Write([]byte("chunk two"))
		case 2:
			sent[2].Add(1)
			w.WriteHeader(http.StatusNoContent)
		case 3:
			sent[0].Add(1)
			w.Header().Set("X-Cache", "HIT")
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		}
	}))
	defer srv.Close()
	for _, netHTTP := range []bool{false, true} {
		served.Store(0)
		for i := range sent {
			sent[i].Store(0)
		}
		res, err := RunLoad(context.Background(), Load{Requests: 200, Concurrency: 4, Targets: get(srv.URL), NetHTTP: netHTTP})
		if err != nil {
			t.Fatal(err)
		}
		count := func(state string) int {
			if s := res.ByState[state]; s != nil {
				return s.Latency.Count()
			}
			return 0
		}
		if res.Requests != 200 || res.Errors != 0 || served.Load() != 200 {
			t.Errorf("net/http %v: %d requests, %d errors (%v), %d served", netHTTP, res.Requests, res.Errors, res.ErrorDist, served.Load())
		}
		if count("HIT") != int(sent[0].Load()) || count("MISS") != int(sent[1].Load()) || count("unknown") != int(sent[2].Load()) {
			t.Errorf("net/http %v: HIT %d MISS %d unknown %d, served %d %d %d", netHTTP, count("HIT"), count("MISS"), count("unknown"),
				sent[0].Load(), sent[1].Load(), sent[2].Load())
		}
	}
}
