package catalog

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/keyspace"
)

// listKey is the key the server writes for a product list query.
func listKey(t *testing.T, rawQuery string) string {
	t.Helper()
	p, err := parseParams(rawQuery, listParams, listDefaults)
	if err != nil {
		t.Fatal(err)
	}
	return "products:list:" + p.hash()
}

func paramsKey(t *testing.T, family, name, rawQuery string) string {
	t.Helper()
	p, err := parseParams(rawQuery, map[string]paramKind{name: idParam}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return "products:" + family + ":" + p.hash()
}

func TestEveryCachedRouteMissesThenHitsWithTheSeedKeyAndTTL(t *testing.T) { testEveryCachedRoute(t) }

func testEveryCachedRoute(t *testing.T, opts ...envOption) {
	e := newEnv(t, opts...)
	cases := []struct {
		path, logical string
		ttl           time.Duration
	}{
		{"/api/categories/", "categories:all", 30 * time.Minute},
		{"/api/categories/2/", "category:2", 30 * time.Minute},
		{"/api/colors/", "product_colors:all", time.Hour},
		{"/api/variants/?product=4", "product:4:variants:list", 15 * time.Minute},
		{"/api/products/?category=1&ordering=-price", listKey(t, "category=1&ordering=-price"), 10 * time.Minute},
		{"/api/products/4/", "product:4", 15 * time.Minute},
		{"/api/products/4/variants/", "product:4:variants", 15 * time.Minute},
		{"/api/products/4/recommendations/", "product:4:recommendations", 20 * time.Minute},
		{"/api/products/top_sellers/", "products:top_sellers", 30 * time.Minute},
		{"/api/products/new_arrivals/?limit=3", "products:new_arrivals", 15 * time.Minute},
		{"/api/products/personalized/?user_id=9", paramsKey(t, "personalized", "user_id", "user_id=9"), 20 * time.Minute},
		{"/api/products/filters/?category=1", paramsKey(t, "filters", "category", "category=1"), 30 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			first := e.mustGet(c.path)
			if first.cache() != "MISS" || first.queries() < 1 {
				t.Fatalf("first GET: X-Cache %q, X-DB-Queries %d; want MISS with queries", first.cache(), first.queries())
			}
			second := e.mustGet(c.path)
			if second.cache() != "HIT" || second.queries() != 0 {
				t.Fatalf("second GET: X-Cache %q, X-DB-Queries %d; want HIT with 0", second.cache(), second.queries())
			}
			if first.body != second.body {
				t.Fatalf("HIT body differs from MISS body:\n%s\n%s", first.body, second.body)
			}
			if k := first.header.Get("X-Cache-Key"); k != c.logical || second.header.Get("X-Cache-Key") != k {
				t.Fatalf("X-Cache-Key %q, want %q", k, c.logical)
			}
			key := "ecommerce:1:" + c.logical
			ttl, err := e.rdb.TTL(context.Background(), key).Result()
			if err != nil || ttl > c.ttl || ttl < c.ttl-5*time.Second {
				t.Fatalf("key %s: TTL %v (err %v), want about %v", key, ttl, err, c.ttl)
			}
		})
	}
}

func TestTopListsSliceOneCachedTop50(t *testing.T) {
	e := newEnv(t)
	var all []map[string]any
	r := e.mustGet("/api/products/top_sellers/?limit=50")
	decode(t, r.body, &all)
	for _, c := range []struct {
		q    string
		want int
	}{{"", 10}, {"?limit=3", 3}, {"?limit=80", 50}} {
		r := e.mustGet("/api/products/top_sellers/" + c.q)
		var got []map[string]any
		decode(t, r.body, &got)
		if len(got) != c.want || r.cache() != "HIT" {
			t.Fatalf("top_sellers%s: %d items (%s), want %d from the cached top 50", c.q, len(got), r.cache(), c.want)
		}
		if got[0]["id"] != all[0]["id"] {
			t.Fatalf("top_sellers%s starts with %v, want %v", c.q, got[0]["id"], all[0]["id"])
		}
	}
	if e.dbsize() != 3 { // the session, the top 50, the index of listings
		t.Fatalf("DBSIZE %d: limits must share one key", e.dbsize())
	}
}

