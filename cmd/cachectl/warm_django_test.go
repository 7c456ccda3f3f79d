package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/iostreams"
)

// djangoApp is the Django fixture caching in a private redis-server of
// its own (startDjango).
type djangoApp = djangoEnv

// cachectlArgs are the flags that point cachectl at the app and its cache.
func (a *djangoApp) cachectlArgs() []string {
	return []string{"--api", a.URL(), "--redis", fmt.Sprintf("redis://%s/%d", a.redis.Addr, a.DB),
		"--prefix", a.Prefix, "--key-version", strconv.Itoa(a.Version)}
}

// logicalKeys lists the app's cache keys without PREFIX:VERSION:, sorted.
func (a *djangoApp) logicalKeys(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	prefix := a.Key("")
	var keys []string
	iter := a.rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k, ok := strings.CutPrefix(iter.Val(), prefix)
		if !ok {
			t.Fatalf("key %q outside the app's prefix %q", iter.Val(), prefix)
		}
		keys = append(keys, k)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// listKey is the fixture's key of a product list: generate_cache_key, the
// md5 of the sorted query.
func listKey(query string) string {
	v, err := url.ParseQuery(query)
	if err != nil {
		panic(err)
	}
	sum := md5.Sum([]byte(v.Encode()))
	return "products:list:" + hex.EncodeToString(sum[:])
}

// warmDjango runs `cachectl warm --json` against the app and decodes the
// report; stderr is returned too.
func warmDjango(t *testing.T, a *djangoApp, wantCode int, args ...string) (warmJSON, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	args = append(append([]string{"warm", "--json"}, a.cachectlArgs()...), args...)
	if code := runCLI(t, ios, args...); code != wantCode {
		t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s\n%s", strings.Join(args, " "), code, wantCode, out, errOut, a.LogTail(20))
	}
	var rep warmJSON
	if wantCode == exitOK || out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
		}
	}
	return rep, errOut.String()
}

// diff returns what a has and b lacks.
func diff(a, b []string) []string {
	var out []string
	for _, k := range a {
		if !slices.Contains(b, k) {
			out = append(out, k)
		}
	}
	return out
}

// The built-in plan against the Django app writes the keys the app's own
// warmup_cache writes from the same state, in every way the app can be set
// up: cachectl's plan is warmup_cache's. The one difference is deliberate
// and named: to tell whether the API honoured ?ordering=, warm compares the
// popular page with the unordered one (?page_size=20), which the API caches
// too, as it does the page of an ordering it ignored.
func TestWarmBuiltinPlanAgainstDjangoWritesWarmupCacheKeys(t *testing.T) {
	t.Parallel()
	withPopularity := append(djangotest.DefaultOrderingFields(), "popularity")
	unordered := listKey("page_size=20")
	ignoredPopularity := listKey("ordering=-popularity&page_size=20")
	ignoredWarning := "popular products: the API ignored ordering=-popularity (the page is the unordered one); warmed ordering=-sales_count instead"
	for _, tc := range []struct {
		name     string
		opts     djangotest.Options
		extra    []string // keys warm writes beyond warmup_cache's
		warnings []string
	}{
		{"defaults", djangotest.Options{},
			[]string{ignoredPopularity, unordered}, []string{ignoredWarning}},
		{"db 3, prefix shop, version 7, parent_id, a popularity ordering",
			djangotest.Options{DB: new(3), Prefix: "shop", Version: 7, ParentField: "parent_id", OrderingFields: withPopularity},
			[]string{unordered}, nil},
		{"paginated categories, Token auth, zlib",
			djangotest.Options{PaginateCategories: true, TokenAuth: true, Compressor: djangotest.Zlib},
			[]string{ignoredPopularity, unordered}, []string{ignoredWarning}},
		{"no product_count, JSON values",
			djangotest.Options{OmitProductCount: true, Serializer: djangotest.JSON},
			[]string{ignoredPopularity, unordered}, []string{
				"top 5 categories: no item of http://APP/api/categories/ has product_count; chosen instead among the items where parent|parent_id = null, by the count of their /api/products/?category={id} pages (most first)",
				ignoredWarning,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			byDjango, byCachectl := startDjango(t, tc.opts), startDjango(t, tc.opts)

			byDjango.Manage(t, "warmup_cache")
			want := byDjango.logicalKeys(t)
			if len(want) != 15 {
				t.Fatalf("warmup_cache wrote %d keys, want its 15: %q", len(want), want)
			}

			rep, stderr := warmDjango(t, byCachectl, exitOK)
			got := byCachectl.logicalKeys(t)
			if missing := diff(want, got); len(missing) > 0 {
				t.Errorf("warm did not write %q, which warmup_cache writes", missing)
			}
			if extra := diff(got, want); !slices.Equal(extra, slices.Sorted(slices.Values(tc.extra))) {
				t.Errorf("warm wrote %q beyond warmup_cache's keys, want %q", extra, tc.extra)
			}

			var wantWarnings []string
			for _, w := range tc.warnings {
				wantWarnings = append(wantWarnings, strings.ReplaceAll(w, "http://APP", byCachectl.URL()))
			}
			if !slices.Equal(rep.Warnings, wantWarnings) {
				t.Errorf("warnings %q\nwant %q", rep.Warnings, wantWarnings)
			}
			for _, w := range wantWarnings {
				if !strings.Contains(stderr, "warning: "+w+"\n") {
					t.Errorf("stderr lacks the warning %q:\n%s", w, stderr)
				}
			}
			if rep.Failed != 0 || !rep.Verify.Checked || len(rep.Verify.Missing) != 0 || rep.Verify.KeysBefore != 0 || rep.Verify.KeysAfter != int64(len(got)) {
				t.Errorf("report: %d failed, verify %+v; want none failed, 0 keys before, %d after, none missing", rep.Failed, rep.Verify, len(got))
			}
			var urls []string
			for _, r := range rep.Results {
				urls = append(urls, strings.TrimPrefix(r.URL, byCachectl.URL()))
			}
			filters := 0
			for _, u := range urls {
				if strings.HasPrefix(u, "/api/products/filters/") {
					filters++
				}
			}
			if filters != byCachectl.Catalog.MainCategories {
				t.Errorf("%d filter pages, want one per main category (%d): %q", filters, byCachectl.Catalog.MainCategories, urls)
			}
			if tc.opts.PaginateCategories && !slices.Contains(urls, "/api/categories/?page=2") {
				t.Errorf("the categories' second page was not read: %q", urls)
			}
		})
	}
}

