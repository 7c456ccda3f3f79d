package bench

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func sample() *Report {
	return &Report{Schema: SchemaV1, API: "http://127.0.0.1:8000", Complete: true, Endpoints: []Result{
		{Name: "categories", Cold: Serial{Samples: 10, P50: 20}, WarmSerial: Serial{Samples: 10, P50: 1},
			Warm: Warm{Requests: 1000, Concurrency: 10, Percentiles: Percentiles{P50: 4, P95: 2}, RPS: 5000}, Speedup: 20},
		{Name: "colors", Cold: Serial{Samples: 10, P50: 3}, WarmSerial: Serial{Samples: 10, P50: 1.5},
			Warm: Warm{Requests: 1000, Concurrency: 10, Percentiles: Percentiles{P50: 6, P95: 3}, RPS: 4000, Errors: 50}, Speedup: 2},
	}}
}

func TestGatesNameEveryBreach(t *testing.T) {
	r := sample()
	Gates{MinSpeedup: 10, MaxWarmP95: 2500 * time.Microsecond, MaxErrorRate: 0.01}.Check(r)
	if r.Passed {
		t.Fatal("passed with breaches")
	}
	want := []string{"min-speedup colors", "max-warm-p95 colors", "max-error-rate colors"}
	if got := r.Breaches(); !slices.Equal(got, want) {
		t.Errorf("breaches = %v, want %v", got, want)
	}
	r = sample()
	Gates{MinSpeedup: 1.5, MaxErrorRate: -1}.Check(r)
	if !r.Passed || len(r.Breaches()) != 0 {
		t.Errorf("should pass: %+v", r.Thresholds)
	}
}

// Every gate says which phase's figure it read: the speedup the serial
// pairs, the p95 the load phase at its concurrency, the error rate all.
func TestGatesSayWhichPhaseTheyRead(t *testing.T) {
	r := sample()
	Gates{MinSpeedup: 10, MaxWarmP95: 2500 * time.Microsecond, MaxErrorRate: 0}.Check(r)
	want := map[string]string{
		"min-speedup colors":    "serial speedup 2.0x (cold p50 / warm p50, one request at a time), want at least 10.0x",
		"max-warm-p95 colors":   "p95 under load at -c 10: 3.00 ms, want at most 2.50 ms",
		"max-error-rate colors": "error rate 0.0490 (50 of 1020: 10 cold, 10 warm one at a time, 1000 under load), want at most 0.0000",
	}
	for _, th := range r.Thresholds {
		if w, ok := want[th.Name]; ok && th.Detail != w {
			t.Errorf("%s: %q, want %q", th.Name, th.Detail, w)
		}
	}
}

// An optional endpoint the API does not have is skipped without a gate; a
// required one fails the run, named.
func TestSkippedEndpoints(t *testing.T) {
	r := sample()
	r.Endpoints = append(r.Endpoints,
		Result{Name: "recommendations", Skipped: "HTTP 404 at the first request: the API has no such route", Optional: true},
		Result{Name: "mine", Skipped: "HTTP 404 at the first request: the API has no such route"})
	Gates{MinSpeedup: 1.5, MaxWarmP95: time.Second, MaxErrorRate: 1}.Check(r)
	if got := r.Breaches(); !slices.Equal(got, []string{"endpoint mine"}) {
		t.Errorf("breaches = %v, want only the required endpoint", got)
	}
	for _, th := range r.Thresholds {
		if strings.HasSuffix(th.Name, " recommendations") {
			t.Errorf("a skipped optional endpoint was gated: %+v", th)
		}
	}
	if md := r.Markdown(); !strings.Contains(md, "| recommendations | skipped: HTTP 404") {
		t.Errorf("markdown does not show the skipped endpoint:\n%s", md)
	}
}

