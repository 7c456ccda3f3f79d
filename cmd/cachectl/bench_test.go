package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/iostreams"
)

// runBenchJSON runs `cachectl bench --json` against the catalog and returns
// the report both decoded loosely (to check the contract's field names) and as stdout.
func runBenchJSON(t *testing.T, c *testCatalog, wantCode int, args ...string) (map[string]any, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	args = append([]string{"bench", "--json", "--api", c.URL, "--redis", c.Redis.URL()}, args...)
	if code := runCLI(t, ios, args...); code != wantCode {
		t.Fatalf("%s: exit %d, want %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), code, wantCode, errOut, out)
	}
	return decodeReport(t, out.Bytes()), out.String(), errOut.String()
}

// decodeReport decodes bench's JSON loosely, to check the contract's field names.
func decodeReport(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var rep map[string]any
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, data)
	}
	return rep
}

// num reads a number at a path of a decoded JSON document, failing the test
// when the field is missing: every field of the contract must be there.
func num(t *testing.T, v any, path ...string) float64 {
	t.Helper()
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object", strings.Join(path, "."))
		}
		if v, ok = m[p]; !ok {
			t.Fatalf("field %s missing", strings.Join(path, "."))
		}
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("field %s = %v, want a number", strings.Join(path, "."), v)
	}
	return f
}