// When the API honours none of the orderings the plan knows, warm says the
// popular page is in the default order: on stderr, in the JSON, and in the
// table's run too; the rest is warmed and the exit code is 0.
func TestWarmSaysWhenTheAPIIgnoresEveryOrdering(t *testing.T) {
	t.Parallel()
	app := startDjango(t, djangotest.Options{OrderingFields: []string{"price", "name"}})
	const want = "popular products: the API ignored ordering=-popularity and ordering=-sales_count (the page is the unordered one): the page warmed is in the API's default order"
	rep, _ := warmDjango(t, app, exitOK)
	if !slices.Equal(rep.Warnings, []string{want}) {
		t.Errorf("warnings %q, want %q", rep.Warnings, want)
	}
	if rep.Failed != 0 || len(rep.Verify.Missing) != 0 {
		t.Errorf("%d failed, missing %q", rep.Failed, rep.Verify.Missing)
	}

	ios, _, out, errOut := iostreams.Test()
	if code := runCLI(t, ios, append([]string{"warm"}, app.cachectlArgs()...)...); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut.String() != "warning: "+want+"\n" {
		t.Errorf("stderr %q, want the one warning line", errOut)
	}
	if !strings.Contains(out.String(), "failed\t0\n") {
		t.Errorf("summary:\n%s", out)
	}
}

