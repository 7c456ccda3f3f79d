package warm

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func planOf(srv *httptest.Server, paths ...string) Plan {
	p := Plan{Source: "urls"}
	for _, path := range paths {
		p.Requests = append(p.Requests, Request{URL: srv.URL + path})
	}
	return p
}

func repeat(path string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = path
	}
	return out
}

func TestConcurrencyIsBounded(t *testing.T) {
	var inFlight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond) // a slow server on purpose: requests overlap
		inFlight.Add(-1)
		w.Header().Set("X-Cache", "MISS")
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Config{Concurrency: 3}, planOf(srv, repeat("/x", 30)...))
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 30 || rep.Misses != 30 || rep.Failed != 0 {
		t.Errorf("report = %+v", rep)
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("server saw %d requests in flight, want at most 3 (and some overlap)", p)
	}
}

func TestQPSHoldsForTheWholeRun(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	// 8 workers, 20 requests/s for the whole run: 12 requests span at least 11 intervals.
	if _, err := Run(context.Background(), Config{Concurrency: 8, QPS: 20}, planOf(srv, repeat("/x", 12)...)); err != nil {
		t.Fatal(err)
	}
	span := arrivals[len(arrivals)-1].Sub(arrivals[0])
	if span < 500*time.Millisecond {
		t.Errorf("12 requests at 20/s arrived within %s; the limit is per run, want >= 550ms", span)
	}
}

func TestRetriesThenReportsTheFailure(t *testing.T) {
	var hits503, hits404 atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		hits503.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) {
		hits404.Add(1)
		w.WriteHeader(http.StatusNotFound)
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Cache", "hit") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var seen []Result
	rep, err := Run(context.Background(), Config{Retries: 2, Backoff: time.Millisecond, OnResult: func(r Result) { seen = append(seen, r) }},
		planOf(srv, "/down", "/gone", "/ok"))
	if err != nil {
		t.Fatal(err)
	}
	if hits503.Load() != 3 || hits404.Load() != 1 {
		t.Errorf("503 tried %d times (want 1 + 2 retries), 404 tried %d times (want 1: final)", hits503.Load(), hits404.Load())
	}
	if rep.OK != 1 || rep.Failed != 2 || rep.Hits != 1 || rep.Retries != 2 || len(seen) != 3 {
		t.Errorf("report = %+v", rep)
	}
	if r := rep.Results[0]; r.Status != 503 || r.Attempts != 3 || r.Error != "HTTP 503" {
		t.Errorf("the failed URL is not named with its status: %+v", r)
	}
}

func TestUnreachableAPI(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	plan := Plan{Requests: []Request{{URL: "http://" + addr + "/a"}, {URL: "http://" + addr + "/b"}}}
	_, err := Run(context.Background(), Config{Retries: 1, Backoff: time.Millisecond}, plan)
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("error = %v, want *UnreachableError", err)
	}
}

func TestCancelStopsPromptlyWithAPartialReport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(50 * time.Millisecond):
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(120*time.Millisecond, cancel)
	start := time.Now()
	rep, err := Run(ctx, Config{Concurrency: 2}, planOf(srv, repeat("/slow", 200)...))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s to stop", time.Since(start))
	}
	if rep.OK == 0 || rep.Skipped == 0 || rep.OK+rep.Failed+rep.Skipped != 200 {
		t.Errorf("partial report = OK %d, failed %d, skipped %d", rep.OK, rep.Failed, rep.Skipped)
	}
}

func TestMaxFailuresStopsTheRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Config{Concurrency: 1, MaxFailures: 3}, planOf(srv, repeat("/bad", 50)...))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 3 || rep.Skipped != 47 {
		t.Errorf("report = failed %d, skipped %d; want 3 and 47", rep.Failed, rep.Skipped)
	}
}