func TestPrefixAndKeyVersionNameTheKeys(t *testing.T) {
	e := newEnv(t, withSchema(keyspace.New("shop", 7)))
	e.mustGet("/api/categories/")
	e.mustGet("/api/products/5/")
	for _, k := range []string{"shop:7:categories:all", "shop:7:product:5"} {
		if !e.exists(k) {
			t.Errorf("%s missing", k)
		}
	}
	for _, k := range []string{"ecommerce:1:categories:all", "ecommerce:1:product:5"} {
		if e.exists(k) {
			t.Errorf("%s written under the default prefix", k)
		}
	}
}

func TestListKeysAreCanonical(t *testing.T) {
	e := newEnv(t)
	e.mustGet("/api/products/?ordering=-price&page_size=5&category=2")
	same := []string{
		"/api/products/?category=2&page_size=5&ordering=-price",
		"/api/products/?page_size=5&category=2&ordering=-price&page=1",
	}
	for _, p := range same {
		if r := e.mustGet(p); r.cache() != "HIT" {
			t.Errorf("%s: %s, want HIT on the key of the same query in another order", p, r.cache())
		}
	}
	if r := e.mustGet("/api/products/?ordering=-price&page_size=6&category=2"); r.cache() != "MISS" {
		t.Errorf("page_size 6 shared the key of page_size 5")
	}
	e.mustGet("/api/products/?page_size=100")
	if r := e.mustGet("/api/products/?page_size=500"); r.cache() != "HIT" {
		t.Errorf("page_size 500 should be clamped to 100 and share its key, got %s", r.cache())
	} else if n := len(r.field(t, "results").([]any)); n != 100 {
		t.Errorf("page_size 500 returned %d results, want 100", n)
	}
	r := e.mustGet("/api/products/?page_size=5&category=2&ordering=-price")
	if next, _ := r.field(t, "next").(string); next != "/api/products/?category=2&ordering=-price&page=2&page_size=5" {
		t.Errorf("next link %q", next)
	}
}

func TestBadParametersAre4xxAndWriteNoKey(t *testing.T) {
	e := newEnv(t)
	before := e.dbsize()
	bad := []string{
		"/api/products/?page=0", "/api/products/?page=-1", "/api/products/?page=abc",
		"/api/products/?page_size=0", "/api/products/?page_size=99999999999999",
		"/api/products/?foo=1", "/api/products/?page=1&page=2", "/api/products/?ordering=bogus",
		"/api/products/?ordering=price;DROP", "/api/products/?min_price=abc", "/api/products/?max_price=1.999",
		"/api/products/?min_price=10&max_price=5", "/api/products/?category=0", "/api/products/?category=1*",
		"/api/products/?category=%2A", "/api/products/?category=1%0d%0aFLUSHALL", "/api/products/?search=a%0d%0ab",
		"/api/products/?category=", "/api/products/?category=999", "/api/products/?color=99",
		"/api/products/?page=9999", "/api/products/?search=%ff",
		"/api/products/abc/", "/api/products/0/", "/api/products/-1/", "/api/products/99999999999999999999/",
		"/api/products/1*/", "/api/products/%2A/", "/api/products/1%0d%0a/", "/api/products/99999/",
		"/api/products/5", "/api/categories/?x=1", "/api/categories/999/", "/api/colors/?page=1",
		"/api/variants/", "/api/variants/?product=abc", "/api/variants/?product=99999",
		"/api/products/top_sellers/?limit=0", "/api/products/top_sellers/?limit=x", "/api/products/new_arrivals/?limit=1&limit=2",
		"/api/products/personalized/", "/api/products/personalized/?user_id=-4", "/api/products/filters/?category=abc",
		"/api/products/filters/?category=999", "/api/products/4/variants/?x=1", "/api/nothing/",
	}
	for _, p := range bad {
		r := e.get(p)
		if r.status < 400 || r.status > 499 {
			t.Errorf("GET %s: %d, want 4xx", p, r.status)
			continue
		}
		if msg, _ := r.field(t, "error").(string); msg == "" {
			t.Errorf("GET %s: no JSON error in %s", p, r.body)
		}
	}
	if after := e.dbsize(); after != before {
		keys, _ := e.rdb.Keys(context.Background(), "*").Result()
		t.Fatalf("DBSIZE went from %d to %d: bad requests wrote keys %v", before, after, keys)
	}
}

// warmURLs are read before each write so that every family has keys.
var warmURLs = []string{
	"/api/categories/", "/api/categories/2/", "/api/colors/", "/api/variants/?product=4",
	"/api/products/?category=2", "/api/products/4/", "/api/products/4/variants/",
	"/api/products/4/recommendations/", "/api/products/5/", "/api/products/5/recommendations/",
	"/api/products/top_sellers/", "/api/products/new_arrivals/", "/api/products/personalized/?user_id=3",
	"/api/products/filters/?category=1",
}

