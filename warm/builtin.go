package warm

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/cachectl/cachectl/internal/redact"
)

// category is what the plan needs of /api/categories/.
type category struct {
	ID           int64  `json:"id"`
	ParentID     *int64 `json:"parent"`
	ProductCount int64  `json:"product_count"`
}

// The fixed logical keys of the catalog API (DESIGN.md §5), which the
// built-in plan can name before it runs; hashed keys come from X-Cache-Key.
const (
	keyCategories  = "categories:all"
	keyColors      = "product_colors:all"
	keyTopSellers  = "products:top_sellers"
	keyNewArrivals = "products:new_arrivals"
)

// BuiltinPlan discovers the seed's warm-up from the API itself: all
// categories, all colors, top 10 sellers, top 10 new arrivals, top 20 popular
// products, filters for every main category, and product lists for the top 5
// categories by product count. Reading the categories is the plan's first
// request, already done.
func BuiltinPlan(ctx context.Context, cfg Config, api *url.URL) (Plan, error) {
	cfg = withDefaults(cfg)
	catURL := api.JoinPath("/api/categories/").String()
	start := time.Now()
	body, status, cache, err := getJSON(ctx, cfg, catURL)
	done := Result{URL: catURL, Status: status, Cache: cache, Attempts: 1, Key: keyCategories,
		LatencyMs: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		if errors.As(err, new(*UnreachableError)) {
			return Plan{}, err
		}
		return Plan{}, fmt.Errorf("discover the plan: %w", err)
	}
	var cats []category
	if err := json.Unmarshal(body, &cats); err != nil {
		return Plan{}, fmt.Errorf("discover the plan: %s is not a list of categories: %w", catURL, err)
	}

	path := func(p string, q url.Values) string {
		u := api.JoinPath(p)
		u.RawQuery = q.Encode()
		return u.String()
	}
	reqs := []Request{
		{URL: catURL, Key: keyCategories, Done: &done},
		{URL: path("/api/colors/", nil), Key: keyColors},
		{URL: path("/api/products/top_sellers/", nil), Key: keyTopSellers, Collect: true},
		{URL: path("/api/products/new_arrivals/", nil), Key: keyNewArrivals, Collect: true},
		{URL: path("/api/products/", url.Values{"ordering": {"-popularity"}, "page_size": {"20"}}), Collect: true},
	}
	for _, c := range cats {
		if c.ParentID == nil {
			reqs = append(reqs, Request{URL: path("/api/products/filters/", url.Values{"category": {strconv.FormatInt(c.ID, 10)}})})
		}
	}
	top := slices.Clone(cats)
	slices.SortStableFunc(top, func(a, b category) int {
		return cmp.Or(cmp.Compare(b.ProductCount, a.ProductCount), cmp.Compare(a.ID, b.ID))
	})
	for _, c := range top[:min(5, len(top))] {
		reqs = append(reqs, Request{URL: path("/api/products/", url.Values{"category": {strconv.FormatInt(c.ID, 10)}}), Collect: true})
	}
	return Plan{Source: "builtin", Requests: reqs}, nil
}

// ProductIDs reads the product ids of a catalog response: a list of products
// (top sellers, new arrivals) or a page of them ({"results": [...]}). Anything
// else has none.
func ProductIDs(body []byte) []int64 {
	type product struct {
		ID int64 `json:"id"`
	}
	var list []product
	if err := json.Unmarshal(body, &list); err != nil {
		var page struct {
			Results []product `json:"results"`
		}
		if json.Unmarshal(body, &page) != nil {
			return nil
		}
		list = page.Results
	}
	ids := make([]int64, 0, len(list))
	for _, p := range list {
		if p.ID > 0 {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// DeepPlan warms what a product page needs of each product the plan saw:
// its detail, its variants and its recommendations, in the order given,
// each product once.
func DeepPlan(api *url.URL, ids []int64) Plan {
	plan := Plan{Source: "deep"}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		n := strconv.FormatInt(id, 10)
		plan.Requests = append(plan.Requests,
			Request{URL: api.JoinPath("/api/products/", n, "/").String(), Key: "product:" + n},
			Request{URL: api.JoinPath("/api/products/", n, "/variants/").String(), Key: "product:" + n + ":variants"},
			Request{URL: api.JoinPath("/api/products/", n, "/recommendations/").String(), Key: "product:" + n + ":recommendations"},
		)
	}
	return plan
}

// getJSON fetches one discovery document (bounded to maxBody).
func getJSON(ctx context.Context, cfg Config, u string) (body []byte, status int, cache string, err error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, "", err
	}
	req.Header = cfg.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := Do(cfg.Client, req)
	if err != nil {
		return nil, 0, "", err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, resp.StatusCode, "", &RequestError{Method: req.Method, URL: u, Status: resp.StatusCode, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, "", fmt.Errorf("%s: HTTP %d", redact.URL(u), resp.StatusCode)
	}
	return body, resp.StatusCode, resp.Header.Get("X-Cache"), nil
}
