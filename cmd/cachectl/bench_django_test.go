package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/iostreams"
)

// djangoBench is the Django fixture on its own redis-server, with the
// cachectl flags that point at its cache.
type djangoBench struct {
	app  *djangotest.App
	rdb  *redis.Client // on the app's database
	args []string      // --api, --redis with its db, --prefix, --key-version
}

func startDjangoBench(t *testing.T, o djangotest.Options) *djangoBench {
	t.Helper()
	e := startDjango(t, o)
	return &djangoBench{app: e.App, rdb: e.rdb, args: e.flags()}
}

// bench runs `cachectl bench --json` against the app and returns the
// report and stderr.
func (d *djangoBench) bench(t *testing.T, wantCode int, args ...string) (map[string]any, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	args = append(append([]string{"bench", "--json"}, d.args...), args...)
	code := runCLI(t, ios, args...)
	if out.Len() == 0 {
		t.Fatalf("%s: exit %d and no report\nstderr: %s", strings.Join(args, " "), code, errOut)
	}
	rep := decodeReport(t, out.Bytes())
	if code != wantCode {
		var gates []string
		for _, th := range rep["thresholds"].([]any) {
			m := th.(map[string]any)
			gates = append(gates, fmt.Sprintf("%v %v: %v", m["ok"], m["name"], m["detail"]))
		}
		t.Fatalf("%s: exit %d, want %d\nstderr: %s\ngates:\n%s\n%s", strings.Join(args, " "), code, wantCode, errOut,
			strings.Join(gates, "\n"), d.app.LogTail(20))
	}
	return rep, errOut.String()
}

// simulatedDBLatency is what each SQL query of the Django fixture costs in
// these tests, as serve --db-latency 2ms: SQLite answers in the process, and
// /api/colors/ (one query of 12 rows) is then barely slower cold than warm
// (about 2x, either side of it), where a database across a network is not.
const simulatedDBLatency = 2 * time.Millisecond

// bench against a real Django + DRF + django-redis app on gunicorn with 3
// sync workers, with bench's default flags: every built-in endpoint exists
// there, every cold sample is cold and every warm one warm in the app's own
// cache (its db, prefix and version), and the serial speedup of every
// endpoint passes --min-speedup 2. The load phase at -c 10 queues on the
// three workers, which the pairs are not affected by.
func TestBenchAgainstTheDjangoFixture(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts djangotest.Options
	}{
		{"defaults", djangotest.Options{}},
		// X-Cache on, so that the pairs can be seen to be a MISS and then a HIT.
		{"db 3, prefix shop, version 7", djangotest.Options{DB: new(3), Prefix: "shop", Version: 7, CacheHeader: true}},
		{"paginated categories, token auth, zlib", djangotest.Options{PaginateCategories: true, TokenAuth: true, Compressor: djangotest.Zlib}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.SimulatedDBLatency = simulatedDBLatency
			d := startDjangoBench(t, tt.opts)
			const pairs, requests, concurrency = bench.DefaultPairs, 1000, 10 // bench's defaults
			rep, errOut := d.bench(t, exitOK, "--min-speedup", "2")
			if rep["passed"] != true || strings.Contains(errOut, "skipped") {
				t.Errorf("passed %v, stderr %q", rep["passed"], errOut)
			}
			eps := endpointsOf(t, rep)
			for _, name := range builtinEndpoints {
				e, ok := eps[name]
				if !ok || e["skipped"] != nil {
					t.Errorf("endpoint %s: %v, want it measured", name, e)
					continue
				}
				checkPhases(t, e, pairs, requests, concurrency)
				// The app sends no X-DB-Queries, and X-Cache only when asked to.
				if num(t, e, "cold", "db_queries") != -1 || num(t, e, "warm", "db_queries") != -1 {
					t.Errorf("%s: db queries %v, %v: the app does not send them", name, e["cold"], e["warm"])
				}
				wantMisses, wantHits, wantAgreement := 0.0, 0.0, -1.0
				if tt.opts.CacheHeader {
					wantMisses, wantHits, wantAgreement = pairs, pairs, 1
				}
				if num(t, e, "cold", "misses") != wantMisses || num(t, e, "warm_serial", "hits") != wantHits || num(t, e, "xcache_agreement") != wantAgreement {
					t.Errorf("%s: cold misses %v, warm hits %v, X-Cache agreement %v; want %v, %v, %v", name,
						e["cold"].(map[string]any)["misses"], e["warm_serial"].(map[string]any)["hits"], e["xcache_agreement"],
						wantMisses, wantHits, wantAgreement)
				}
			}
			checkSpeedupGates(t, rep, builtinEndpoints)
			// The last request of each endpoint filled its key in the app's namespace.
			for _, k := range []string{"categories:all", "product_colors:all", "products:top_sellers"} {
				if n := d.rdb.Exists(context.Background(), d.app.Key(k)).Val(); n != 1 {
					t.Errorf("%s not in db %d after bench", d.app.Key(k), d.app.DB)
				}
			}
		})
	}
}