func TestEveryWriteInvalidatesItsKeysAndNothingElse(t *testing.T) { testEveryWriteInvalidates(t) }

func testEveryWriteInvalidates(t *testing.T, opts ...envOption) {
	lists := []string{"products:top_sellers", "products:new_arrivals", listKey(t, "category=2"),
		paramsKey(t, "personalized", "user_id", "user_id=3"), paramsKey(t, "filters", "category", "category=1")}
	product4 := []string{"product:4", "product:4:variants", "product:4:variants:list"}
	recs := []string{"product:4:recommendations", "product:5:recommendations"}
	categories := []string{"categories:all", "category:2"}
	cat := func(groups ...[]string) []string {
		var out []string
		for _, g := range groups {
			out = append(out, g...)
		}
		return out
	}
	cases := []struct {
		name, method, path, body string
		status                   int
		gone, kept               []string
		check                    func(t *testing.T, e *testEnv)
	}{
		{"product patch", "PATCH", "/api/products/4/", `{"name":"Renamed Shirt"}`, 200,
			cat(product4, recs, lists, categories), []string{"product:5", "product_colors:all"},
			func(t *testing.T, e *testEnv) {
				if name := e.mustGet("/api/products/4/").field(t, "name"); name != "Renamed Shirt" {
					t.Errorf("product 4 name %v after the write", name)
				}
			}},
		{"product put", "PUT", "/api/products/4/", `{"category":3,"name":"Whole","price":"1.50"}`, 200,
			cat(product4, recs, lists, categories), []string{"product:5", "product_colors:all"},
			func(t *testing.T, e *testEnv) {
				if p := e.mustGet("/api/products/4/").field(t, "price"); p != "1.50" {
					t.Errorf("price %v after PUT", p)
				}
			}},
		{"product create", "POST", "/api/products/", `{"category":2,"name":"Brand New","price":12}`, 201,
			cat(recs, lists, categories), cat(product4, []string{"product_colors:all"}),
			func(t *testing.T, e *testEnv) {
				r := e.mustGet("/api/products/?category=2")
				if !strings.Contains(r.body, "Brand New") && r.field(t, "next") == nil {
					t.Errorf("new product missing from its category list")
				}
			}},
		{"product delete", "DELETE", "/api/products/4/", "", 204,
			cat(product4, recs, lists, categories), []string{"product:5", "product_colors:all"},
			func(t *testing.T, e *testEnv) {
				if r := e.get("/api/products/4/"); r.status != 404 {
					t.Errorf("deleted product: %d", r.status)
				}
			}},
		{"variant create", "POST", "/api/variants/", `{"product":4,"color":1,"size":"XXL","sku":"NEW-1","stock":3}`, 201,
			cat(product4, lists, recs), cat(categories, []string{"product:5", "product_colors:all"}),
			func(t *testing.T, e *testEnv) {
				if r := e.mustGet("/api/products/4/variants/"); !strings.Contains(r.body, "NEW-1") {
					t.Errorf("new variant missing: %s", r.body)
				}
			}},
		{"variant patch", "PATCH", "/api/variants/{v}/", `{"stock":77}`, 200,
			cat(product4, lists), cat(categories, []string{"product:5", "product_colors:all"}), nil},
		{"variant delete", "DELETE", "/api/variants/{v}/", "", 204,
			cat(product4, lists), cat(categories, []string{"product:5", "product_colors:all"}), nil},
		{"reduce stock", "POST", "/api/variants/{v}/reduce_stock/", `{"quantity":1}`, 200,
			cat(product4, lists), cat(categories, recs, []string{"product:5", "product_colors:all"}), nil},
		{"increase stock", "POST", "/api/variants/{v}/increase_stock/", `{"quantity":5}`, 200,
			cat(product4, lists), cat(categories, recs, []string{"product:5", "product_colors:all"}), nil},
		{"insufficient stock", "POST", "/api/variants/{v}/reduce_stock/", `{"quantity":100000}`, 409,
			nil, cat(product4, lists, categories, recs), nil},
		{"category create", "POST", "/api/categories/", `{"name":"Garden","parent":null}`, 201,
			cat(categories, lists), cat(product4, recs, []string{"product_colors:all"}),
			func(t *testing.T, e *testEnv) {
				if r := e.mustGet("/api/categories/"); !strings.Contains(r.body, `"slug":"garden"`) {
					t.Errorf("new category missing")
				}
			}},
		{"category patch", "PATCH", "/api/categories/2/", `{"name":"Men Shirts 2"}`, 200,
			cat(categories, lists), cat(product4, recs, []string{"product_colors:all"}),
			func(t *testing.T, e *testEnv) {
				if n := e.mustGet("/api/categories/2/").field(t, "name"); n != "Men Shirts 2" {
					t.Errorf("category name %v", n)
				}
			}},
		{"category put", "PUT", "/api/categories/2/", `{"name":"Tops","slug":"tops","parent":1}`, 200,
			cat(categories, lists), cat(product4, recs, []string{"product_colors:all"}), nil},
		{"category delete refused while in use", "DELETE", "/api/categories/2/", "", 409,
			nil, cat(categories, lists), nil},
		{"color create", "POST", "/api/colors/", `{"name":"Teal","hex":"#008080"}`, 201,
			cat([]string{"product_colors:all"}, lists), cat(product4, categories, recs),
			func(t *testing.T, e *testEnv) {
				if r := e.mustGet("/api/colors/"); !strings.Contains(r.body, "Teal") {
					t.Errorf("new color missing")
				}
			}},
		{"color put", "PUT", "/api/colors/1/", `{"name":"Jet","hex":"#0a0a0a"}`, 200,
			cat([]string{"product_colors:all"}, lists), cat(product4, categories, recs), nil},
		{"color patch", "PATCH", "/api/colors/1/", `{"hex":"#0b0b0b"}`, 200,
			cat([]string{"product_colors:all"}, lists), cat(product4, categories, recs), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, opts...)
			for _, u := range warmURLs {
				e.mustGet(u)
			}
			e.rdb.Set(context.Background(), "unrelated", "x", time.Hour)
			var vs []Variant
			decode(t, e.mustGet("/api/products/4/variants/").body, &vs)
			path := strings.ReplaceAll(c.path, "{v}", itoa(vs[0].ID))
			r := e.admin(c.method, path, c.body)
			if r.status != c.status {
				t.Fatalf("%s %s: %d %s, want %d", c.method, path, r.status, r.body, c.status)
			}
			for _, k := range c.gone {
				if e.exists("ecommerce:1:" + k) {
					t.Errorf("%s survived the write", k)
				}
			}
			for _, k := range c.kept {
				if !e.exists("ecommerce:1:" + k) {
					t.Errorf("%s was removed by a write that does not touch it", k)
				}
			}
			e.checkSessionSurvives()
			if !e.exists("unrelated") {
				t.Error("an unrelated key was removed")
			}
			if c.check != nil {
				c.check(t, e)
			}
		})
	}
}

