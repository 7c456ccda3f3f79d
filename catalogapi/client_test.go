package catalogapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

const testToken = "catalogapi-test-token"

// startServe serves a small reference catalog (what `cachectl serve` runs)
// on httptest, cached in a private redis-server.
func startServe(t *testing.T) *Client {
	t.Helper()
	srv := redistest.Start(t)
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{Redis: srv.ClientOptions(), Store: catalog.StoreConfig{SeedProducts: 40},
		Schema: keyspace.New("catalogapi", 1), AdminToken: testToken, RedisTimeout: time.Second})
	return newTestClient(t, api.URL.String())
}

func newTestClient(t *testing.T, raw string) *Client {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	hc, base := NewClient(u)
	return New(base, hc).WithTimeout(10 * time.Second)
}

// startDjango runs the Django fixture with its own redis-server.
func startDjango(t *testing.T, opts djangotest.Options) *djangotest.App {
	t.Helper()
	opts.Redis = redistest.Start(t).Addr
	return djangotest.Start(t, opts)
}

func countMain(cats Categories) int {
	n := 0
	for _, cat := range cats.Items {
		if cat.Main {
			n++
		}
	}
	return n
}

func TestParseCacheHeaders(t *testing.T) {
	for _, tc := range []struct {
		h    http.Header
		want CacheHeaders
	}{
		{http.Header{"X-Cache": {"hit"}, "X-Cache-Key": {"product:1"}, "X-Db-Queries": {"0"}}, CacheHeaders{"HIT", "product:1", 0}},
		{http.Header{"X-Cache": {" MISS "}, "X-Db-Queries": {"7"}}, CacheHeaders{"MISS", "", 7}},
		{http.Header{"X-Db-Queries": {"many"}}, CacheHeaders{"", "", -1}},
		{http.Header{}, CacheHeaders{"", "", -1}},
	} {
		if got := ParseCacheHeaders(tc.h); got != tc.want {
			t.Errorf("ParseCacheHeaders(%v) = %+v, want %+v", tc.h, got, tc.want)
		}
	}
}