func TestBaselineRegression(t *testing.T) {
	base := sample()
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(base)
	b, err := ReadBaseline(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// A doctored baseline that was twice as fast.
	b.Endpoints[0].Warm.P95 = 1
	b.Endpoints[0].Warm.RPS = 10000
	r := sample()
	Gates{Baseline: b, MaxRegression: 20, MaxErrorRate: -1}.Check(r)
	if got := r.Breaches(); !slices.Equal(got, []string{"regression p95 categories", "regression rps categories"}) {
		t.Errorf("breaches = %v", got)
	}
	if _, err := ReadBaseline(strings.NewReader(`{"schema":"other/v9"}`)); err == nil {
		t.Error("a report of another schema was accepted as a baseline")
	}

	// The speedup may shrink by MaxRegression; at a quarter of the baseline's it breaches.
	b, _ = ReadBaseline(bytes.NewReader(mustJSON(t, sample())))
	b.Endpoints[1].Speedup = 8
	r = sample()
	Gates{Baseline: b, MaxRegression: 20, MaxErrorRate: -1}.Check(r)
	if got := r.Breaches(); !slices.Equal(got, []string{"regression speedup colors"}) {
		t.Errorf("breaches = %v", got)
	}
}

// A baseline written before the cold/warm pairs has no warm_serial: its
// speedup divided by the load phase's p50, so only p95 and rps under load
// are compared with it.
func TestBaselineFromBeforeThePairsComparesWhatItHas(t *testing.T) {
	old := `{"schema":"cachectl.bench/v1","api":"http://127.0.0.1:8000","endpoints":[{"name":"categories","url":"http://127.0.0.1:8000/api/categories/",
		"cold":{"samples":10,"p50_ms":20,"p95_ms":21,"p99_ms":22,"max_ms":22,"misses":10,"errors":0,"db_queries":1},
		"warm":{"requests":1000,"concurrency":10,"rps":5000,"p50_ms":10,"p90_ms":1.5,"p95_ms":1,"p99_ms":3,"max_ms":4,"errors":0,"status":{"200":1000},"db_queries":0},
		"speedup":2,"hit_ratio":1,"xcache_agreement":1}],"thresholds":[],"passed":true,"complete":true}`
	b, err := ReadBaseline(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	r := sample()
	Gates{Baseline: b, MaxRegression: 20, MaxErrorRate: -1}.Check(r)
	var names []string
	for _, th := range r.Thresholds {
		names = append(names, th.Name)
	}
	if !slices.Equal(names, []string{"regression p95 categories", "regression rps categories"}) {
		t.Errorf("thresholds = %v, want p95 and rps under load only", names)
	}
	if got := r.Breaches(); !slices.Equal(got, []string{"regression p95 categories"}) {
		t.Errorf("breaches = %v", got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestInterruptedRunNeverPasses(t *testing.T) {
	r := sample()
	r.Complete = false
	Gates{MaxErrorRate: -1}.Check(r)
	if r.Passed || !strings.Contains(r.Markdown(), "interrupted") {
		t.Error("an interrupted run passed or did not say so")
	}
}

func TestMarkdown(t *testing.T) {
	r := sample()
	Gates{MinSpeedup: 10, MaxErrorRate: -1}.Check(r)
	md := r.Markdown()
	for _, want := range []string{"### cachectl bench: **failed**", "| categories | 20.00 ms | 1.00 ms | 20.0x | 4.00 ms |",
		"cold, warm: 10 pairs one request at a time, speedup = cold p50 / warm p50; load: 1000 requests at -c 10, closed loop.",
		"| min-speedup colors | **breached** |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestReadEndpoints(t *testing.T) {
	dir := t.TempDir()
	api, _ := url.Parse("http://127.0.0.1:8000")
	good := filepath.Join(dir, "eps.yaml")
	os.WriteFile(good, []byte("- name: home\n  url: /\n  clear: ['page:home']\n- name: ext\n  url: https://other.test/x\n  headers: {Accept: application/json}\n"), 0o600)
	eps, err := ReadEndpoints(good, api)
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || eps[0].URL != "http://127.0.0.1:8000/" || eps[1].Headers["Accept"] != "application/json" || eps[0].Clear[0] != "page:home" {
		t.Errorf("endpoints = %+v", eps)
	}
	asJSON := filepath.Join(dir, "eps.json")
	os.WriteFile(asJSON, []byte(`[{"name":"a","url":"/a"}]`), 0o600)
	if _, err := ReadEndpoints(asJSON, api); err != nil {
		t.Errorf("JSON endpoints: %v", err)
	}
	for name, content := range map[string]string{
		"noname.yaml": "- url: /\n", "dup.yaml": "- {name: a, url: /}\n- {name: a, url: /b}\n",
		"rel.yaml": "- {name: a, url: 'x/y'}\n", "empty.yaml": "", "bad.yaml": "- name: [\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := ReadEndpoints(p, api); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// A p95 gate may target one cache state: the HIT responses alone, whose
// p95 a few slow MISSes would otherwise hide or spoil.
func TestGateOnOneCacheState(t *testing.T) {
	r := sample()
	r.Endpoints[0].Warm.ByCache = map[string]CacheFigures{
		"HIT":  {Requests: 990, Percentiles: Percentiles{P95: 1.5}},
		"MISS": {Requests: 10, Percentiles: Percentiles{P95: 40}},
	}
	hit, d, err := ParseP95Gate("hit=2ms")
	if err != nil || hit != "HIT" || d != 2*time.Millisecond {
		t.Fatalf("ParseP95Gate = %q, %s, %v", hit, d, err)
	}
	Gates{MaxWarmP95ByCache: map[string]time.Duration{hit: d}, MaxErrorRate: -1}.Check(r)
	want := []string{"max-warm-p95 HIT colors"} // colors has no HIT at all
	if got := r.Breaches(); !slices.Equal(got, want) {
		t.Errorf("breaches = %v, want %v (%+v)", got, want, r.Thresholds)
	}
	if th := r.Thresholds[0]; th.Detail != "p95 of the 990 HIT responses under load: 1.50 ms, want at most 2.00 ms" {
		t.Errorf("detail %q", th.Detail)
	}
	for _, bad := range []string{"WARM=5ms", "HIT=", "5", "-1ms"} {
		if _, _, err := ParseP95Gate(bad); err == nil {
			t.Errorf("ParseP95Gate(%q) accepted", bad)
		}
	}
	var g Gates
	if err := g.SetP95([]string{"5ms", "HIT=2ms", "MISS=40ms"}); err != nil || g.MaxWarmP95 != 5*time.Millisecond ||
		g.MaxWarmP95ByCache["HIT"] != 2*time.Millisecond || g.MaxWarmP95ByCache["MISS"] != 40*time.Millisecond {
		t.Errorf("SetP95: %v, %+v", err, g)
	}
}
