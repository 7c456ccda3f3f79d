package djangotest_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/djangotest"
)

// marker is a TTL no cache.set of the app gives: a key that still has it
// after a request was not written again.
const marker = 77 * time.Hour

type category struct {
	ID           int  `json:"id"`
	Parent       *int `json:"parent"`
	ProductCount int  `json:"product_count"`
}

func TestCachedRoutesWriteTheirSeedKeyOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts djangotest.Options
	}{
		{"defaults", djangotest.Options{}},
		{"db 3, prefix shop, version 7", djangotest.Options{DB: new(3), Prefix: "shop", Version: 7}},
	} {
		onFixture(t, tc.name, tc.opts, func(t *testing.T, f *fixture) {
			if o := tc.opts; o.DB != nil && (f.app.DB != *o.DB || f.app.Key("k") != o.Prefix+":"+strconv.Itoa(o.Version)+":k") {
				t.Fatalf("the app reports db %d and key %q, want db %d and %s:%d:k", f.app.DB, f.app.Key("k"), *o.DB, o.Prefix, o.Version)
			}
			for _, r := range seedRoutes {
				t.Run(r.path, func(t *testing.T) { requireWrittenOnce(t, f, r) })
			}
			t.Run("parameters in another order share the key", func(t *testing.T) {
				before := f.keys(t)
				f.get(t, "/api/products/?ordering=-price&category=7")
				requireKeys(t, "after the reordered GET", f.keys(t), before)
			})
			t.Run("no other db holds keys", func(t *testing.T) {
				for db := range 16 {
					if db == f.app.DB {
						continue
					}
					c := redis.NewClient(&redis.Options{Addr: f.redis.Addr, DB: db})
					n, err := c.DBSize(context.Background()).Result()
					c.Close()
					if err != nil || n != 0 {
						t.Errorf("db %d holds %d keys (%v), want none: the app caches in db %d", db, n, err, f.app.DB)
					}
				}
			})
		})
	}
}

// requireWrittenOnce checks that r's first GET writes exactly its key, with
// the seed's TTL, and a second GET answers the same from the cache without
// writing it again. Neither sends a cache header.
func requireWrittenOnce(t *testing.T, f *fixture, r route) {
	t.Helper()
	before := f.keys(t)
	resp, first := f.get(t, r.path)
	requireKeys(t, "after the first GET", f.keys(t), slices.Sorted(slices.Values(append(slices.Clone(before), r.key))))
	f.requireTTL(t, r.key, r.ttl)
	requireNoCacheHeaders(t, resp)

	if err := f.rdb.PExpire(context.Background(), f.app.Key(r.key), marker).Err(); err != nil {
		t.Fatal(err)
	}
	resp, second := f.get(t, r.path)
	if got := f.pttl(t, r.key); got < marker-time.Minute {
		t.Errorf("the second GET wrote %s again (PTTL %v)", r.key, got)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("the second GET answered another body:\n%.300s\n%.300s", first, second)
	}
	requireNoCacheHeaders(t, resp)
}

func requireNoCacheHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	for _, h := range []string{"X-Cache", "X-Cache-Key", "X-DB-Queries"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("%s: %q, want no such header by default", h, v)
		}
	}
}