func endpointsOf(t *testing.T, rep map[string]any) map[string]map[string]any {
	t.Helper()
	list, ok := rep["endpoints"].([]any)
	if !ok {
		t.Fatalf("endpoints = %v", rep["endpoints"])
	}
	out := map[string]map[string]any{}
	for _, e := range list {
		m := e.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

// With 2 ms per database query (serve --db-latency 2ms) and bench's default
// flags, every endpoint's serial speedup is at least 2x: the gate passes.
// Each cold sample was a MISS and the warm request right after it a HIT, the
// load phase hit the cache, and the JSON has every field of
// cachectl.bench/v1, warm_serial included.
func TestBenchColdAgainstWarmOnTheReferenceServer(t *testing.T) {
	c := startCatalog(t, 2*time.Millisecond, nil)
	const pairs, requests, concurrency = bench.DefaultPairs, 1000, 10 // bench's defaults
	rep, _, _ := runBenchJSON(t, c, exitOK, "--min-speedup", "2")

	if rep["schema"] != "cachectl.bench/v1" || rep["api"] != c.URL || rep["passed"] != true {
		t.Errorf("schema %v api %v passed %v", rep["schema"], rep["api"], rep["passed"])
	}
	eps := endpointsOf(t, rep)
	for _, name := range builtinEndpoints {
		e, ok := eps[name]
		if !ok {
			t.Errorf("endpoint %s missing", name)
			continue
		}
		if u, _ := e["url"].(string); !strings.HasPrefix(u, c.URL+"/api/") {
			t.Errorf("%s: url %q", name, u)
		}
		checkPhases(t, e, pairs, requests, concurrency)
		if num(t, e, "cold", "misses") != pairs || num(t, e, "cold", "hits") != 0 {
			t.Errorf("%s: cold %v, want every sample a MISS", name, e["cold"])
		}
		if num(t, e, "warm_serial", "hits") != pairs || num(t, e, "warm_serial", "misses") != 0 {
			t.Errorf("%s: warm_serial %v, want every sample a HIT", name, e["warm_serial"])
		}
		if num(t, e, "cold", "db_queries") < 1 || num(t, e, "warm_serial", "db_queries") != 0 || num(t, e, "warm", "db_queries") != 0 {
			t.Errorf("%s: db queries cold %v, warm %v, under load %v: want some, then none", name,
				num(t, e, "cold", "db_queries"), num(t, e, "warm_serial", "db_queries"), num(t, e, "warm", "db_queries"))
		}
		if num(t, e, "xcache_agreement") != 1 {
			t.Errorf("%s: X-Cache agreement %v after the load, want 1", name, e["xcache_agreement"])
		}
	}
	checkSpeedupGates(t, rep, builtinEndpoints)
}

// builtinEndpoints are the endpoints bench finds by itself.
var builtinEndpoints = []string{"product_list", "popular", "product_detail", "variants", "recommendations",
	"top_sellers", "new_arrivals", "filters", "categories", "colors"}

// checkPhases checks one endpoint's figures against the contract: cold and
// warm_serial are the pairs, one request at a time, and the speedup divides
// their medians; warm is the load phase, every request a 200, at -c; the
// Redis hit ratio during the load is at least 0.9.
func checkPhases(t *testing.T, e map[string]any, pairs, requests, concurrency float64) {
	t.Helper()
	name := e["name"]
	for _, phase := range []string{"cold", "warm_serial"} {
		for _, f := range []string{"samples", "concurrency", "p50_ms", "p95_ms", "p99_ms", "max_ms", "misses", "hits", "errors", "db_queries"} {
			num(t, e, phase, f)
		}
		if num(t, e, phase, "samples") != pairs || num(t, e, phase, "concurrency") != 1 || num(t, e, phase, "errors") != 0 {
			t.Errorf("%s: %s %v, want %v samples one at a time, no errors", name, phase, e[phase], pairs)
		}
	}
	for _, f := range []string{"requests", "concurrency", "rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "errors", "db_queries"} {
		num(t, e, "warm", f)
	}
	if num(t, e, "warm", "requests") != requests || num(t, e, "warm", "status", "200") != requests ||
		num(t, e, "warm", "errors") != 0 || num(t, e, "warm", "concurrency") != concurrency {
		t.Errorf("%s: warm %v, want %v requests at -c %v, all 200", name, e["warm"], requests, concurrency)
	}
	cold, warm, speedup := num(t, e, "cold", "p50_ms"), num(t, e, "warm_serial", "p50_ms"), num(t, e, "speedup")
	if math.Abs(speedup-cold/warm) > 1e-9 {
		t.Errorf("%s: speedup %v, want cold p50 / warm_serial p50 = %v", name, speedup, cold/warm)
	}
	if basis, _ := e["speedup_basis"].(string); !strings.HasPrefix(basis, "cold.p50_ms / warm_serial.p50_ms") {
		t.Errorf("%s: speedup_basis %q", name, basis)
	}
	if hit := num(t, e, "hit_ratio"); hit < 0.9 || hit > 1 {
		t.Errorf("%s: Redis hit ratio %.2f under load, want at least 0.9", name, hit)
	}
	t.Logf("%-16s cold p50 %6.2f ms  warm p50 %5.2f ms  speedup %5.1fx  |  under load at -c %v: p50 %6.2f ms  p95 %6.2f ms  %5.0f rps",
		name, cold, warm, speedup, concurrency, num(t, e, "warm", "p50_ms"), num(t, e, "warm", "p95_ms"), num(t, e, "warm", "rps"))
}

// checkSpeedupGates checks that --min-speedup gated every endpoint named,
// passed, and said it read the serial pairs.
func checkSpeedupGates(t *testing.T, rep map[string]any, names []string) {
	t.Helper()
	gated := map[string]bool{}
	for _, th := range rep["thresholds"].([]any) {
		m := th.(map[string]any)
		name, _ := m["name"].(string)
		if !strings.HasPrefix(name, "min-speedup ") {
			continue
		}
		gated[strings.TrimPrefix(name, "min-speedup ")] = true
		if d, _ := m["detail"].(string); m["ok"] != true || !strings.Contains(d, "(cold p50 / warm p50, one request at a time)") {
			t.Errorf("%s: ok %v, %q", name, m["ok"], d)
		}
	}
	for _, n := range names {
		if !gated[n] {
			t.Errorf("no min-speedup gate for %s", n)
		}
	}
}

// The gates: --min-speedup 1000 fails and names every endpoint; a baseline
// doctored to be much faster trips the regression gate; the JSON is still
// printed with "passed": false.
func TestBenchGatesFailAndNameTheEndpoints(t *testing.T) {
	c := startCatalog(t, 2*time.Millisecond, nil)
	small := []string{"--cold-samples", "2", "-n", "40", "-c", "2", "--only", "product_detail,categories"}

	rep, _, errOut := runBenchJSON(t, c, exitFailed, append(small, "--min-speedup", "1000")...)
	if rep["passed"] != false {
		t.Errorf("passed = %v", rep["passed"])
	}
	for _, name := range []string{"min-speedup product_detail", "min-speedup categories"} {
		if !strings.Contains(errOut, name) {
			t.Errorf("stderr %q does not name %q", errOut, name)
		}
	}
	breached := 0
	for _, th := range rep["thresholds"].([]any) {
		m := th.(map[string]any)
		if m["ok"] == false {
			breached++
			if !strings.Contains(m["detail"].(string), "want at least 1000.0x") {
				t.Errorf("detail %q", m["detail"])
			}
		}
	}
	if breached != 2 {
		t.Errorf("%d breached thresholds, want 2", breached)
	}

	// A report written with --report is a baseline; made 100 times faster, it is beaten.
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	runBenchJSON(t, c, exitOK, append(small, "--report", base)...)
	data, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, e := range doc["endpoints"].([]any) {
		w := e.(map[string]any)["warm"].(map[string]any)
		w["p95_ms"] = w["p95_ms"].(float64) / 100
		w["rps"] = w["rps"].(float64) * 100
	}
	data, _ = json.Marshal(doc)
	fast := filepath.Join(dir, "fast.json")
	if err := os.WriteFile(fast, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _, errOut = runBenchJSON(t, c, exitFailed, append(small, "--baseline", fast, "--max-regression", "20")...)
	for _, name := range []string{"regression p95 product_detail", "regression rps product_detail", "regression p95 categories", "regression rps categories"} {
		if !strings.Contains(errOut, name) {
			t.Errorf("stderr %q does not name %q", errOut, name)
		}
	}
	if rep["passed"] != false {
		t.Errorf("passed = %v", rep["passed"])
	}
	if names := thresholdNames(rep); !slices.Contains(names, "regression speedup categories") {
		t.Errorf("thresholds %v: the speedup was not compared with a baseline that has warm_serial", names)
	}

	// A report from before the cold/warm pairs (no warm_serial, no
	// speedup_basis) still works as a baseline: p95 and rps under load are
	// compared, its speedup (of another meaning) is not.
	for _, e := range doc["endpoints"].([]any) {
		m := e.(map[string]any)
		delete(m, "warm_serial")
		delete(m, "speedup_basis")
	}
	data, _ = json.Marshal(doc)
	old := filepath.Join(dir, "old.json")
	if err := os.WriteFile(old, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _, errOut = runBenchJSON(t, c, exitFailed, append(small, "--baseline", old)...)
	if !strings.Contains(errOut, "regression p95 categories") {
		t.Errorf("stderr %q does not name regression p95 categories", errOut)
	}
	for _, name := range thresholdNames(rep) {
		if strings.HasPrefix(name, "regression speedup") {
			t.Errorf("%s compared with a baseline that has no serial speedup", name)
		}
	}
}

func thresholdNames(rep map[string]any) []string {
	var names []string
	for _, th := range rep["thresholds"].([]any) {
		names = append(names, th.(map[string]any)["name"].(string))
	}
	return names
}

// An app without one of the built-in routes: that endpoint is skipped with
// a warning and the run passes; named with --only, its absence fails the
// run, named in a gate.
func TestBenchSkipsABuiltInEndpointTheAPILacks(t *testing.T) {
	c := startCatalog(t, 0, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/recommendations/") {
				http.NotFound(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	small := []string{"--cold-samples", "2", "-n", "20", "-c", "2"}
	rep, _, errOut := runBenchJSON(t, c, exitOK, small...)
	e := endpointsOf(t, rep)["recommendations"]
	if s, _ := e["skipped"].(string); !strings.Contains(s, "HTTP 404") {
		t.Errorf("recommendations: skipped %q, want the 404 named", s)
	}
	if !strings.Contains(errOut, "warning: skipped recommendations: HTTP 404") {
		t.Errorf("stderr %q does not warn about the skipped endpoint", errOut)
	}
	if got := len(endpointsOf(t, rep)); got != len(builtinEndpoints) {
		t.Errorf("%d endpoints in the report, want %d", got, len(builtinEndpoints))
	}
	rep, _, errOut = runBenchJSON(t, c, exitFailed, append(small, "--only", "recommendations,colors")...)
	if !strings.Contains(errOut, "bench failed: endpoint recommendations") || rep["passed"] != false {
		t.Errorf("--only recommendations on an API without it: passed %v, stderr %q", rep["passed"], errOut)
	}
	rep, _, errOut = runBenchJSON(t, c, exitOK, "--mix", "-n", "100", "-c", "2")
	mix, _ := rep["mix"].(map[string]any)
	if s, _ := mix["skipped"].(map[string]any)["recommendations"].(string); !strings.Contains(s, "HTTP 404") ||
		num(t, mix, "warm", "errors") != 0 || !strings.Contains(errOut, "warning: skipped recommendations") {
		t.Errorf("--mix on an API without recommendations: %v, stderr %q", mix, errOut)
	}
}

// A target that fails some requests: the failures are counted, kept out of
// the percentiles, and fail the run; --max-error-rate can allow them.
func TestBenchCountsErrorsAndKeepsThemOutOfPercentiles(t *testing.T) {
	var n atomic.Int64
	c := startCatalog(t, 0, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/flaky" {
				// Every fourth request fails slowly: were it in the
				// percentiles, max would be at least 50 ms.
				if n.Add(1)%4 == 0 {
					time.Sleep(50 * time.Millisecond) // slow on purpose, see above
					http.Error(w, "boom", http.StatusInternalServerError)
					return
				}
				w.Write([]byte("ok"))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	eps := filepath.Join(t.TempDir(), "endpoints.yaml")
	if err := os.WriteFile(eps, []byte("- name: flaky\n  url: /flaky\n  cold: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--endpoints", eps, "--cold-samples", "4", "-n", "40", "-c", "2"}
	rep, _, errOut := runBenchJSON(t, c, exitFailed, args...)
	e := endpointsOf(t, rep)["flaky"]
	errs := num(t, e, "warm", "errors")
	if errs < 8 || num(t, e, "warm", "status", "500") != errs || num(t, e, "warm", "requests") != 40 {
		t.Errorf("warm: %v, want about 10 errors of 40, all 500", e["warm"])
	}
	if max := num(t, e, "warm", "max_ms"); max >= 50 {
		t.Errorf("warm max %.1f ms: failed requests entered the percentiles", max)
	}
	if cmax := num(t, e, "cold", "max_ms"); cmax >= 50 {
		t.Errorf("cold max %.1f ms: failed samples entered the percentiles", cmax)
	}
	if !strings.Contains(errOut, "max-error-rate flaky") {
		t.Errorf("stderr %q does not name the error-rate gate", errOut)
	}
	rep, _, _ = runBenchJSON(t, c, exitOK, append(args, "--max-error-rate", "0.5")...)
	if rep["passed"] != true {
		t.Errorf("passed = %v with --max-error-rate 0.5", rep["passed"])
	}
}

// A bench run clears only the keys of the endpoints it benchmarks: sessions,
// other prefixes and versions, lookalike names, and other lists' keys keep
// their value and TTL.
func TestBenchLeavesOtherKeysUntouched(t *testing.T) {
	c := startCatalog(t, 0, nil)
	ctx := context.Background()
	others := []string{
		"ecommerce:1:django.contrib.sessions.cache:abc",
		"ecommerce:1:products_archive:1",
		"ecommerce:1:products:list:not-this-list",
		"ecommerce:1:product:10",
		"ecommerce:2:products:top_sellers",
		"other:1:product:1",
		"unrelated",
	}
	before := map[string]time.Duration{}
	for i, k := range others {
		if err := c.RDB.Set(ctx, k, fmt.Sprintf("value-%d", i), time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		before[k] = c.RDB.PTTL(ctx, k).Val()
	}
	start := time.Now()
	runBenchJSON(t, c, exitOK, "--cold-samples", "3", "-n", "20", "-c", "2", "--only", "product_list,product_detail,top_sellers")
	elapsed := time.Since(start)
	for i, k := range others {
		v, err := c.RDB.Get(ctx, k).Result()
		if err != nil || v != fmt.Sprintf("value-%d", i) {
			t.Errorf("%s: %q %v after bench, want it untouched", k, v, err)
			continue
		}
		ttl := c.RDB.PTTL(ctx, k).Val()
		if ttl > before[k] || ttl < before[k]-elapsed-time.Second {
			t.Errorf("%s: TTL %v after bench, was %v %v before", k, ttl, before[k], elapsed)
		}
	}
}

// Through the binary with no terminal: no prompt, nothing interactive, and
// the exit codes of the contract.
func TestBenchWithoutATerminal(t *testing.T) {
	c := startCatalog(t, 2*time.Millisecond, nil)
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		cmd := cachectlCmd(t, append([]string{"bench", "--cold-samples", "2", "-n", "20", "-c", "2", "--only", "categories"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("bench %s hung (waiting for input?)", strings.Join(args, " "))
		}
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}
	api, rdb := "--api="+c.URL, "--redis="+c.Redis.URL()

	code, out, errOut := run(api, rdb)
	if code != exitOK || strings.ContainsAny(out+errOut, "\x1b\r") || !strings.HasPrefix(out, "ENDPOINT\tCOLD P50\t") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut = run(api, rdb, "--min-speedup", "1000"); code != exitFailed || !strings.Contains(errOut, "min-speedup categories") {
		t.Errorf("--min-speedup 1000: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ = run("--api=http://"+closedPort(t), rdb); code != exitUnavailable {
		t.Errorf("unreachable API: exit %d, want 3", code)
	}
	if code, _, _ = run(api, "--redis=redis://"+closedPort(t)+"/0"); code != exitUnavailable {
		t.Errorf("unreachable Redis: exit %d, want 3", code)
	}
	if code, _, _ = run(api, rdb, "--only", "nope"); code != exitUsage {
		t.Errorf("--only nope: exit %d, want 2", code)
	}
	if code, _, _ = run(api, rdb, "--max-error-rate", "2"); code != exitUsage {
		t.Errorf("--max-error-rate 2: exit %d, want 2", code)
	}
}

// --mix sends one warm phase across the endpoints, by weight, and reports
// the mix as a whole and how many requests each endpoint got.
func TestBenchMixWeighsTheEndpoints(t *testing.T) {
	c := startCatalog(t, 0, nil)
	eps := filepath.Join(t.TempDir(), "endpoints.yaml")
	spec := "- name: detail\n  url: /api/products/3/\n  weight: 3\n- name: colors\n  url: /api/colors/\n  clear: [product_colors:all]\n"
	if err := os.WriteFile(eps, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _, _ := runBenchJSON(t, c, exitOK, "--endpoints", eps, "--mix", "-n", "200", "-c", "2")
	if got := rep["endpoints"].([]any); len(got) != 0 {
		t.Errorf("endpoints %v, want none measured one by one", got)
	}
	if num(t, rep, "mix", "warm", "requests") != 200 || num(t, rep, "mix", "warm", "errors") != 0 || num(t, rep, "mix", "warm", "p50_ms") <= 0 {
		t.Errorf("mix warm %v", rep["mix"])
	}
	detail, colors := num(t, rep, "mix", "picks", "detail"), num(t, rep, "mix", "picks", "colors")
	// 3:1 expects 150 and 50; 120 is five standard deviations away.
	if detail+colors != 200 || detail < 120 {
		t.Errorf("picks: detail %v colors %v, want 200 in about 3:1", detail, colors)
	}
	ios, _, _, _ := iostreams.Test()
	if code := runCLI(t, ios, "bench", "--mix", "--min-speedup", "2", "--api", c.URL); code != exitUsage {
		t.Errorf("--mix --min-speedup: exit %d, want 2", code)
	}
}

// An app that caches under another prefix and version than bench's: the
// logical key its X-Cache-Key names is, under bench's namespace, another
// app's key. Bench never clears it: the endpoint fails before its pairs,
// pointing at --prefix.
func TestBenchNeverClearsAnotherAppsKeyOfTheHeadersName(t *testing.T) {
	api, rs, c, other := startServeUnderAnotherPrefix(t)
	code, out, errOut := runAPICommand(t, []string{"bench", "--only", "colors", "--cold-samples", "2", "-n", "4", "-c", "2"}, api, rs)
	if exists(t, c, other) != 1 {
		t.Errorf("bench deleted %s, a key the endpoint does not use", other)
	}
	if code != exitFailed || !strings.Contains(out, "X-Cache-Key names product_colors:all, but Redis showed the request use no such key under ecommerce:1: in this db") {
		t.Errorf("exit %d, want 1 with the endpoint failed naming the prefix\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
