package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/iostreams"
)

// bench --stampede against the reference server, which coalesces: the JSON
// carries the stampede's contract, the gate passes, and the piped table has
// a stampede section that says so.
func TestBenchStampedeReportsAndGates(t *testing.T) {
	c := startCatalog(t, 30*time.Millisecond, nil)
	flags := []string{"--only", "product_detail", "--cold-samples", "1", "-n", "10", "--stampede", "20", "--max-stampede-writes", "1"}
	rep, _, _ := runBenchJSON(t, c, exitOK, flags...)
	e := endpointsOf(t, rep)["product_detail"]
	if num(t, e, "stampede", "n") != 20 || num(t, e, "stampede", "cache_writes") != 1 || num(t, e, "stampede", "errors") != 0 ||
		num(t, e, "stampede", "origin_queries") != num(t, e, "cold", "db_queries") {
		t.Errorf("stampede %v: want 20 requests, one write, one load's queries", e["stampede"])
	}
	for _, f := range []string{"p50_ms", "p99_ms", "max_ms"} {
		if num(t, e, "stampede", f) < 30 {
			t.Errorf("stampede %s %v: every request waited for the 30ms load", f, e["stampede"])
		}
	}
	st := e["stampede"].(map[string]any)
	if st["coalesced"] != true || st["cached"] != true || st["by_cache"].(map[string]any)["MISS"] == nil {
		t.Errorf("stampede %v: want coalesced, cached again, and misses", st)
	}
	var gated bool
	for _, th := range rep["thresholds"].([]any) {
		m := th.(map[string]any)
		gated = gated || (m["name"] == "max-stampede-writes product_detail" && m["ok"] == true)
	}
	if !gated {
		t.Errorf("thresholds %v: want max-stampede-writes product_detail passed", rep["thresholds"])
	}

	ios, _, out, errOut := iostreams.Test()
	if code := runCLI(t, ios, append([]string{"bench", "--api", c.URL, "--redis", c.Redis.URL()}, flags...)...); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var row string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "product_detail\t") && strings.Contains(l, "\tyes\t") {
			row = l
		}
	}
	if !strings.Contains(out.String(), "stampede: 20 concurrent requests released together") || !strings.Contains(row, "\t1\tyes\tMISS") {
		t.Errorf("table without the stampede section or its row (%q):\n%s", row, out)
	}
}