// The reference server names the state, the key and the queries: a MISS
// that queried the database, then a HIT that did not.
func TestHeadersOfTheReferenceServer(t *testing.T) {
	c := startServe(t)
	ctx := t.Context()
	u := c.ProductURL(1)
	miss, err := c.Get(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	hit, err := c.Get(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if !miss.Success() || miss.Cache != "MISS" || miss.Key != "product:1" || miss.DBQueries < 1 || len(miss.Body) == 0 {
		t.Errorf("first request: %d %+v, %d bytes", miss.Status, miss.CacheHeaders, len(miss.Body))
	}
	if hit.Cache != "HIT" || hit.Key != "product:1" || hit.DBQueries != 0 || hit.Latency <= 0 {
		t.Errorf("second request: %d %+v in %s", hit.Status, hit.CacheHeaders, hit.Latency)
	}
	d, err := c.Send(ctx, Request{URL: u, Discard: true})
	if err != nil || d.Body != nil || d.Cache != "HIT" {
		t.Errorf("discarded: %v, body %q, %+v", err, d.Body, d.CacheHeaders)
	}
}

// The reference server's categories: a plain list with parent and
// product_count; five main categories.
func TestCategoriesOfTheReferenceServer(t *testing.T) {
	c := startServe(t)
	cats, err := c.Categories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, cat := range cats.Items {
		if cat.ProductCount < 0 {
			t.Errorf("category %d without product_count", cat.ID)
		}
	}
	if mains := countMain(cats); mains != 5 || cats.Total != int64(len(cats.Items)) || cats.Response.Status != http.StatusOK {
		t.Errorf("%d main categories of %d (total %d)", mains, len(cats.Items), cats.Total)
	}
	ps, err := c.Products(t.Context(), 2)
	if err != nil || len(ps) != 2 {
		t.Fatalf("products: %v, %+v", err, ps)
	}
	if _, ok := ParseCents(ps[0].Price); !ok {
		t.Errorf("price %s", ps[0].Price)
	}
}

// The Django app as its documentation sets it up sends no cache headers,
// lists its categories plainly with "parent", and answers a write without
// credentials with a Basic challenge, which a token cannot meet: no second try.
func TestDjangoDefaults(t *testing.T) {
	app := startDjango(t, djangotest.Options{})
	c := newTestClient(t, app.URL())
	ctx := t.Context()
	r, err := c.Get(ctx, c.ProductURL(1))
	if err != nil || !r.Success() {
		t.Fatalf("GET: %v %+v", err, r)
	}
	if r.CacheHeaders != (CacheHeaders{DBQueries: -1}) {
		t.Errorf("headers without cache headers: %+v", r.CacheHeaders)
	}
	cats, err := c.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mains := countMain(cats)
	if mains != app.Catalog.MainCategories || cats.Total != int64(app.Catalog.Categories) {
		t.Errorf("%d main of %d categories, want %d of %d", mains, cats.Total, app.Catalog.MainCategories, app.Catalog.Categories)
	}
	if main, ok := cats.Main(); !ok || main.ProductCount < 0 {
		t.Errorf("main category %+v, %v", main, ok)
	}

	admin := c.Admin("not-a-token", "")
	w, err := admin.SetPrice(ctx, 1, 1234)
	if err != nil || w.Status != http.StatusUnauthorized && w.Status != http.StatusForbidden {
		t.Fatalf("write without credentials: %v, HTTP %d", err, w.Status)
	}
	if admin.Scheme() != SchemeBearer {
		t.Errorf("scheme %q after a Basic challenge, want Bearer kept", admin.Scheme())
	}

	// Basic: the credentials of --api, which the transport holds.
	u := "http://" + djangotest.AdminUser + ":" + djangotest.AdminPassword + "@" + app.Addr
	bc := newTestClient(t, u)
	ps, err := bc.Products(ctx, 1)
	if err != nil || len(ps) != 1 {
		t.Fatalf("products: %v %+v", err, ps)
	}
	old, _ := ParseCents(ps[0].Price)
	basic := bc.Admin("", SchemeBasic)
	for _, price := range []Cents{old + 1, old} {
		if w, err := basic.SetPrice(ctx, ps[0].ID, price); err != nil || !w.Success() {
			t.Fatalf("basic write of %s: %v, HTTP %d %s", price, err, w.Status, w.Body)
		}
	}
}

// DRF variants: paginated categories, "parent_id", no product_count, and
// TokenAuthentication, whose 401 names the Token scheme the write then uses.
func TestDjangoVariants(t *testing.T) {
	app := startDjango(t, djangotest.Options{PaginateCategories: true, ParentField: "parent_id", OmitProductCount: true, TokenAuth: true, CacheHeader: true})
	c := newTestClient(t, app.URL())
	ctx := t.Context()
	cats, err := c.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cats.Total != int64(app.Catalog.Categories) || len(cats.Items) == 0 || len(cats.Items) > 20 {
		t.Errorf("total %d, %d on the first page; the catalog has %d", cats.Total, len(cats.Items), app.Catalog.Categories)
	}
	main, ok := cats.Main()
	if !ok || main.ProductCount != -1 {
		t.Errorf("main category %+v, %v; want one, without product_count", main, ok)
	}
	for _, cat := range cats.Items {
		if cat.ID > int64(app.Catalog.MainCategories) && cat.Main {
			t.Errorf("subcategory %d taken for a main one", cat.ID)
		}
	}
	r, err := c.Get(ctx, c.URL("/api/colors/"))
	if err != nil {
		t.Fatal(err)
	}
	if r2, _ := c.Get(ctx, c.URL("/api/colors/")); r.Cache != "MISS" || r2.Cache != "HIT" || r.DBQueries != -1 {
		t.Errorf("X-Cache %q then %q, queries %d", r.Cache, r2.Cache, r.DBQueries)
	}

	ps, err := c.Products(ctx, 1)
	if err != nil || len(ps) != 1 {
		t.Fatalf("products: %v %+v", err, ps)
	}
	old, _ := ParseCents(ps[0].Price)
	fixed := c.Admin(app.AdminToken, SchemeBearer)
	if w, err := fixed.SetPrice(ctx, ps[0].ID, old+1); err != nil || w.Status != http.StatusUnauthorized || w.Challenge() != "Token" {
		t.Fatalf("Bearer to a Token API: %v, HTTP %d, challenge %q", err, w.Status, w.Challenge())
	}
	auto := c.Admin(app.AdminToken, "")
	for _, price := range []Cents{old + 1, old} {
		if w, err := auto.SetPrice(ctx, ps[0].ID, price); err != nil || !w.Success() {
			t.Fatalf("write of %s: %v, HTTP %d %s", price, err, w.Status, w.Body)
		}
	}
	if auto.Scheme() != SchemeToken {
		t.Errorf("scheme %q, want Token from the 401", auto.Scheme())
	}
}

// No server at all: UnreachableError; one that answers, then a request
// that fails: RequestError with the URL.
func TestErrors(t *testing.T) {
	api := httptest.NewServer(http.NotFoundHandler())
	c := newTestClient(t, api.URL)
	api.Close()
	_, err := c.Get(t.Context(), c.URL("/api/categories/"))
	if !errors.As(err, new(*UnreachableError)) {
		t.Errorf("error %v, want *UnreachableError", err)
	}

	api = httptest.NewServer(http.NotFoundHandler())
	defer api.Close()
	c = newTestClient(t, api.URL)
	_, err = c.Categories(t.Context())
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusNotFound {
		t.Errorf("error %v, want a 404 StatusError", err)
	}
}

// A read-only client reads, and refuses every method that may change data
// before the request leaves: the server never sees it.
func TestReadOnlyClientRefusesWritesBeforeSending(t *testing.T) {
	var seen atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(api.Close)
	u, _ := url.Parse(api.URL)
	client, _ := NewClient(u)
	if !ReadOnly(client) {
		t.Fatal("ReadOnly did not take the client from NewClient")
	}
	get, _ := http.NewRequest(http.MethodGet, api.URL+"/api/products/", nil)
	if resp, err := Do(client, get); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("read-only GET: %v", err)
	} else {
		resp.Body.Close()
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		req, _ := http.NewRequest(m, api.URL+"/api/products/1/", strings.NewReader(`{"price":"1.00"}`))
		_, err := Do(client, req)
		var ro *ReadOnlyError
		if !errors.Is(err, ErrReadOnly) || !errors.As(err, &ro) || ro.Method != m {
			t.Errorf("%s: err %v, want a read-only refusal naming %s", m, err, m)
		}
	}
	if n := seen.Load(); n != 1 {
		t.Fatalf("the server saw %d requests, want only the GET", n)
	}
}