// A catalog without main categories cannot be warmed as warmup_cache
// would: warm exits 1 before it warms anything, names what it looked for,
// and says how to describe another shape.
func TestWarmExitsOneWithoutMainCategories(t *testing.T) {
	t.Parallel()
	app := startDjango(t, djangotest.Options{})
	// Every main category becomes a subcategory of one of its own.
	for id := 1; id <= app.Catalog.MainCategories; id++ {
		req, err := http.NewRequest(http.MethodPatch, fmt.Sprintf("%s/api/categories/%d/", app.URL(), id),
			strings.NewReader(fmt.Sprintf(`{"parent": %d}`, app.Catalog.MainCategories+id)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		app.Authorize(req)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("PATCH category %d: %s", id, res.Status)
		}
	}
	app.rdb.FlushDB(context.Background())

	_, stderr := warmDjango(t, app, exitFailed)
	wantErr := fmt.Sprintf("cachectl: main categories: none of the %d items of %s/api/categories/ is one where parent|parent_id = null\nhint: ", app.Catalog.Categories, app.URL())
	if !strings.HasPrefix(stderr, wantErr) || !strings.Contains(stderr, "--plan FILE") {
		t.Errorf("stderr %q, want %q and a hint naming --plan", stderr, wantErr)
	}
	if keys := app.logicalKeys(t); slices.Contains(keys, "product_colors:all") {
		t.Errorf("warm went on warming: %q", keys)
	}
}

// drfPlan is the README's --plan example: the seed's warm-up for a DRF
// catalog shaped as the fixture is by default.
const drfPlan = `# warm-plan.yaml: the warmup_cache of a DRF catalog
warm:
  - url: /api/categories/          # a list: its items build the pages below
    key: categories:all
    each:
      - name: main categories
        where: parent = null
        url: /api/products/filters/?category={id}
      - name: top 5 categories
        sort: -product_count
        limit: 5
        url: /api/products/?category={id}
  - /api/colors/
  - /api/products/top_sellers/
  - /api/products/new_arrivals/
  - url: /api/products/?ordering={ordering}&page_size=20
    ordering: [-popularity, -sales_count]   # the first the API honours
`

func writePlan(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "warm-plan.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The README's plan file for a DRF app warms the fixture as warmup_cache
// does; pinned to the ordering the app has, it writes exactly warmup_cache's
// keys, no more.
func TestWarmPlanFileForADjangoAppWritesWarmupCacheKeys(t *testing.T) {
	t.Parallel()
	byDjango, byCachectl := startDjango(t, djangotest.Options{}), startDjango(t, djangotest.Options{})
	byDjango.Manage(t, "warmup_cache")
	want := byDjango.logicalKeys(t)

	rep, _ := warmDjango(t, byCachectl, exitOK, "--plan", writePlan(t, drfPlan))
	if rep.Source != "plan" {
		t.Errorf("source %q, want plan", rep.Source)
	}
	got := byCachectl.logicalKeys(t)
	if extra := diff(got, want); !slices.Equal(extra, slices.Sorted(slices.Values([]string{listKey("ordering=-popularity&page_size=20"), listKey("page_size=20")}))) {
		t.Errorf("beyond warmup_cache's keys: %q", extra)
	}
	if missing := diff(want, got); len(missing) > 0 {
		t.Errorf("missing warmup_cache's %q", missing)
	}

	pinned := strings.Replace(drfPlan, "url: /api/products/?ordering={ordering}&page_size=20\n    ordering: [-popularity, -sales_count]   # the first the API honours",
		"url: /api/products/?ordering=-sales_count&page_size=20", 1)
	byCachectl.rdb.FlushDB(context.Background())
	rep, stderr := warmDjango(t, byCachectl, exitOK, "--plan", writePlan(t, pinned))
	if got := byCachectl.logicalKeys(t); !slices.Equal(got, want) {
		t.Errorf("the pinned plan wrote %q\nwarmup_cache %q", got, want)
	}
	if len(rep.Warnings) != 0 || stderr != "" || rep.URLs != 15 {
		t.Errorf("%d URLs, warnings %q, stderr %q; want warmup_cache's 15 and nothing said", rep.URLs, rep.Warnings, stderr)
	}
}

// A plan whose list is not a list (the filters endpoint answers an object)
// exits 1 naming the URL and what it got.
func TestWarmPlanExitsOneWhenAListIsNotAList(t *testing.T) {
	t.Parallel()
	app := startDjango(t, djangotest.Options{})
	plan := writePlan(t, "warm:\n  - url: /api/products/filters/\n    each:\n      - url: /api/products/?category={id}\n")
	_, stderr := warmDjango(t, app, exitFailed, "--plan", plan)
	want := "cachectl: " + app.URL() + "/api/products/filters/ is not a list: want a JSON array or a page {count, next, previous, results}, got an object with the keys categories, colors, price_range, sizes\n"
	if stderr != want {
		t.Errorf("stderr %q\nwant %q", stderr, want)
	}
}

// The Django app sends no cache header: warm learns each URL's HIT or MISS
// and its keys in Redis. From empty, every URL is a MISS; again, every URL a
// HIT; every URL's key is in Redis with a TTL (coverage 1).
func TestWarmObservesWhatADjangoAppSendsNoHeaderFor(t *testing.T) {
	t.Parallel()
	a := startDjango(t, djangotest.Options{})
	first, stderr := warmDjango(t, a, exitOK, "--min-coverage", "1")
	if first.Observed == nil || first.Observed.Mechanism != "monitor" || first.Observed.Headers {
		t.Fatalf("observed %+v, want monitor without trusting headers\n%s", first.Observed, stderr)
	}
	if count(first.Misses) != first.OK || count(first.Hits) != 0 || first.Unknown != 0 || first.OK == 0 {
		t.Fatalf("first warm: %d ok, misses %d, hits %d, unknown %d; want every URL a MISS", first.OK, count(first.Misses), count(first.Hits), first.Unknown)
	}
	if c := first.Verify.Coverage; c == nil || c.Covered != first.URLs || c.Ratio != 1 {
		t.Fatalf("coverage %+v of %d URLs, want all", c, first.URLs)
	}
	for _, r := range first.Results {
		if r.CacheFrom != "redis" || len(r.Wrote) == 0 || r.Wrote[0].TTLS <= 0 {
			t.Fatalf("%s: %+v, want its key written, observed in Redis, with a TTL", r.URL, r)
		}
	}
	if strings.Contains(stderr, "note:") {
		t.Errorf("a warm that observed as it should has notes:\n%s", stderr)
	}
	second, _ := warmDjango(t, a, exitOK)
	if count(second.Hits) != second.OK || count(second.Misses) != 0 || second.OK != first.OK {
		t.Fatalf("second warm: %d ok, hits %d, misses %d; want every URL a HIT", second.OK, count(second.Hits), count(second.Misses))
	}
}

// Without observation, a Django app's cache state is unknown, not 0; URLs
// nobody named a key for are not covered, and --min-coverage fails the run.
func TestWarmCoverageOfURLsWithoutNamedKeys(t *testing.T) {
	t.Parallel()
	a := startDjango(t, djangotest.Options{})
	urls := filepath.Join(t.TempDir(), "urls.txt")
	os.WriteFile(urls, []byte("/api/products/3/\n/api/colors/\n/api/products/?category=7\n"), 0o644)

	blind, _ := warmDjango(t, a, exitFailed, "--urls", urls, "--observe=false", "--min-coverage", "0.5")
	if blind.Hits != nil || blind.Misses != nil || blind.Unknown != 3 {
		t.Fatalf("unobserved: hits %v misses %v unknown %d, want null, null and 3", blind.Hits, blind.Misses, blind.Unknown)
	}
	if c := blind.Verify.Coverage; c == nil || c.Covered != 0 || c.Planned != 3 {
		t.Fatalf("unobserved coverage %+v, want 0 of 3", c)
	}
	a.rdb.FlushDB(context.Background())
	seen, _ := warmDjango(t, a, exitOK, "--urls", urls, "--min-coverage", "1")
	if count(seen.Misses) != 3 || seen.Verify.Coverage.Covered != 3 {
		t.Fatalf("observed: misses %d coverage %+v, want 3 and 3 of 3", count(seen.Misses), seen.Verify.Coverage)
	}
	var keys []string
	for _, r := range seen.Results {
		keys = append(keys, r.Key)
	}
	want := []string{"product:3", "product_colors:all", listKey("category=7")}
	if !slices.Equal(keys, want) {
		t.Fatalf("learned keys %v, want %v", keys, want)
	}
}

// With MONITOR denied by ACL, warm observes with CLIENT TRACKING and says
// so: the MISSes are exact (Redis showed the writes), the HITs approximate.
func TestWarmObservesWithTrackingWhereMonitorIsDenied(t *testing.T) {
	t.Parallel()
	a := startDjango(t, djangotest.Options{})
	if err := a.redis.Client(t).Do(context.Background(), "ACL", "SETUSER", "nomonitor", "on", ">pw", "~*", "&*", "+@all", "-monitor").Err(); err != nil {
		t.Fatal(err)
	}
	user := []string{"--redis", fmt.Sprintf("redis://nomonitor:pw@%s/%d", a.redis.Addr, a.DB)}
	first, stderr := warmDjango(t, a, exitOK, user...)
	if o := first.Observed; o == nil || o.Mechanism != "tracking" || !strings.Contains(o.Degraded, "MONITOR refused") {
		t.Fatalf("observed %+v, want tracking and why\n%s", first.Observed, stderr)
	}
	if !strings.Contains(stderr, "MONITOR refused") {
		t.Errorf("stderr does not say MONITOR was refused:\n%s", stderr)
	}
	if count(first.Misses) != first.OK || first.Verify.Coverage.Ratio != 1 {
		t.Fatalf("tracked first warm: misses %d of %d, coverage %+v", count(first.Misses), first.OK, first.Verify.Coverage)
	}
	second, _ := warmDjango(t, a, exitOK, user...)
	if count(second.Hits) != second.OK {
		t.Fatalf("tracked second warm: hits %d of %d", count(second.Hits), second.OK)
	}
	for _, r := range second.Results {
		if r.CacheFrom != "redis-approximate" {
			t.Fatalf("%s: cache from %q, want redis-approximate", r.URL, r.CacheFrom)
		}
	}
}