func TestColorDeleteInvalidatesColors(t *testing.T) { testColorDelete(t) }

func testColorDelete(t *testing.T, opts ...envOption) {
	e := newEnv(t, opts...)
	r := e.admin("POST", "/api/colors/", `{"name":"Unused","hex":"#123456"}`)
	id := r.field(t, "id").(float64)
	e.mustGet("/api/colors/")
	if r := e.admin("DELETE", "/api/colors/1/", ""); r.status != http.StatusConflict {
		t.Fatalf("deleting a color in use: %d", r.status)
	}
	if r := e.admin("DELETE", "/api/colors/"+itoa(int64(id))+"/", ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if e.exists("ecommerce:1:product_colors:all") {
		t.Fatal("product_colors:all survived a color delete")
	}
	if r := e.mustGet("/api/colors/"); strings.Contains(r.body, "Unused") {
		t.Fatal("deleted color still listed")
	}
	e.checkSessionSurvives()
}

func TestInvalidationNeverScansTheKeyspace(t *testing.T) {
	e := newEnv(t)
	for _, u := range warmURLs {
		e.mustGet(u)
	}
	e.admin("PATCH", "/api/products/4/", `{"popularity":1}`)
	e.admin("PATCH", "/api/categories/2/", `{"name":"X"}`)
	stats, err := e.rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"cmdstat_scan:", "cmdstat_keys:", "cmdstat_flushdb:", "cmdstat_flushall:"} {
		if strings.Contains(stats, cmd) {
			t.Errorf("invalidation used %s", strings.TrimSuffix(cmd, ":"))
		}
	}
}