func TestValuesAreEncodedAsConfigured(t *testing.T) {
	t.Parallel()
	// decode turns a stored value into what the app's serializer wrote,
	// failing when it is not in the expected format.
	isPickle := func(t *testing.T, v []byte) {
		t.Helper()
		// PROTO opcode, protocol 2 or above; STOP at the end.
		if len(v) < 3 || v[0] != 0x80 || v[1] < 2 || v[len(v)-1] != '.' {
			t.Fatalf("value %.40q is not a pickle", v)
		}
		if !bytes.Contains(v, []byte("Black")) {
			t.Fatalf("the pickle does not hold the colors: %.80q", v)
		}
	}
	inflate := func(t *testing.T, v []byte) []byte {
		t.Helper()
		zr, err := zlib.NewReader(bytes.NewReader(v))
		if err != nil {
			t.Fatalf("value %.40q is not zlib: %v", v, err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("inflating: %v", err)
		}
		return out
	}
	sameJSON := func(t *testing.T, stored, body []byte) {
		t.Helper()
		var a, b any
		if err := json.Unmarshal(stored, &a); err != nil {
			t.Fatalf("value %.40q is not JSON: %v", stored, err)
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("stored JSON\n%.300s\nis not the response\n%.300s", stored, body)
		}
	}
	tests := []struct {
		name  string
		opts  djangotest.Options
		check func(t *testing.T, stored, body []byte)
	}{
		{"pickle by default", djangotest.Options{}, func(t *testing.T, v, _ []byte) { isPickle(t, v) }},
		{"json", djangotest.Options{Serializer: djangotest.JSON}, sameJSON},
		{"zlib pickle", djangotest.Options{Compressor: djangotest.Zlib}, func(t *testing.T, v, _ []byte) { isPickle(t, inflate(t, v)) }},
		{"zlib json", djangotest.Options{Serializer: djangotest.JSON, Compressor: djangotest.Zlib}, func(t *testing.T, v, body []byte) {
			sameJSON(t, inflate(t, v), body)
		}},
	}
	for _, tc := range tests {
		onFixture(t, tc.name, tc.opts, func(t *testing.T, f *fixture) {
			_, body := f.get(t, "/api/colors/")
			tc.check(t, f.raw(t, "product_colors:all"), body)
			// And the app reads back what it wrote.
			f.requireTTL(t, "product_colors:all", time.Hour)
			if _, again := f.get(t, "/api/colors/"); !bytes.Equal(body, again) {
				t.Fatalf("a hit answered\n%.300s\nnot\n%.300s", again, body)
			}
		})
	}
}

func TestWritesInvalidateWhatTheSignalsSay(t *testing.T) {
	t.Parallel()
	f := start(t, djangotest.Options{})
	var variants []struct {
		ID int `json:"id"`
	}
	f.getJSON(t, "/api/products/3/variants/", &variants)
	if len(variants) == 0 {
		t.Fatal("product 3 has no variants")
	}
	variant := fmt.Sprintf("/api/variants/%d/", variants[0].ID)

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		gone   []string // globs of the logical keys the write removes
	}{
		{"product", http.MethodPatch, "/api/products/3/", map[string]any{"price": "9.99"},
			[]string{"product:3", "product:3:*", "products:*"}},
		{"variant", http.MethodPatch, variant, map[string]any{"stock": 7},
			[]string{"product:3", "product:3:*", "products:*"}},
		{"stock", http.MethodPost, variant + "reduce_stock/", map[string]any{"quantity": 1},
			[]string{"product:3", "product:3:*", "products:*"}},
		{"category", http.MethodPatch, "/api/categories/7/", map[string]any{"name": "Notebooks"},
			[]string{"categories:all", "category:7", "products:list:*", "products:filters:*"}},
		{"color", http.MethodPatch, "/api/colors/1/", map[string]any{"name": "Jet"},
			[]string{"product_colors:all", "products:filters:*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.flush(t)
			f.warm(t, seedRoutes, bystanderRoutes)
			before := f.keys(t)
			requireKeys(t, "warmed", before, keysOf(seedRoutes, bystanderRoutes))
			f.write(t, tc.method, tc.path, tc.body)
			requireKeys(t, tc.method+" "+tc.path, f.keys(t), without(before, tc.gone...))
		})
	}

	t.Run("the next read sees the write", func(t *testing.T) {
		f.flush(t)
		var p struct {
			Price string `json:"price"`
		}
		f.getJSON(t, "/api/products/3/", &p)
		f.write(t, http.MethodPatch, "/api/products/3/", map[string]any{"price": "1.50"})
		f.getJSON(t, "/api/products/3/", &p)
		if p.Price != "1.50" {
			t.Fatalf("product 3 costs %s after the PATCH, want 1.50", p.Price)
		}
	})
	t.Run("an anonymous write is refused and invalidates nothing", func(t *testing.T) {
		f.flush(t)
		f.warm(t, seedRoutes)
		before := f.keys(t)
		resp, body := f.do(t, http.MethodPatch, "/api/products/3/", map[string]any{"price": "2.00"}, false)
		// DRF's default authentication starts with SessionAuthentication,
		// which names no scheme: 403, not 401.
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("WWW-Authenticate") != "" {
			t.Fatalf("anonymous PATCH: %s, WWW-Authenticate %q: %s; want 403 without a challenge",
				resp.Status, resp.Header.Get("WWW-Authenticate"), body)
		}
		requireKeys(t, "after the refused write", f.keys(t), before)
	})
}

