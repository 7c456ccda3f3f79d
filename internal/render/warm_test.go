package render

import (
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/warm"
)

func TestWarmTableAndFailures(t *testing.T) {
	ios, _, out, errOut := iostreams.Test()
	rep := &warm.RoundReport{API: "http://api", URLs: 3, OK: 2, Failed: 1, Misses: new(1), Hits: new(1), Retries: 2, DurationMs: 12.34,
		Results: []warm.Result{{URL: "http://api/a", Status: 200}, {URL: "http://api/b", Status: 500, Error: "HTTP 500", Attempts: 3}},
		Verify:  warm.Verification{Checked: true, KeysBefore: 1, KeysAfter: 2, Missing: []string{"product:9"}}}
	if err := Warm(ios, rep); err != nil {
		t.Fatal(err)
	}
	want := "ok\t2\nfailed\t1\ncached now (MISS)\t1\nalready cached (HIT)\t1\nretries\t2\nduration_ms\t12.3\n" +
		"keys before\t1\nkeys after\t2\nmissing keys\tproduct:9\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if want := "failed: http://api/b: HTTP 500 (3 attempts)\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

// With -v each URL is one line on stdout; the bar, on a terminal's stderr,
// is cleared before each line and at the end.
func TestWarmProgress(t *testing.T) {
	ios, _, out, errOut := iostreams.Test()
	p := &WarmProgress{IO: ios, Verbose: true}
	p.Plan(warm.Plan{Requests: make([]warm.Request, 2)})
	p.Add(warm.Result{URL: "http://api/a", Status: 200, Cache: "MISS", LatencyMs: 1.25, Attempts: 1})
	p.Add(warm.Result{URL: "http://api/b", Error: "timed out", Attempts: 3})
	p.Done()
	want := "200\tMISS\t1.2ms\t1\thttp://api/a\n---\t-\t0.0ms\t3\thttp://api/b\ttimed out\n"
	if out.String() != want || errOut.Len() != 0 {
		t.Errorf("stdout %q (want %q), stderr %q without a bar", out, want, errOut)
	}
}

func TestWarmProgressWarnsOncePerSchedule(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	var warned []string
	for range 2 {
		p := &WarmProgress{IO: ios, Warned: &warned}
		p.Plan(warm.Plan{Warnings: []string{"no categories"}})
		p.Plan(warm.Plan{Warnings: []string{"deep: none"}}) // a round's later plan warns nothing
		p.Done()
	}
	if got := strings.Count(errOut.String(), "no categories"); got != 1 || strings.Contains(errOut.String(), "deep") {
		t.Errorf("stderr %q: want the first plan's warning once", errOut)
	}
}
