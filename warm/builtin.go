package warm

import (
	"context"
	"net/url"
	"strconv"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/keyspace"
)

// mainCategory is a category without a parent, as the reference server and
// DRF's ModelSerializer name it ("parent": an id, null, or a nested object
// with a depth) or as apps that rename it do ("parent_id").
const mainCategory = "parent|parent_id = null"

// Builtin is the seed's warmup_cache, as a spec: all categories (every page
// of them), all colors, top 10 sellers and top 10 new arrivals (the bare
// URLs, whose default limit is 10), top 20 popular products (ordered by
// popularity, or by sales where the API has no popularity), filters for
// every main category, and product lists for the top 5 categories by
// product_count. Where the categories carry no product_count, the top 5
// are chosen among the main categories by the count of their product
// lists, which assumes a main category's list holds its subcategories'
// products.
func Builtin() Spec {
	s := Spec{builtin: true, Entries: []Entry{
		{Name: "categories", URL: "/api/categories/", Key: keyspace.KeyCategories, Each: []Step{
			{Name: "main categories", Where: mustCondition(mainCategory), URL: "/api/products/filters/?category={id}"},
			{Name: "top 5 categories", Sort: mustOrder("-product_count"), Limit: 5, URL: "/api/products/?category={id}", collect: true,
				Fallback: &Step{Where: mustCondition(mainCategory), Sort: mustOrder("-count()")}},
		}},
		{URL: "/api/colors/", Key: keyspace.KeyColors},
		{URL: "/api/products/top_sellers/", Key: keyspace.KeyTopSellers, collect: true},
		{URL: "/api/products/new_arrivals/", Key: keyspace.KeyNewArrivals, collect: true},
		{Name: "popular products", URL: "/api/products/?ordering={ordering}&page_size=20",
			Ordering: []string{"-popularity", "-sales_count"}, collect: true},
	}}
	if err := s.compile(); err != nil {
		panic("warm: the built-in plan: " + err.Error())
	}
	return s
}

func mustCondition(s string) *Condition {
	c, err := ParseCondition(s)
	if err != nil {
		panic(err)
	}
	return c
}

func mustOrder(s string) *Order {
	o, err := ParseOrder(s)
	if err != nil {
		panic(err)
	}
	return o
}

// BuiltinPlan discovers the built-in plan from the API (see Builtin).
func BuiltinPlan(ctx context.Context, cfg Config, api *url.URL) (Plan, error) {
	return Discover(ctx, cfg, api, Builtin())
}

// ProductIDs reads the product ids of a catalog response (catalogapi.ProductIDs).
func ProductIDs(body []byte) []int64 { return catalogapi.ProductIDs(body) }

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
			Request{URL: api.JoinPath("/api/products/", n, "/").String(), Key: keyspace.ProductKey(id)},
			Request{URL: api.JoinPath("/api/products/", n, "/variants/").String(), Key: keyspace.ProductVariantsKey(id)},
			Request{URL: api.JoinPath("/api/products/", n, "/recommendations/").String(), Key: keyspace.ProductRecommendationsKey(id)},
		)
	}
	return plan
}