func TestClearProductCache(t *testing.T) {
	t.Parallel()
	f := start(t, djangotest.Options{})
	ctx := context.Background()
	const foreign = "django.contrib.sessions.cacheabc" // another user of the same cache
	db0 := redis.NewClient(&redis.Options{Addr: f.redis.Addr, DB: 0})
	t.Cleanup(func() { db0.Close() })

	tests := []struct {
		args  []string
		gone  []string // globs; "*" is the whole database
		print string
	}{
		{[]string{"--products"}, []string{"product:*", "products:*"}, "Cleared %d product cache keys"},
		{[]string{"--categories"}, []string{"categories:*", "category:*"}, "Cleared %d category cache keys"},
		{[]string{"--colors"}, []string{"product_colors:*"}, "Cleared %d color cache keys"},
		{[]string{"--product-id", "3"}, []string{"product:3", "product:3:*", "products:*"}, "Cleared the caches of product 3"},
		{[]string{"--all"}, []string{"*"}, "Cleared all caches"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f.flush(t)
			f.warm(t, seedRoutes, bystanderRoutes)
			if err := f.rdb.Set(ctx, f.app.Key(foreign), "s", time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			if err := db0.Set(ctx, "elsewhere", "x", 0).Err(); err != nil {
				t.Fatal(err)
			}
			before := f.keys(t)
			out := f.app.Manage(t, append([]string{"clear_product_cache"}, tc.args...)...)
			after := f.keys(t)
			want := without(before, tc.gone...)
			requireKeys(t, "clear_product_cache "+strings.Join(tc.args, " "), after, want)
			if msg := tc.print; strings.Contains(msg, "%d") {
				msg = fmt.Sprintf(msg, len(before)-len(after))
				if !strings.Contains(out, msg) {
					t.Errorf("output %q, want %q", out, msg)
				}
			} else if !strings.Contains(out, msg) {
				t.Errorf("output %q, want %q", out, msg)
			}
			if n, _ := db0.Exists(ctx, "elsewhere").Result(); n != 1 {
				t.Errorf("db 0's key is gone: clear_product_cache must only touch db %d", f.app.DB)
			}
		})
	}

	t.Run("no option", func(t *testing.T) {
		f.warm(t, seedRoutes)
		before := f.keys(t)
		out, err := f.app.TryManage("clear_product_cache")
		if _, ok := err.(*exec.ExitError); !ok || !strings.Contains(out, "nothing to clear") {
			t.Fatalf("clear_product_cache without an option: %v: %q, want a non-zero exit saying nothing to clear", err, out)
		}
		requireKeys(t, "after clear_product_cache without an option", f.keys(t), before)
	})
}

