package warm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The Django fixture and the reference server answer most of what the
// plans read (cmd/cachectl's tests run warm against both). These tests
// cover what neither sends: parents nested by a serializer's depth,
// relative and runaway next links, refused orderings, failing pages.

type answer struct {
	status int
	body   string
}

// shapes serves fixed answers by request URI; anything else is a 404. The
// URIs asked are read once the discovery is over.
func shapes(t *testing.T, answers map[string]answer) (*url.URL, *[]string) {
	t.Helper()
	var asked []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RequestURI())
		mu.Unlock()
		a, ok := answers[r.URL.RequestURI()]
		if !ok {
			a = answer{404, `{"detail":"Not found."}`}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(cmp.Or(a.status, 200))
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u, &asked
}

// pathsOf lists a plan's URLs as paths, with "done" after those already requested.
func pathsOf(api *url.URL, p Plan) []string {
	var out []string
	for _, r := range p.Requests {
		s := strings.TrimPrefix(r.URL, api.String())
		if r.Done != nil {
			s += " done"
			if !r.Done.OK() {
				s += " " + r.Done.Error
			}
		}
		out = append(out, s)
	}
	return out
}

// products is a page of n products by descending sales (sorted) or by id.
func products(n int, sorted bool) string {
	var items []string
	for i := 1; i <= n; i++ {
		sales := i * 7 % 13
		if sorted {
			sales = 100 - i
		}
		items = append(items, fmt.Sprintf(`{"id":%d,"sales_count":%d}`, i, sales))
	}
	return `{"count":99,"next":null,"previous":null,"results":[` + strings.Join(items, ",") + `]}`
}