// An endpoint the app does not have answers 404: an optional one is
// skipped with a warning, any other fails the run, named; the endpoints the
// app has are measured either way.
func TestBenchNamesEndpointsTheDjangoAppLacks(t *testing.T) {
	d := startDjangoBench(t, djangotest.Options{})
	spec := "- {name: colors, url: /api/colors/, clear: [product_colors:all]}\n" +
		"- {name: brands, url: /api/brands/, optional: true}\n" +
		"- {name: sizes, url: /api/sizes/}\n"
	file := filepath.Join(t.TempDir(), "endpoints.yaml")
	if err := os.WriteFile(file, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	small := []string{"--endpoints", file, "--cold-samples", "3", "-n", "30", "-c", "3"}

	rep, errOut := d.bench(t, exitFailed, small...)
	eps := endpointsOf(t, rep)
	for _, name := range []string{"brands", "sizes"} {
		if s, _ := eps[name]["skipped"].(string); !strings.Contains(s, "HTTP 404") {
			t.Errorf("%s: skipped %q, want the 404 named", name, s)
		}
	}
	if eps["colors"]["skipped"] != nil || num(t, eps["colors"], "warm_serial", "samples") != 3 {
		t.Errorf("colors: %v, want it measured", eps["colors"])
	}
	if !strings.Contains(errOut, "warning: skipped brands: HTTP 404") || strings.Contains(errOut, "warning: skipped sizes") {
		t.Errorf("stderr %q: want a warning for brands (optional) only", errOut)
	}
	if !strings.Contains(errOut, "bench failed: endpoint sizes\n") {
		t.Errorf("stderr %q: want the run failed on sizes alone", errOut)
	}

	rep, _ = d.bench(t, exitOK, append(small, "--only", "colors")...)
	if rep["passed"] != true {
		t.Errorf("--only colors: passed %v", rep["passed"])
	}
}

// The Django app sends no X-Cache-Key: bench learns each endpoint's own key
// in Redis and its cold samples clear exactly that key. Every other key,
// of the same families too, is still there after the run.
func TestBenchClearsOnlyTheEndpointsOwnKeys(t *testing.T) {
	t.Parallel()
	e := startDjango(t, djangotest.Options{})
	e.fill(t) // lists, filters and every other family, and a session
	before := e.keys(t)
	// Other traffic under the prefix all along: none of it is the endpoints'.
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			e.rdb.Set(ctx, e.App.Key(fmt.Sprintf("noise:%d", i%50)), "x", time.Minute)
			time.Sleep(time.Millisecond)
		}
	}()
	d := &djangoBench{app: e.App, rdb: e.rdb, args: e.flags()}
	rep, _ := d.bench(t, exitOK, "--only", "product_list,filters", "--cold-samples", "3", "-n", "20", "-c", "2")
	stop()
	<-done
	own := map[string]bool{}
	for _, ep := range rep["endpoints"].([]any) {
		m := ep.(map[string]any)
		if m["keys_from"] != "redis" {
			t.Fatalf("%s: keys from %v, want learned in Redis", m["name"], m["keys_from"])
		}
		keys := m["keys"].([]any)
		if len(keys) != 1 || !strings.HasPrefix(keys[0].(string), "products:") {
			t.Fatalf("%s: keys %v, want its one key", m["name"], keys)
		}
		own[e.App.Key(keys[0].(string))] = true
	}
	after := e.keys(t)
	for _, k := range before {
		if !own[k] && !slices.Contains(after, k) {
			t.Errorf("bench deleted %s, which is not the benchmarked endpoints' own", k)
		}
	}
	for k := range own {
		if !slices.Contains(after, k) {
			t.Errorf("%s is not back after the run", k)
		}
	}
}

// An --endpoints clear pattern that matches nothing while the app sends no
// header and Redis cannot name keys (INFO only): cold and warm would be
// alike; the endpoint fails with why, instead of reporting 1.0x.
func TestBenchFailsAnEndpointThatCannotBeMadeCold(t *testing.T) {
	t.Parallel()
	e := startDjango(t, djangotest.Options{})
	if err := e.redis.Client(t).Do(context.Background(), "ACL", "SETUSER", "infoonly", "on", ">pw", "~*", "+@all", "-monitor", "-client|tracking").Err(); err != nil {
		t.Fatal(err)
	}
	eps := filepath.Join(t.TempDir(), "endpoints.yaml")
	os.WriteFile(eps, []byte("- name: detail\n  url: /api/products/3/\n  clear: [\"nothing:here:*\"]\n"), 0o644)
	d := &djangoBench{app: e.App, rdb: e.rdb, args: append(e.flags(), "--redis", fmt.Sprintf("redis://infoonly:pw@%s/%d", e.redis.Addr, e.App.DB))}
	rep, stderr := d.bench(t, exitFailed, "--endpoints", eps, "--cold-samples", "3", "-n", "10", "-c", "1")
	ep := rep["endpoints"].([]any)[0].(map[string]any)
	if why, _ := ep["invalid"].(string); !strings.Contains(why, "deleted no key") {
		t.Fatalf("endpoint invalid %q, want the clear that matched nothing named\n%s", why, stderr)
	}
	if !strings.Contains(stderr, "cold detail") {
		t.Errorf("stderr does not name the failed gate:\n%s", stderr)
	}
}
