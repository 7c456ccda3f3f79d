package djangotest_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/redistest"
)

// route is a cached GET of the seed's API and the logical key it fills.
type route struct {
	path string
	key  string
	ttl  time.Duration
}

// seedRoutes are the cached endpoints with the seed's keys and TTLs.
var seedRoutes = []route{
	{"/api/categories/", "categories:all", 30 * time.Minute},
	{"/api/categories/7/", "category:7", 30 * time.Minute},
	{"/api/colors/", "product_colors:all", time.Hour},
	{"/api/variants/?product=3", "product:3:variants:list", 15 * time.Minute},
	{"/api/products/?category=7&ordering=-price", "products:list:" + paramsHash("category=7&ordering=-price"), 10 * time.Minute},
	{"/api/products/3/", "product:3", 15 * time.Minute},
	{"/api/products/3/variants/", "product:3:variants", 15 * time.Minute},
	{"/api/products/3/recommendations/", "product:3:recommendations", 20 * time.Minute},
	{"/api/products/top_sellers/", "products:top_sellers", 30 * time.Minute},
	{"/api/products/new_arrivals/", "products:new_arrivals", 15 * time.Minute},
	{"/api/products/personalized/?user_id=5", "products:personalized:" + paramsHash("user_id=5"), 20 * time.Minute},
	{"/api/products/filters/?category=1", "products:filters:" + paramsHash("category=1"), 30 * time.Minute},
}

// bystanderRoutes fill keys of another product and category, which writes
// to product 3 or category 7 must leave alone.
var bystanderRoutes = []route{
	{"/api/products/5/", "product:5", 15 * time.Minute},
	{"/api/products/5/variants/", "product:5:variants", 15 * time.Minute},
	{"/api/categories/8/", "category:8", 30 * time.Minute},
}

// productPage is a page of /api/products/.
type productPage struct {
	Next    string `json:"next"`
	Results []struct {
		ID         int `json:"id"`
		SalesCount int `json:"sales_count"`
	} `json:"results"`
}

func (p productPage) ids() []int {
	var out []int
	for _, r := range p.Results {
		out = append(out, r.ID)
	}
	return out
}

// bySales says whether the page is sorted by sales, best first.
func (p productPage) bySales() bool {
	for i := 1; i < len(p.Results); i++ {
		if p.Results[i].SalesCount > p.Results[i-1].SalesCount {
			return false
		}
	}
	return true
}

// paramsHash is generate_cache_key's digest: the md5 of the query
// parameters sorted by name, URL-encoded.
func paramsHash(query string) string {
	v, err := url.ParseQuery(query)
	if err != nil {
		panic(err)
	}
	sum := md5.Sum([]byte(v.Encode())) // Encode sorts by name
	return hex.EncodeToString(sum[:])
}

// fixture is one Django app on its own redis-server, and a client on the
// app's database to look inside it.
type fixture struct {
	app   *djangotest.App
	redis *redistest.Server
	rdb   *redis.Client
}

// onFixture runs fn as a parallel subtest named name, on its own fixture
// started with o.
func onFixture(t *testing.T, name string, o djangotest.Options, fn func(t *testing.T, f *fixture)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		fn(t, start(t, o))
	})
}

func start(t *testing.T, o djangotest.Options) *fixture {
	t.Helper()
	app, srv := djangotest.StartWithRedis(t, o)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: app.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	return &fixture{app: app, redis: srv, rdb: rdb}
}

// do sends one request; body, when not nil, goes as JSON; auth adds the
// admin's credentials.
func (f *fixture) do(t *testing.T, method, p string, body any, auth bool) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, f.app.URL()+p, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		f.app.Authorize(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", method, p, err, f.app.LogTail(30))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, p, err)
	}
	return resp, data
}

// get is a GET that must answer 200.
func (f *fixture) get(t *testing.T, p string) (*http.Response, []byte) {
	t.Helper()
	resp, body := f.do(t, http.MethodGet, p, nil, false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %.300s\n%s", p, resp.Status, body, f.app.LogTail(30))
	}
	return resp, body
}

// write is an authenticated write that must succeed.
func (f *fixture) write(t *testing.T, method, p string, body any) []byte {
	t.Helper()
	resp, data := f.do(t, method, p, body, true)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %.300s\n%s", method, p, resp.Status, data, f.app.LogTail(30))
	}
	return data
}

// getJSON is get decoding the body into v.
func (f *fixture) getJSON(t *testing.T, p string, v any) {
	t.Helper()
	_, body := f.get(t, p)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %.300s", p, err, body)
	}
}

// warm GETs every route.
func (f *fixture) warm(t *testing.T, routes ...[]route) {
	t.Helper()
	for _, rs := range routes {
		for _, r := range rs {
			f.get(t, r.path)
		}
	}
}

func (f *fixture) flush(t *testing.T) {
	t.Helper()
	if err := f.rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

// keys returns every key in the app's database, sorted, with the app's
// PREFIX:VERSION: cut off where it has it.
func (f *fixture) keys(t *testing.T) []string {
	t.Helper()
	return logicalKeys(t, f.rdb, f.app.Key(""))
}

func logicalKeys(t *testing.T, c *redis.Client, prefix string) []string {
	t.Helper()
	var keys []string
	iter := c.Scan(context.Background(), 0, "*", 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, strings.TrimPrefix(iter.Val(), prefix))
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	slices.Sort(keys)
	return keys
}

func (f *fixture) pttl(t *testing.T, logical string) time.Duration {
	t.Helper()
	d, err := f.rdb.PTTL(context.Background(), f.app.Key(logical)).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", f.app.Key(logical), err)
	}
	return d
}

func (f *fixture) raw(t *testing.T, logical string) []byte {
	t.Helper()
	v, err := f.rdb.Get(context.Background(), f.app.Key(logical)).Bytes()
	if err != nil {
		t.Fatalf("GET %s: %v", f.app.Key(logical), err)
	}
	return v
}

// requireTTL fails unless logical has a TTL within a few seconds below ttl.
func (f *fixture) requireTTL(t *testing.T, logical string, ttl time.Duration) {
	t.Helper()
	if got := f.pttl(t, logical); got > ttl || got < ttl-10*time.Second {
		t.Errorf("PTTL %s = %v, want the seed's %v (a few seconds less at most)", f.app.Key(logical), got, ttl)
	}
}

// without returns keys minus those matching any of the globs.
func without(keys []string, globs ...string) []string {
	return slices.DeleteFunc(slices.Clone(keys), func(k string) bool {
		for _, g := range globs {
			if ok, _ := path.Match(g, k); ok {
				return true
			}
		}
		return false
	})
}

func keysOf(routes ...[]route) []string {
	var keys []string
	for _, rs := range routes {
		for _, r := range rs {
			keys = append(keys, r.key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// requireKeys fails with both sets when got is not want.
func requireKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: keys\n  got  %q\n  want %q\n  extra %q\n  missing %q",
			what, got, want, minus(got, want), minus(want, got))
	}
}

func minus(a, b []string) []string {
	return slices.DeleteFunc(slices.Clone(a), func(k string) bool { return slices.Contains(b, k) })
}
