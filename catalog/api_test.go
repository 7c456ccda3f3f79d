package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func httptestServer(t *testing.T, s *Server) string {
	t.Helper()
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func TestRefusedWritesChangeNeitherDatabaseNorCache(t *testing.T) {
	e := newEnv(t)
	var vs []Variant
	decode(t, e.mustGet("/api/variants/?product=1").body, &vs)
	dupSKU := `{"sku":"` + vs[0].SKU + `"}`
	otherVariant := "/api/variants/" + itoa(vs[1].ID) + "/"
	huge := `{"name":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	cases := []struct {
		name, method, path, body, token string
		status                          int
	}{
		{"malformed json", "PATCH", "/api/products/4/", `{"name":`, testToken, 400},
		{"not an object", "PATCH", "/api/products/4/", `["name"]`, testToken, 400},
		{"two objects", "PATCH", "/api/products/4/", `{"name":"a"}{"name":"b"}`, testToken, 400},
		{"wrong type", "PATCH", "/api/products/4/", `{"name":42}`, testToken, 400},
		{"price as garbage", "PATCH", "/api/products/4/", `{"price":"12.345"}`, testToken, 400},
		{"negative price", "PATCH", "/api/products/4/", `{"price":-1}`, testToken, 400},
		{"unknown field", "PATCH", "/api/products/4/", `{"name":"x","colour":"red"}`, testToken, 400},
		{"missing required", "PUT", "/api/products/4/", `{"name":"x"}`, testToken, 400},
		{"id as string", "PATCH", "/api/products/4/", `{"category":"2"}`, testToken, 400},
		{"missing category", "PATCH", "/api/products/4/", `{"category":9999}`, testToken, 400},
		{"quantity zero", "POST", "/api/variants/1/reduce_stock/", `{"quantity":0}`, testToken, 400},
		{"quantity fraction", "POST", "/api/variants/1/reduce_stock/", `{"quantity":1.5}`, testToken, 400},
		{"quantity string", "POST", "/api/variants/1/increase_stock/", `{"quantity":"3"}`, testToken, 400},
		{"insufficient stock", "POST", "/api/variants/1/reduce_stock/", `{"quantity":999999}`, testToken, 409},
		{"oversized body", "PATCH", "/api/products/4/", huge, testToken, 413},
		{"wrong method", "DELETE", "/api/products/", "", testToken, 405},
		{"wrong method on an action", "GET", "/api/variants/1/reduce_stock/", "", testToken, 405},
		{"missing token", "PATCH", "/api/products/4/", `{"name":"x"}`, "", 401},
		{"wrong token", "PATCH", "/api/products/4/", `{"name":"x"}`, "nope", 401},
		{"unknown product", "PATCH", "/api/products/99999/", `{"name":"x"}`, testToken, 404},
		{"duplicate sku", "PATCH", otherVariant, dupSKU, testToken, 409},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, u := range []string{"/api/products/4/", "/api/variants/?product=1", "/api/products/?category=2"} {
				e.mustGet(u)
			}
			beforeProduct := e.mustGet("/api/products/4/").body
			beforeVariants := e.mustGet("/api/variants/?product=1").body
			size := e.dbsize()
			r := e.do(c.method, c.path, c.body, c.token)
			want := c.status
			if r.status != want {
				t.Fatalf("%d %s, want %d", r.status, r.body, want)
			}
			if msg, _ := r.field(t, "error").(string); msg == "" {
				t.Fatalf("no JSON error: %s", r.body)
			}
			if want == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
			if want == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if e.dbsize() != size {
				t.Fatalf("DBSIZE changed from %d to %d", size, e.dbsize())
			}
			p, v := e.mustGet("/api/products/4/"), e.mustGet("/api/variants/?product=1")
			if p.body != beforeProduct || v.body != beforeVariants || p.cache() != "HIT" || v.cache() != "HIT" {
				t.Fatal("a refused write changed the data or the cache")
			}
			fresh, err := e.store.Product(context.Background(), 4)
			if err != nil || !strings.Contains(beforeProduct, `"name":"`+fresh.Name+`"`) {
				t.Fatal("a refused write changed the database")
			}
		})
	}
}

func TestWritesAreRefusedWithoutAConfiguredToken(t *testing.T) {
	e := newEnv(t)
	open := NewServer(Config{Store: e.store, Redis: e.srv.cfg.Redis, Schema: e.srv.cfg.Schema})
	e.url = httptestServer(t, open)
	for _, tok := range []string{"", testToken, "anything"} {
		r := e.do(http.MethodPatch, "/api/products/4/", `{"name":"x"}`, tok)
		if r.status != http.StatusForbidden {
			t.Fatalf("token %q: %d, want 403", tok, r.status)
		}
	}
	if r := e.mustGet("/api/products/4/"); strings.Contains(r.body, `"name":"x"`) {
		t.Fatal("write went through")
	}
}

func TestGracefulShutdownCompletesInFlightRequests(t *testing.T) {
	e := newEnv(t)
	var slow atomic.Bool
	slow.Store(true)
	entered := make(chan struct{}, 1)
	e.store.beforeRead = func(context.Context) {
		if slow.Load() {
			select {
			case entered <- struct{}{}:
			default:
			}
			time.Sleep(400 * time.Millisecond) // a slow query under test: it is in flight while the server shuts down
		}
	}
	base, cancel, served := e.serve()
	e.url = base
	done := make(chan response, 1)
	go func() { done <- e.get("/api/products/20/") }()
	<-entered
	cancel()
	r := <-done
	if r.status != 200 || !strings.Contains(r.body, `"id":20`) {
		t.Fatalf("in-flight request during shutdown: %d %s", r.status, r.body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after a clean shutdown: %v", err)
	}
	if _, err := http.Get(e.url + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

func TestOperationsEndpoints(t *testing.T) {
	e := newEnv(t)
	if r := e.mustGet("/healthz"); r.field(t, "status") != "ok" {
		t.Fatalf("healthz: %s", r.body)
	}
	if r := e.mustGet("/readyz"); r.field(t, "db") != "ok" || r.field(t, "redis") != "ok" {
		t.Fatalf("readyz: %s", r.body)
	}
	e.mustGet("/api/products/3/")
	e.mustGet("/api/products/3/")
	if r := e.do(http.MethodHead, "/api/products/3/", "", ""); r.status != 200 || r.cache() != "HIT" || r.body != "" {
		t.Errorf("HEAD of a cached route: %d %s %q", r.status, r.cache(), r.body)
	}
	e.get("/api/products/abc/")
	e.admin(http.MethodPatch, "/api/products/3/", `{"popularity":5}`)
	m := e.mustGet("/metrics").body
	for _, want := range []string{
		`catalog_http_requests_total{code="200",method="GET",route="/api/products/{id}/"} 2`,
		`catalog_http_requests_total{code="200",method="PATCH",route="/api/products/{id}/"} 1`,
		`catalog_http_requests_total{code="404",method="GET",route="other"} 1`,
		`catalog_cache_requests_total{group="products",result="hit"} 2`,
		`catalog_cache_requests_total{group="products",result="miss"} 1`,
		`catalog_invalidations_total{family="lists",result="ok"} 1`,
		`catalog_http_request_duration_seconds_bucket{route="/api/products/{id}/"`,
		`catalog_db_queries_total`,
		`catalog_db_simulated_latency_seconds 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// Invented methods, ids and paths must not mint metric series: whatever a
// client sends, /metrics stays the same size.
func TestMetricLabelsStayBoundedWhateverTheRequest(t *testing.T) {
	e := newEnv(t)
	series := func() int {
		n := 0
		for _, line := range strings.Split(e.mustGet("/metrics").body, "\n") {
			if strings.HasPrefix(line, "catalog_http_requests_total{") {
				n++
			}
		}
		return n
	}
	paths := []string{"/api/products/", "/api/products/5/", "/api/nothing/", "/metrics"}
	const n = 500
	for i := range n {
		method := fmt.Sprintf("M%04dX", i)
		if r := e.do(method, paths[i%len(paths)], "", ""); r.status != http.StatusMethodNotAllowed && r.status != http.StatusNotFound {
			t.Fatalf("%s %s: %d, want 405 or 404", method, paths[i%len(paths)], r.status)
		}
		e.get(fmt.Sprintf("/api/products/%d/", 100000+i)) // 404s for ids that do not exist
	}
	if got := series(); got > 10 {
		t.Fatalf("after %d requests with invented methods, /metrics has %d request series: labels follow the input", n, got)
	}
	m := e.mustGet("/metrics").body
	for _, want := range []string{
		`catalog_http_requests_total{code="405",method="OTHER",route="/api/products/"} 125`,
		`catalog_http_requests_total{code="404",method="GET",route="/api/products/{id}/"} 500`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// Categories are named as DRF's ModelSerializer names them, so that every
// command reads the reference server as it reads a Django app: "parent" is
// the parent's id, or null for a main category, and there is no "parent_id",
// in reads and in writes.
func TestCategoriesNameTheirParentAsDjangoRESTFrameworkDoes(t *testing.T) {
	e := newEnv(t, inMemory())
	var cats []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(e.mustGet("/api/categories/").body), &cats); err != nil {
		t.Fatal(err)
	}
	mains := map[string]bool{}
	for _, c := range cats {
		if _, ok := c["parent_id"]; ok {
			t.Fatalf("category with parent_id: %s", c["id"])
		}
		parent, ok := c["parent"]
		if !ok {
			t.Fatalf("category %s has no parent field", c["id"])
		}
		if string(parent) == "null" {
			mains[string(c["id"])] = true
		} else if !mains[string(parent)] {
			t.Errorf("category %s: parent %s, want the id of a main category", c["id"], parent)
		}
	}
	if len(mains) != 5 {
		t.Errorf("%d categories with parent null, want the 5 main ones", len(mains))
	}

	r := e.admin("POST", "/api/categories/", `{"name":"Garden Tools","parent":1}`)
	if r.status != http.StatusCreated || fmt.Sprint(r.field(t, "parent")) != "1" {
		t.Errorf("create with parent 1: %d %s", r.status, r.body)
	}
	r = e.admin("POST", "/api/categories/", `{"name":"Old Style","parent_id":1}`)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `unknown field \"parent_id\" (accepted: name, slug, parent)`) {
		t.Errorf("create with parent_id: %d %s, want a 400 naming the accepted fields", r.status, r.body)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	ctx := context.Background()
	cfg := StoreConfig{SeedProducts: 1500}
	a, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pa, err := a.Product(ctx, 1234)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := b.Product(ctx, 1234)
	if pa.Name != pb.Name || pa.Price != pb.Price || len(pa.Variants) != len(pb.Variants) || pa.CreatedAt != pb.CreatedAt {
		t.Fatalf("two seeds differ: %+v vs %+v", pa, pb)
	}
	cats, _ := a.Categories(ctx)
	colors, _ := a.Colors(ctx)
	mains := 0
	for _, c := range cats {
		if c.ParentID == nil {
			mains++
		}
	}
	if mains != 5 || len(cats) <= 5 || len(colors) < 10 {
		t.Fatalf("seed has %d main categories of %d, %d colors", mains, len(cats), len(colors))
	}
	n, _, _ := a.ListProducts(ctx, ListQuery{Ordering: "id", Page: 1, PageSize: 1})
	if n != 1500 {
		t.Fatalf("%d products, want 1500", n)
	}
}

func TestDatabaseFileKeepsWrites(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/catalog.db"
	s, err := Open(ctx, StoreConfig{Path: path, SeedProducts: 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveColor(ctx, Color{Name: "Kept", Hex: "#010203"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, StoreConfig{Path: path, SeedProducts: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	colors, _ := s.Colors(ctx)
	if colors[len(colors)-1].Name != "Kept" {
		t.Fatalf("a write to --db was not kept: %+v", colors)
	}
}