func TestDiscoverBuiltinReadsNestedParentsAcrossRelativePages(t *testing.T) {
	api, _ := shapes(t, map[string]answer{
		"/api/categories/": {body: `{"count":4,"next":"/api/categories/?page=2","previous":null,"results":[
			{"id":1,"parent":null,"product_count":30},
			{"id":2,"parent":null,"product_count":10}]}`},
		"/api/categories/?page=2": {body: `{"count":4,"next":null,"previous":"/api/categories/","results":[
			{"id":3,"parent":{"id":1,"name":"Men"},"product_count":20},
			{"id":4,"parent":{"id":2,"name":"Women"},"product_count":5}]}`},
		"/api/products/?ordering=-popularity&page_size=20":  {status: 400, body: `{"ordering":["invalid"]}`},
		"/api/products/?ordering=-sales_count&page_size=20": {body: products(20, true)},
	})
	plan, err := BuiltinPlan(context.Background(), Config{}, api)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/api/categories/ done", "/api/categories/?page=2 done",
		"/api/products/filters/?category=1", "/api/products/filters/?category=2",
		"/api/products/?category=1", "/api/products/?category=3", "/api/products/?category=2", "/api/products/?category=4",
		"/api/colors/", "/api/products/top_sellers/", "/api/products/new_arrivals/",
		"/api/products/?ordering=-sales_count&page_size=20 done",
	}
	if got := pathsOf(api, plan); !slices.Equal(got, want) {
		t.Errorf("plan\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	wantWarn := []string{"popular products: ordering=-popularity was refused (HTTP 400); warmed ordering=-sales_count instead"}
	if !slices.Equal(plan.Warnings, wantWarn) {
		t.Errorf("warnings %q, want %q", plan.Warnings, wantWarn)
	}
}

func TestDiscoverStopsWhereNextLinksLeaveLoopOrRunOn(t *testing.T) {
	page := func(next string) answer {
		return answer{body: `{"count":1,"next":` + next + `,"previous":null,"results":[{"id":1,"parent":null}]}`}
	}
	api, asked := shapes(t, map[string]answer{
		"/away/":        page(`"http://other.example.test/away/?page=2"`),
		"/loop/":        page(`"/loop/?page=2"`),
		"/loop/?page=2": page(`"/loop/"`),
		"/long/":        page(`"/long/?page=2"`),
		"/long/?page=2": page(`"/long/?page=3"`),
	})
	spec, err := ParseSpec(strings.NewReader(`warm:
  - {url: /away/, each: [{url: "/x/{id}/"}]}
  - {url: /loop/, each: [{url: "/x/{id}/"}]}
  - {url: /long/, max_pages: 2, each: [{url: "/x/{id}/"}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Discover(context.Background(), Config{}, api, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		api.String() + "/away/: next http://other.example.test/away/?page=2 leads away from " + api.String() + "; the pages after page 1 are not read",
		api.String() + "/loop/: page 2 links back to an earlier page; the pages after page 2 are not read",
		api.String() + "/long/: read 2 pages, the most max_pages allows; the pages after page 2 are not read",
	}
	if !slices.Equal(plan.Warnings, want) {
		t.Errorf("warnings\n  %s\nwant\n  %s", strings.Join(plan.Warnings, "\n  "), strings.Join(want, "\n  "))
	}
	if slices.Contains(*asked, "/long/?page=3") || slices.ContainsFunc(*asked, func(s string) bool { return strings.Contains(s, "other") }) {
		t.Errorf("asked %q", *asked)
	}
}

// Without product_count the top categories are ranked by the count their
// product lists say they have; a list that fails ranks last, and is a
// failed request of the plan.
func TestDiscoverRanksByCountWithoutProductCount(t *testing.T) {
	cats := `[{"id":1,"parent":null},{"id":2,"parent":null},{"id":3,"parent":null},` +
		`{"id":4,"parent":null},{"id":5,"parent":null},{"id":6,"parent":null},{"id":7,"parent":1}]`
	count := func(n int) answer {
		return answer{body: fmt.Sprintf(`{"count":%d,"next":null,"previous":null,"results":[]}`, n)}
	}
	api, _ := shapes(t, map[string]answer{
		"/api/categories/":                                 {body: cats},
		"/api/products/?category=1":                        count(50),
		"/api/products/?category=2":                        {status: 503, body: `{}`},
		"/api/products/?category=3":                        count(70),
		"/api/products/?category=4":                        count(10),
		"/api/products/?category=5":                        count(60),
		"/api/products/?category=6":                        count(20),
		"/api/products/?ordering=-popularity&page_size=20": {body: products(20, true)},
	})
	plan, err := BuiltinPlan(context.Background(), Config{Retries: 0}, api)
	if err != nil {
		t.Fatal(err)
	}
	var lists []string
	for _, p := range pathsOf(api, plan) {
		if strings.HasPrefix(p, "/api/products/?category=") {
			lists = append(lists, p)
		}
	}
	want := []string{
		"/api/products/?category=3 done", "/api/products/?category=5 done", "/api/products/?category=1 done",
		"/api/products/?category=6 done", "/api/products/?category=4 done", "/api/products/?category=2 done HTTP 503",
	}
	if !slices.Equal(lists, want) {
		t.Errorf("lists %q\nwant %q", lists, want)
	}
	for _, w := range []string{
		"top 5 categories: no item of " + api.String() + "/api/categories/ has product_count; chosen instead among the items where parent|parent_id = null, by the count of their /api/products/?category={id} pages (most first)",
		"top 5 categories: 1 of 6 pages did not say their count; they rank last",
		"top 5 categories: 1 more pages were requested to rank them, and are warmed too",
	} {
		if !slices.Contains(plan.Warnings, w) {
			t.Errorf("warnings %q lack %q", plan.Warnings, w)
		}
	}
}

func TestDiscoverFailsWhereThePlanCannotBeCarriedOut(t *testing.T) {
	api, _ := shapes(t, map[string]answer{
		"/api/categories/": {body: `[{"id":1,"name":"Men"},{"id":2,"name":"Women"}]`},
		"/api/empty/":      {body: `[]`},
		"/api/detail/":     {body: `{"detail":"Authentication credentials were not provided."}`},
	})
	_, err := BuiltinPlan(context.Background(), Config{}, api)
	want := "main categories: no item of " + api.String() + "/api/categories/ has parent or parent_id (where parent|parent_id = null)"
	if !errors.Is(err, ErrShape) || err.Error() != want {
		t.Errorf("categories without a parent field: %v, want %q", err, want)
	}
	for file, want := range map[string]string{
		"warm:\n  - {url: /api/empty/, each: [{url: '/x/{id}/'}]}\n":                            "/x/{id}/: " + api.String() + "/api/empty/ has no items",
		"warm:\n  - {url: /api/detail/, each: [{url: '/x/{id}/'}]}\n":                           api.String() + `/api/detail/ is not a list: want a JSON array or a page {count, next, previous, results}, got an object with the key "detail"`,
		"warm:\n  - {url: /api/categories/, each: [{sort: -product_count, url: '/x/{id}/'}]}\n": "/x/{id}/: no item of " + api.String() + "/api/categories/ has product_count to sort by",
	} {
		spec, err := ParseSpec(strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Discover(context.Background(), Config{}, api, spec)
		if !errors.Is(err, ErrShape) || err.Error() != want {
			t.Errorf("%s: %v\nwant %q", file, err, want)
		}
	}
}

// A list the API does not answer is a failed request of the plan, and its
// steps are left out with a warning; every ordering refused is one too.
func TestDiscoverGoesOnPastAFailedListOrRefusedOrderings(t *testing.T) {
	api, _ := shapes(t, map[string]answer{
		"/p/?o=-a": {status: 400, body: `{}`},
		"/p/?o=-b": {status: 400, body: `{}`},
	})
	spec, err := ParseSpec(strings.NewReader("warm:\n  - {url: /gone/, each: [{url: '/x/{id}/'}]}\n  - {url: '/p/?o={ordering}', ordering: [-a, -b]}\n  - /colors/\n"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Discover(context.Background(), Config{}, api, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pathsOf(api, plan), []string{"/gone/ done HTTP 404", "/p/?o=-a done HTTP 400", "/colors/"}; !slices.Equal(got, want) {
		t.Errorf("plan %q, want %q", got, want)
	}
	want := []string{
		api.String() + "/gone/: not read (HTTP 404), so the pages built from its items are not warmed",
		"/p/?o={ordering}: ordering=-a was refused (HTTP 400); ordering=-b was refused (HTTP 400)",
	}
	if !slices.Equal(plan.Warnings, want) {
		t.Errorf("warnings %q\nwant %q", plan.Warnings, want)
	}
}
