package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

// testCatalog is the reference catalog server (what `cachectl serve` runs) on
// httptest, caching in a private redis-server under the default schema.
type testCatalog struct {
	URL    string
	Redis  *redistest.Server
	RDB    *redis.Client
	Schema keyspace.Schema
}

// startCatalog seeds a small catalog (200 products) whose every query takes
// latency, and serves it; wrap, when set, sits in front of the handler.
func startCatalog(t *testing.T, latency time.Duration, wrap func(http.Handler) http.Handler) *testCatalog {
	t.Helper()
	rs := redistest.Start(t)
	schema := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{
		Redis: rs.ClientOptions(), Store: catalog.StoreConfig{SeedProducts: 200, QueryLatency: latency}, Schema: schema,
		// A generous Redis timeout: a test machine under -race must not make the
		// server fail open (serve without caching) and the tests flaky.
		RedisTimeout: 2 * time.Second, Wrap: wrap,
	})
	return &testCatalog{URL: api.URL.String(), Redis: rs, RDB: rs.Client(t), Schema: schema}
}

// get fetches a URL of the catalog and returns its body and headers.
func (c *testCatalog) get(t *testing.T, path string) ([]byte, http.Header) {
	t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = c.URL + path
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
	}
	return body, res.Header
}

// ttl is the time to live of a logical key; <= 0 when it is absent or never expires.
func (c *testCatalog) ttl(t *testing.T, logical string) time.Duration {
	t.Helper()
	d, err := c.RDB.PTTL(context.Background(), c.Schema.Key(logical)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// inFlight counts the requests a handler is serving, and the most at once.
type inFlight struct{ now, peak atomic.Int64 }

func (f *inFlight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.now.Add(1)
		for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
		}
		defer f.now.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// warmJSON is the part of the `warm --json` contract the tests read.
type warmJSON struct {
	Op       string        `json:"op"`
	API      string        `json:"api"`
	Source   string        `json:"source"`
	URLs     int           `json:"urls"`
	OK       int           `json:"ok"`
	Failed   int           `json:"failed"`
	Hits     *int          `json:"hits"`
	Misses   *int          `json:"misses"`
	Unknown  int           `json:"unknown"`
	Retries  int           `json:"retries"`
	Duration float64       `json:"duration_ms"`
	Results  []warm.Result `json:"results"`
	Verify   struct {
		Checked    bool           `json:"checked"`
		KeysBefore int64          `json:"keys_before"`
		KeysAfter  int64          `json:"keys_after"`
		Missing    []string       `json:"missing"`
		Coverage   *warm.Coverage `json:"coverage"`
	} `json:"verify"`
	Warnings []string       `json:"warnings"`
	Observed *warm.Observed `json:"observed"`
}

// runWarmJSON runs `cachectl warm --json` against the catalog and decodes its report.
func runWarmJSON(t *testing.T, c *testCatalog, wantCode int, args ...string) warmJSON {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	args = append([]string{"warm", "--json", "--api", c.URL, "--redis", c.Redis.URL()}, args...)
	if code := runCLI(t, ios, args...); code != wantCode {
		t.Fatalf("%s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), code, wantCode, errOut)
	}
	var rep warmJSON
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	return rep
}

func (r warmJSON) result(t *testing.T, url string) warm.Result {
	t.Helper()
	for _, res := range r.Results {
		if res.URL == url {
			return res
		}
	}
	t.Fatalf("no result for %s", url)
	return warm.Result{}
}

// seedWarmupURLs is what the seed's warmup_cache requests, worked out here
// from the API independently of the warm package: all categories, all
// colors, top sellers, new arrivals, 20 popular products, filters of every
// main category, lists of the 5 categories with the most products.
func seedWarmupURLs(t *testing.T, c *testCatalog) []string {
	t.Helper()
	body, _ := c.get(t, "/api/categories/")
	var cats []struct {
		ID           int64  `json:"id"`
		ParentID     *int64 `json:"parent"`
		ProductCount int64  `json:"product_count"`
	}
	if err := json.Unmarshal(body, &cats); err != nil {
		t.Fatal(err)
	}
	urls := []string{
		c.URL + "/api/categories/",
		c.URL + "/api/colors/",
		c.URL + "/api/products/top_sellers/",
		c.URL + "/api/products/new_arrivals/",
		c.URL + "/api/products/?ordering=-popularity&page_size=20",
	}
	mains := 0
	for _, cat := range cats {
		if cat.ParentID == nil {
			mains++
			urls = append(urls, fmt.Sprintf("%s/api/products/filters/?category=%d", c.URL, cat.ID))
		}
	}
	if mains != 5 {
		t.Fatalf("the seeded catalog has %d main categories, want 5", mains)
	}
	slices.SortStableFunc(cats, func(a, b struct {
		ID           int64  `json:"id"`
		ParentID     *int64 `json:"parent"`
		ProductCount int64  `json:"product_count"`
	}) int {
		return cmp.Or(cmp.Compare(b.ProductCount, a.ProductCount), cmp.Compare(a.ID, b.ID))
	})
	for _, cat := range cats[:5] {
		urls = append(urls, fmt.Sprintf("%s/api/products/?category=%d", c.URL, cat.ID))
	}
	return urls
}

// After `warm` on an empty cache every key the seed's warmup caches exists
// with a TTL, by name, and Redis says so in the report; a second warm finds
// every URL already cached.
func TestWarmBuiltinPlanCachesEverySeedKeyByName(t *testing.T) {
	c := startCatalog(t, 0, nil)

	first := runWarmJSON(t, c, exitOK)
	if first.Op != "warm" || first.API != c.URL {
		t.Errorf("op %q api %q", first.Op, first.API)
	}
	if first.Failed != 0 || first.OK != first.URLs || count(first.Misses) != first.URLs || count(first.Hits) != 0 {
		t.Errorf("first warm on an empty cache: %d urls, %d ok, %d failed, %d misses, %d hits", first.URLs, first.OK, first.Failed, count(first.Misses), count(first.Hits))
	}
	if first.Source != "builtin" || first.Warnings == nil || len(first.Warnings) != 0 {
		t.Errorf("source %q, warnings %q; want builtin and warnings [] (the reference server answers as the plan assumes)", first.Source, first.Warnings)
	}
	v := first.Verify
	if !v.Checked || v.KeysBefore != 0 || v.KeysAfter <= v.KeysBefore || v.Missing == nil || len(v.Missing) != 0 {
		t.Errorf("verify = %+v, want checked, 0 keys before, more after, missing []", v)
	}

	want := seedWarmupURLs(t, c)
	var got []string
	for _, r := range first.Results {
		got = append(got, r.URL)
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("warmed\n  %s\nwant the seed's warmup\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	second := runWarmJSON(t, c, exitOK)
	if count(second.Hits) != second.URLs || count(second.Misses) != 0 || second.URLs != first.URLs {
		t.Errorf("second warm: %d urls, %d hits, %d misses; want every URL a HIT", second.URLs, count(second.Hits), count(second.Misses))
	}
	for _, r := range second.Results {
		if r.Cache != "HIT" {
			t.Errorf("second warm: %s was %q", r.URL, r.Cache)
		}
	}

	// By name: the fixed keys, and the hashed keys the server names for
	// each URL of the seed's warmup (which it must now serve from the cache).
	keys := []string{"categories:all", "product_colors:all", "products:top_sellers", "products:new_arrivals"}
	for _, u := range want {
		_, h := c.get(t, u)
		if h.Get("X-Cache") != "HIT" {
			t.Errorf("%s after warm: X-Cache %q, want HIT", u, h.Get("X-Cache"))
		}
		if k := h.Get("X-Cache-Key"); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) != len(want) {
		t.Errorf("%d distinct keys for %d URLs: %q", len(keys), len(want), keys)
	}
	for _, k := range keys {
		if d := c.ttl(t, k); d <= 0 {
			t.Errorf("key %s: PTTL %v after warm, want it cached with a TTL", k, d)
		}
	}
}

// --deep also warms detail, variants and recommendations of every product
// the plan's lists returned.
func TestWarmDeepWarmsTheProductsThePlanSaw(t *testing.T) {
	c := startCatalog(t, 0, nil)
	rep := runWarmJSON(t, c, exitOK, "--deep", "-c", "4")
	if rep.Failed != 0 || len(rep.Verify.Missing) != 0 {
		t.Fatalf("deep warm: %d failed, missing %q", rep.Failed, rep.Verify.Missing)
	}
	var ids []int64
	for _, p := range []string{"/api/products/top_sellers/", "/api/products/new_arrivals/", "/api/products/?ordering=-popularity&page_size=20"} {
		body, h := c.get(t, p)
		if h.Get("X-Cache") != "HIT" {
			t.Errorf("%s not cached by the deep warm", p)
		}
		ids = append(ids, warm.ProductIDs(body)...)
	}
	if len(ids) < 30 {
		t.Fatalf("only %d products in the lists", len(ids))
	}
	for _, id := range ids {
		for _, k := range []string{"product:%d", "product:%d:variants", "product:%d:recommendations"} {
			if k = fmt.Sprintf(k, id); c.ttl(t, k) <= 0 {
				t.Errorf("key %s not cached by --deep", k)
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range rep.Results {
		if seen[r.URL] {
			t.Errorf("%s warmed twice", r.URL)
		}
		seen[r.URL] = true
	}
	if rep.URLs <= 15 || (rep.URLs-15)%3 != 0 {
		t.Errorf("%d URLs: want the 15 of the plan plus 3 per product", rep.URLs)
	}
}

// writeURLs writes a URL file of n product detail paths.
func writeURLs(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# product pages\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "/api/products/%d/\n", i)
	}
	path := filepath.Join(t.TempDir(), "pages.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The server never sees more than -c requests in flight.
func TestWarmNeverExceedsConcurrency(t *testing.T) {
	var f inFlight
	c := startCatalog(t, 2*time.Millisecond, f.wrap)
	rep := runWarmJSON(t, c, exitOK, "--urls", writeURLs(t, 40), "-c", "3")
	if rep.OK != 40 {
		t.Errorf("%d of 40 ok", rep.OK)
	}
	if p := f.peak.Load(); p > 3 || p < 2 {
		t.Errorf("server saw %d requests in flight with -c 3, want at most 3 (and some overlap)", p)
	}
}

// --qps holds the whole run, not each worker, near the limit.
func TestWarmQPSHoldsTheWholeRun(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	c := startCatalog(t, 0, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			arrivals = append(arrivals, time.Now())
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	})
	const n, qps = 20, 25.0
	rep := runWarmJSON(t, c, exitOK, "--urls", writeURLs(t, n), "-c", "8", "--qps", "25")
	if rep.OK != n || len(arrivals) != n {
		t.Fatalf("%d ok, server saw %d requests", rep.OK, len(arrivals))
	}
	span := arrivals[n-1].Sub(arrivals[0])
	if min := time.Duration(float64(n-1) / qps * 0.9 * float64(time.Second)); span < min {
		t.Errorf("%d requests at --qps %g arrived within %v, want at least %v", n, qps, span, min)
	}
	// No burst: never more than a few requests in any 200 ms.
	for i := range arrivals {
		j := i
		for j < n && arrivals[j].Sub(arrivals[i]) < 200*time.Millisecond {
			j++
		}
		if j-i > 7 {
			t.Errorf("%d requests within 200 ms at --qps %g", j-i, qps)
			break
		}
	}
}

// An endpoint that answers 503 is retried at most --retries times, named in
// the report and on stderr, and the run exits 1; the rest is still warmed.
func TestWarmRetries503ThenFails(t *testing.T) {
	for _, retries := range []int{0, 2} {
		t.Run(fmt.Sprintf("retries=%d", retries), func(t *testing.T) {
			var colors atomic.Int64
			c := startCatalog(t, 0, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/api/colors/" {
						colors.Add(1)
						http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
						return
					}
					h.ServeHTTP(w, r)
				})
			})
			rep := runWarmJSON(t, c, exitFailed, "--retries", strconv.Itoa(retries))
			res := rep.result(t, c.URL+"/api/colors/")
			if res.Status != 503 || res.Attempts != retries+1 || res.Error != "HTTP 503" {
				t.Errorf("colors: %+v, want 503 after %d attempts", res, retries+1)
			}
			if got := colors.Load(); got != int64(retries+1) {
				t.Errorf("server saw %d requests for colors, want %d", got, retries+1)
			}
			if rep.Failed != 1 || rep.OK != rep.URLs-1 || rep.Retries != retries {
				t.Errorf("report: %d ok, %d failed, %d retries of %d urls", rep.OK, rep.Failed, rep.Retries, rep.URLs)
			}
			if c.ttl(t, "product_colors:all") > 0 || c.ttl(t, "categories:all") <= 0 {
				t.Error("want colors uncached and the rest cached")
			}

			// The table names it too.
			ios, _, _, errOut := iostreams.Test()
			if code := runCLI(t, ios, "warm", "--api", c.URL, "--redis", c.Redis.URL(), "--retries", strconv.Itoa(retries)); code != exitFailed {
				t.Errorf("table run exit %d, want 1", code)
			}
			want := fmt.Sprintf("failed: %s/api/colors/: HTTP 503 (%d attempts)", c.URL, retries+1)
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("stderr %q does not name the failure (%q)", errOut, want)
			}
		})
	}
}

// On a terminal: a progress bar on stderr, a summary table on stdout.
func TestWarmOnATerminalShowsProgressAndSummary(t *testing.T) {
	c := startCatalog(t, 0, nil)
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(true)
	ios.SetStderrTTY(true)
	if code := runCLI(t, ios, "warm", "--api", c.URL, "--redis", c.Redis.URL()); code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	if !strings.Contains(errOut.String(), "] 15/15 ") || !strings.Contains(errOut.String(), "req/s  0 failed") {
		t.Errorf("no progress bar on the terminal: %q", errOut)
	}
	for _, want := range []string{"warmed 15 URLs of " + c.URL, "cached now (MISS)", "15", "keys after", "missing keys", "none"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// cachectlCmd runs the test binary as the cachectl program (see TestMain),
// with a clean environment, as a user's shell would.
func cachectlCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Args = append([]string{"cachectl"}, args...)
	home := t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home}
	return cmd
}

// Through the binary, piped: one compact JSON document on stdout and nothing
// on stderr; without --json, plain tab-separated text without escape codes.
func TestWarmPipedPrintsCleanOutput(t *testing.T) {
	c := startCatalog(t, 0, nil)
	var out, errOut bytes.Buffer
	cmd := cachectlCmd(t, "warm", "--json", "--api", c.URL, "--redis", c.Redis.URL())
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr when piped: %q", errOut.String())
	}
	if lines := strings.Count(out.String(), "\n"); lines != 1 {
		t.Errorf("JSON on %d lines, want one compact document", lines)
	}
	var rep warmJSON
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.URLs != 15 || count(rep.Misses) != 15 {
		t.Errorf("report %+v, %v", rep, err)
	}

	out.Reset()
	errOut.Reset()
	cmd = cachectlCmd(t, "warm", "--api", c.URL, "--redis", c.Redis.URL())
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	if strings.ContainsAny(out.String()+errOut.String(), "\x1b\r") {
		t.Errorf("escape codes when piped: %q %q", out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "already cached (HIT)\t15\n") {
		t.Errorf("piped summary:\n%s", out.String())
	}
}

// A URL that redirects in a loop is a failed URL with the status it kept
// answering and the reason; the loop is final, like a 4xx, not retried.
func TestWarmRedirectLoopIsAFinalFailure(t *testing.T) {
	var loops atomic.Int64
	c := startCatalog(t, 0, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/loop/" {
				loops.Add(1)
				http.Redirect(w, r, "/loop/", http.StatusFound)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	urls := filepath.Join(t.TempDir(), "pages.txt")
	if err := os.WriteFile(urls, []byte("/api/colors/\n/loop/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := runWarmJSON(t, c, exitFailed, "--urls", urls, "--retries", "2")
	res := rep.result(t, c.URL+"/loop/")
	if res.Status != http.StatusFound || res.Error != "stopped after 10 redirects" || res.Attempts != 1 {
		t.Errorf("loop: %+v, want status 302, stopped after 10 redirects, 1 attempt", res)
	}
	if n := loops.Load(); n != 10 {
		t.Errorf("the server saw %d requests of the loop, want 10 (one attempt)", n)
	}
	if rep.OK != 1 || rep.Failed != 1 {
		t.Errorf("%d ok, %d failed; want the colors warmed and the loop failed", rep.OK, rep.Failed)
	}
}

// count is a figure of the report, -1 when it is null (not measured).
func count(n *int) int {
	if n == nil {
		return -1
	}
	return *n
}
