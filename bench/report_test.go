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
		{Name: "categories", Cold: Cold{Samples: 10, P50: 20}, Warm: Warm{Requests: 1000, P50: 1, P95: 2, RPS: 5000}, Speedup: 20},
		{Name: "colors", Cold: Cold{Samples: 10, P50: 3}, Warm: Warm{Requests: 1000, P50: 1.5, P95: 3, RPS: 4000, Errors: 50}, Speedup: 2},
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
	for _, want := range []string{"### cachectl bench: **failed**", "| categories | 20.00 ms | 1.00 ms |", "| min-speedup colors | **breached** |"} {
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