// warmupKeys are the entries the seed's warmup_cache caches, read off the
// app's own categories: all categories and colors, top sellers, new
// arrivals, the top 20 by the popular ordering, filters for every main
// category, and lists of the 5 categories with the most products.
func warmupKeys(categories []category, popular string) []string {
	keys := []string{
		"categories:all", "product_colors:all", "products:top_sellers", "products:new_arrivals",
		"products:list:" + paramsHash("ordering="+popular+"&page_size=20"),
	}
	for _, c := range categories {
		if c.Parent == nil {
			keys = append(keys, "products:filters:"+paramsHash(fmt.Sprintf("category=%d", c.ID)))
		}
	}
	byCount := slices.Clone(categories)
	slices.SortStableFunc(byCount, func(a, b category) int { return b.ProductCount - a.ProductCount })
	for _, c := range byCount[:min(5, len(byCount))] {
		keys = append(keys, "products:list:"+paramsHash(fmt.Sprintf("category=%d", c.ID)))
	}
	slices.Sort(keys)
	return keys
}

func TestWarmupCache(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		opts    djangotest.Options
		popular string
	}{
		{"defaults", djangotest.Options{}, "-sales_count"},
		{"with a popularity ordering", djangotest.Options{
			OrderingFields: append(djangotest.DefaultOrderingFields(), "popularity"),
		}, "-popularity"},
	} {
		onFixture(t, tc.name, tc.opts, func(t *testing.T, f *fixture) {
			var categories []category
			f.getJSON(t, "/api/categories/", &categories)
			f.flush(t)
			want := warmupKeys(categories, tc.popular)
			if len(want) != 15 {
				t.Fatalf("the plan has %d entries, want 15: %q", len(want), want)
			}

			out := f.app.Manage(t, "warmup_cache", "--verbose")
			requireKeys(t, "after warmup_cache", f.keys(t), want)
			if n := strings.Count(out, "  cached "); n != len(want) {
				t.Errorf("--verbose printed %d entries, want %d:\n%s", n, len(want), out)
			}
			if !strings.Contains(out, "Warmed 15 cache entries") {
				t.Errorf("output %q, want the summary line", out)
			}
			f.requireTTL(t, "categories:all", 30*time.Minute)
			f.requireTTL(t, "products:top_sellers", 30*time.Minute)
			f.requireTTL(t, want[slices.IndexFunc(want, func(k string) bool { return strings.HasPrefix(k, "products:list:") })], 10*time.Minute)

			// The warmed entries are the ones the API reads: a GET is a hit.
			popular := "/api/products/?ordering=" + tc.popular + "&page_size=20"
			key := "products:list:" + paramsHash("ordering="+tc.popular+"&page_size=20")
			if err := f.rdb.PExpire(context.Background(), f.app.Key(key), marker).Err(); err != nil {
				t.Fatal(err)
			}
			var page productPage
			f.getJSON(t, popular, &page)
			if got := f.pttl(t, key); got < marker-time.Minute {
				t.Errorf("GET %s missed the warmed %s", popular, key)
			}
			if len(page.Results) != 20 || !page.bySales() {
				t.Errorf("the warmed popular page is not the top 20 by sales: %+v", page.Results)
			}
			// Page links name the app, not a test host.
			if !strings.HasPrefix(page.Next, f.app.URL()+"/api/products/?") {
				t.Errorf("next = %q, want a link on %s", page.Next, f.app.URL())
			}

			// Run again: every entry is rebuilt with its full TTL.
			f.app.Manage(t, "warmup_cache")
			if got := f.pttl(t, key); got > 10*time.Minute {
				t.Errorf("a second warmup_cache left %s with PTTL %v, want a fresh 10 min", key, got)
			}
		})
	}
}

