package bench

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// stallServer answers at once, except that a request arriving in one of its
// stall windows (offsets from its first request) is held until the window
// ends, as a server in a GC pause or a failover would; service is added to
// every request.
func stallServer(t *testing.T, service time.Duration, windows ...[2]time.Duration) *stalledServer {
	var once sync.Once
	var t0 time.Time
	s := &stalledServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		once.Do(func() { t0 = now })
		for _, win := range windows {
			if from, to := t0.Add(win[0]), t0.Add(win[1]); !now.Before(from) && now.Before(to) {
				time.Sleep(time.Until(to)) // the stall under test
				s.released(time.Since(to))
			}
		}
		time.Sleep(service)
	}))
	t.Cleanup(s.Close)
	return s
}

// stalledServer is a stallServer and how late it let stalled requests go.
type stalledServer struct {
	*httptest.Server
	mu sync.Mutex
	// overslept is the most a stalled request was released after its
	// window's end: on a loaded machine the handler wakes late, and the
	// client rightly counts that as latency the schedule did not predict.
	overslept time.Duration
}

func (s *stalledServer) released(late time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overslept = max(s.overslept, late)
}

func (s *stalledServer) lateness() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overslept
}

// groundTruth is the latency each request of an open loop at rate should
// see, worked out from its schedule alone: a request due in a stall waits
// for the stall's end.
func groundTruth(n int, rate float64, windows ...[2]time.Duration) []time.Duration {
	truth := make([]time.Duration, n)
	for i := range truth {
		due := time.Duration(float64(i) / rate * float64(time.Second))
		for _, w := range windows {
			if due >= w[0] && due < w[1] {
				truth[i] = w[1] - due
			}
		}
	}
	slices.Sort(truth)
	return truth
}

// A server stalled for 1 s twice in a 10 s open loop at 200 requests per
// second: the open loop's p99 and p99.9 match the ground truth computed from
// its schedule within 5%, while a closed loop against the same stalls, run
// beside it, hardly sees them (coordinated omission). Both loops run at once
// so that the test takes 10 s of wall time, not 20.
func TestOpenLoopSeesStallsAClosedLoopHides(t *testing.T) {
	const rate, n = 200.0, 2000
	stalls := [][2]time.Duration{{2 * time.Second, 3 * time.Second}, {6 * time.Second, 7 * time.Second}}
	open, closed := stallServer(t, 0, stalls...), stallServer(t, time.Millisecond, stalls...)
	var openRes, closedRes LoadResult
	var wg sync.WaitGroup
	wg.Go(func() {
		openRes, _ = RunLoad(context.Background(), Load{Requests: n, Rate: rate, Concurrency: 4, Targets: get(open.URL)})
	})
	wg.Go(func() {
		closedRes, _ = RunLoad(context.Background(), Load{Requests: math.MaxInt32, Duration: 10 * time.Second, Concurrency: 2, Targets: get(closed.URL)})
	})
	wg.Wait()
	truth := groundTruth(n, rate, stalls...)
	t.Logf("%-28s %10s %10s", "", "p99", "p99.9")
	t.Logf("%-28s %10s %10s", "ground truth", Percentile(truth, 99), Percentile(truth, 99.9))
	t.Logf("%-28s %10s %10s", "open loop, corrected", openRes.Latency.Percentile(99), openRes.Latency.Percentile(99.9))
	t.Logf("%-28s %10s %10s", "open loop, uncorrected", openRes.Uncorrected.Percentile(99), openRes.Uncorrected.Percentile(99.9))
	t.Logf("%-28s %10s %10s (%d requests)", "closed loop at -c 2", closedRes.Latency.Percentile(99), closedRes.Latency.Percentile(99.9), closedRes.Requests)
	if openRes.Requests != n || openRes.Errors != 0 || openRes.Model != Open || openRes.Late != 0 {
		t.Fatalf("open loop: %d requests, %d errors, model %s, %d late (max lag %s)", openRes.Requests, openRes.Errors, openRes.Model, openRes.Late, openRes.MaxLag)
	}
	// The server's own lateness in letting stalled requests go is latency
	// too, which the schedule cannot know: it widens the 5% by that much.
	overslept := open.lateness()
	t.Logf("the stalled server released requests up to %s late", overslept)
	for _, p := range []float64{99, 99.9} {
		want, got := Percentile(truth, p), openRes.Latency.Percentile(p)
		if math.Abs(float64(got-want)) > 0.05*float64(want)+float64(overslept) {
			t.Errorf("open loop p%g = %s, ground truth %s: more than 5%% (and the server's %s of lateness) off", p, got, want, overslept)
		}
		if c := closedRes.Latency.Percentile(p); c > want/10 && p == 99 {
			t.Errorf("closed loop p%g = %s: the stalls should hide from it (ground truth %s)", p, c, want)
		}
	}
}

// When every connection the open loop may open is busy, requests leave late
// and the result says how many, instead of silently slipping the schedule.
func TestOpenLoopCountsLateRequests(t *testing.T) {
	srv := stallServer(t, 5*time.Millisecond)
	res, err := RunLoad(context.Background(), Load{Requests: 40, Rate: 1000, Concurrency: 1, MaxInFlight: 2, Targets: get(srv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Late < 20 || res.Connections != 2 || res.MaxLag < 10*time.Millisecond || res.Requests != 40 || res.Latency.Count() != 40 {
		t.Errorf("%d late of %d, max lag %s, %d connections", res.Late, res.Requests, res.MaxLag, res.Connections)
	}
	// The wait for a connection is the server's latency as a user sees it:
	// counted from when due, it is many times the time on the wire.
	if c, u := res.Latency.Max(), res.Uncorrected.Max(); c < 3*u {
		t.Errorf("max latency from when due %s, from when sent %s: the wait was not counted", c, u)
	}
}
