package bench_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachectl/cachectl/bench"
)

// A/A and A/B, 20 times each: a server whose warm path takes a fixed time
// is compared, with --repeat 3 on both sides, with a baseline of itself
// (no regression may be flagged in more than 1 of 20) and with itself
// slowed by 25% (the regression must be flagged in at least 19 of 20), with
// --max-regression 10: a change counts when it is over 10% and its interval
// excludes no change.
// The server is in-process so that 60 runs of 3 repeats take about 75 s;
// perf/bench/aa.sh does both against `cachectl serve` itself.
func TestBaselineComparisonNeitherCriesWolfNorMissesA25PercentSlowdown(t *testing.T) {
	if testing.Short() {
		t.Skip("60 benchmark runs")
	}
	const base = 10 * time.Millisecond
	var delay atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cache", "HIT")
		time.Sleep(time.Duration(delay.Load())) // the warm path under test
	}))
	defer srv.Close()
	run := func(d time.Duration, baseline *bench.Report) bench.Report {
		delay.Store(int64(d))
		s := bench.Suite{Endpoints: []bench.Endpoint{{Name: "warm", URL: srv.URL}},
			Config: bench.Config{ColdSamples: 6, Requests: 120, Concurrency: 8, Repeat: 3},
			Gates:  bench.Gates{Baseline: baseline, MaxRegression: 10, MaxErrorRate: -1}}
		s.API, _ = s.API.Parse(srv.URL)
		rep, err := s.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	// verdict is the worst of the figures compared, and each one's ratio and interval.
	verdict := func(r bench.Report) (string, string) {
		v, detail := bench.NoChange, ""
		for _, c := range r.Comparison.Comparisons {
			if c.Verdict == bench.Regressed {
				v = c.Verdict
			}
			detail += fmt.Sprintf(" %s x%.2f [%.2f, %.2f]", c.Figure, c.Ratio, c.Low, c.High)
		}
		return v, detail
	}
	falseAlarms, caught := 0, 0
	for i := range 20 {
		b := run(base, nil)
		aa := run(base, &b)
		ab := run(base*5/4, &b)
		va, da := verdict(aa)
		vb, db := verdict(ab)
		t.Logf("run %2d A/A %-9s%s", i+1, va, da)
		t.Logf("run %2d A/B %-9s%s", i+1, vb, db)
		if !aa.Passed {
			falseAlarms++
		}
		if !ab.Passed && vb == bench.Regressed {
			caught++
		}
	}
	t.Logf("A/A: %d of 20 flagged; 25%% slowdown: %d of 20 flagged", falseAlarms, caught)
	if falseAlarms > 1 || caught < 19 {
		t.Errorf("A/A flagged %d of 20 (want at most 1), the slowdown %d of 20 (want at least 19)", falseAlarms, caught)
	}
}