func TestCacheHeaderMiddleware(t *testing.T) {
	t.Parallel()
	f := start(t, djangotest.Options{CacheHeader: true})
	for _, r := range seedRoutes {
		for _, want := range []string{"MISS", "HIT"} {
			if resp, _ := f.get(t, r.path); resp.Header.Get("X-Cache") != want {
				t.Errorf("GET %s: X-Cache %q, want %s", r.path, resp.Header.Get("X-Cache"), want)
			}
		}
	}
	if resp, _ := f.get(t, "/api/"); resp.Header.Get("X-Cache") != "" {
		t.Errorf("GET /api/ (not cached): X-Cache %q, want none", resp.Header.Get("X-Cache"))
	}
	if resp, _ := f.get(t, "/api/products/3/"); resp.Header.Get("X-Cache-Key") != "" || resp.Header.Get("X-DB-Queries") != "" {
		t.Errorf("the middleware sends more than X-Cache: %v", resp.Header)
	}
}

func TestCategoryShapes(t *testing.T) {
	t.Parallel()
	onFixture(t, "plain list with parent and product_count by default", djangotest.Options{}, func(t *testing.T, f *fixture) {
		var list []map[string]any
		f.getJSON(t, "/api/categories/", &list)
		if len(list) != f.app.Catalog.Categories {
			t.Fatalf("%d categories, want %d", len(list), f.app.Catalog.Categories)
		}
		mains := 0
		for _, c := range list {
			if _, ok := c["parent"]; !ok {
				t.Fatalf("category without parent: %v", c)
			}
			if c["parent"] == nil {
				mains++
			}
			if _, ok := c["parent_id"]; ok {
				t.Fatalf("category with parent_id: %v", c)
			}
			if _, ok := c["product_count"].(float64); !ok {
				t.Fatalf("category without a product_count: %v", c)
			}
		}
		if mains != 5 {
			t.Errorf("%d main categories, want 5", mains)
		}
	})
	onFixture(t, "parent_id and no product_count", djangotest.Options{ParentField: "parent_id", OmitProductCount: true}, func(t *testing.T, f *fixture) {
		var c map[string]any
		f.getJSON(t, "/api/categories/7/", &c)
		if c["parent_id"] != float64(1) {
			t.Errorf("category 7: parent_id %v, want 1: %v", c["parent_id"], c)
		}
		for _, absent := range []string{"parent", "product_count"} {
			if _, ok := c[absent]; ok {
				t.Errorf("category 7 has %q: %v", absent, c)
			}
		}
	})
	onFixture(t, "paginated", djangotest.Options{PaginateCategories: true, TokenAuth: true, Compressor: djangotest.Zlib}, func(t *testing.T, f *fixture) {
		// With Token auth and zlib too: the switches compose.
		var page struct {
			Count    int        `json:"count"`
			Next     *string    `json:"next"`
			Previous *string    `json:"previous"`
			Results  []category `json:"results"`
		}
		f.getJSON(t, "/api/categories/", &page)
		if page.Count != f.app.Catalog.Categories || len(page.Results) != 20 || page.Next == nil || page.Previous != nil {
			t.Fatalf("first page: count %d, %d results, next %v, previous %v; want %d, 20, a link, none",
				page.Count, len(page.Results), page.Next, page.Previous, f.app.Catalog.Categories)
		}
		if want := f.app.URL() + "/api/categories/?page=2"; *page.Next != want {
			t.Errorf("next = %q, want %q", *page.Next, want)
		}
		keys := f.keys(t)
		f.getJSON(t, "/api/categories/?page=2", &page)
		if len(page.Results) != f.app.Catalog.Categories-20 || page.Next != nil || page.Results[0].ID != 21 {
			t.Errorf("second page: %d results from id %d, next %v; want the remaining %d from 21",
				len(page.Results), page.Results[0].ID, page.Next, f.app.Catalog.Categories-20)
		}
		// One entry holds every category; pages are cut from it.
		requireKeys(t, "after page 2", f.keys(t), keys)
		requireKeys(t, "the category keys", keys, []string{"categories:all"})
		if v := f.raw(t, "categories:all"); len(v) < 2 || v[0] != 0x78 {
			t.Errorf("categories:all = %.20q, want a zlib stream", v)
		}
		if resp, _ := f.do(t, http.MethodDelete, "/api/categories/28/", nil, false); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous DELETE: %s, want 401", resp.Status)
		}
	})
}

