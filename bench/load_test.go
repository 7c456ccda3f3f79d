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
		NewRequest: func() *http.Request { r, _ := http.NewRequest(http.MethodGet, srv.URL, nil); return r },
	})
	if err != nil {
		t.Fatal(err)
	}
	if served.Load() != 103 || res.Requests != 103 {
		t.Fatalf("served %d, reported %d; want exactly 103 (hey alone would send 100)", served.Load(), res.Requests)
	}
	if res.Errors != 10 || res.Status[500] != 10 || res.Status[200] != 93 || len(res.Latencies) != 93 {
		t.Errorf("errors %d, status %v, %d latencies", res.Errors, res.Status, len(res.Latencies))
	}
	// Every success took at least 20ms, so a shorter latency is a failure that got in.
	if fastest := Percentile(Sorted(res.Latencies), 0); fastest < 20*time.Millisecond {
		t.Errorf("fastest latency %s is a failed request's", fastest)
	}
}

func TestRunLoadCountsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close()
	res, err := RunLoad(context.Background(), Load{Requests: 20, Concurrency: 4,
		NewRequest: func() *http.Request { r, _ := http.NewRequest(http.MethodGet, url, nil); return r }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 20 || len(res.Latencies) != 0 || res.Requests != 20 {
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
		NewRequest: func() *http.Request { r, _ := http.NewRequest(http.MethodGet, srv.URL, nil); return r }})
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