func TestOrderingFields(t *testing.T) {
	t.Parallel()
	onFixture(t, "DRF ignores an unknown ordering", djangotest.Options{}, func(t *testing.T, f *fixture) {
		var plain, popular, sales productPage
		f.getJSON(t, "/api/products/", &plain)
		f.getJSON(t, "/api/products/?ordering=-popularity", &popular)
		f.getJSON(t, "/api/products/?ordering=-sales_count", &sales)
		if !slices.Equal(plain.ids(), popular.ids()) {
			t.Errorf("?ordering=-popularity is not the default order: %v vs %v", popular.ids(), plain.ids())
		}
		if !sales.bySales() || plain.bySales() {
			t.Errorf("?ordering=-sales_count sorted by sales: %v, the default order: %v; want true, false", sales.bySales(), plain.bySales())
		}
		// Ignored or not, each query is its own entry.
		if n := len(without(f.keys(t), "products:list:*")); n != 0 || len(f.keys(t)) != 3 {
			t.Errorf("keys %q, want three product lists", f.keys(t))
		}
	})
	onFixture(t, "popularity when configured", djangotest.Options{OrderingFields: append(djangotest.DefaultOrderingFields(), "popularity")}, func(t *testing.T, f *fixture) {
		var popular productPage
		f.getJSON(t, "/api/products/?ordering=-popularity", &popular)
		if !popular.bySales() {
			t.Errorf("?ordering=-popularity is not by sales: %+v", popular.Results)
		}
	})
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	f := start(t, djangotest.Options{TokenAuth: true})
	if f.app.AdminToken == "" || !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(f.app.AdminToken) {
		t.Fatalf("AdminToken %q, want a DRF token", f.app.AdminToken)
	}
	body := strings.NewReader(`{"name": "Laptops"}`)
	for _, tc := range []struct {
		name   string
		header string
		want   int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"Bearer", "Bearer " + f.app.AdminToken, http.StatusUnauthorized},
		{"Token", "Token " + f.app.AdminToken, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _ = body.Seek(0, io.SeekStart)
			req, _ := http.NewRequest(http.MethodPatch, f.app.URL()+"/api/categories/7/", body)
			req.Header.Set("Content-Type", "application/json")
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("PATCH with %q: %s: %s, want %d", tc.header, resp.Status, data, tc.want)
			}
			if tc.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != "Token" {
				t.Errorf("401 with WWW-Authenticate %q, want Token", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("Authorize", func(t *testing.T) {
		f.write(t, http.MethodPatch, "/api/colors/2/", map[string]any{"hex_code": "#FEFEFE"})
	})
}

func TestTestRedisCacheScript(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "redis-cli", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("test_redis_cache.sh needs %s: run scripts/test.sh, or on Debian/Ubuntu: sudo apt-get install -y redis-tools curl", tool)
		}
	}
	f := start(t, djangotest.Options{Prefix: "shop", Version: 3})
	f.warm(t, seedRoutes) // cleared by the script first
	cmd := exec.Command("bash", filepath.Join(f.app.Dir, "app", "test_redis_cache.sh"))
	cmd.Env = append(f.app.Env(), "API_URL="+f.app.URL())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("test_redis_cache.sh: %v\n%s\n%s", err, out, f.app.LogTail(20))
	}
	for _, want := range []string{
		"Redis: PONG", "Cleared all caches", "Warmed 15 cache entries",
		"shop:3:categories:all", "shop:3:product:1:recommendations", "keyspace_hits:", "All cache checks passed",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Cleared, warmed (15), then the 10 timed endpoints: 6 of them are not
	// in the warm plan.
	if n := len(f.keys(t)); n != 15+6 {
		t.Errorf("%d keys after the script, want 21: %q", n, f.keys(t))
	}
}
