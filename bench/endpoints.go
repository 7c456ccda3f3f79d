package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/keyspace"
)

// DefaultEndpoints finds the catalog API's cached endpoints from its own
// responses: a product and a main category to use are read from the API,
// not hard-coded. Lists may be plain JSON arrays or DRF pages
// ({"results": [...]}); a category's parent may be named "parent" (DRF's
// ModelSerializer) or "parent_id". Every endpoint is Optional: an app that
// lacks one answers 404 and it is skipped. timeout bounds each request.
func DefaultEndpoints(ctx context.Context, client *http.Client, api *url.URL, timeout time.Duration) ([]Endpoint, error) {
	c := catalogapi.New(api, client).WithTimeout(timeout)
	cats, err := c.Categories(ctx)
	if err != nil {
		return nil, discoverErr(err)
	}
	products, err := c.Products(ctx, 1)
	if err != nil {
		return nil, discoverErr(err)
	}
	if len(products) == 0 {
		return nil, fmt.Errorf("the catalog at %s has no products to benchmark", api)
	}
	id := products[0].ID
	pid := strconv.FormatInt(id, 10)
	u := func(p string, q string) string {
		s := api.JoinPath(p).String()
		if q != "" {
			s += "?" + q
		}
		return s
	}
	eps := []Endpoint{
		{Name: "product_list", URL: u("/api/products/", ""), Clear: []string{keyspace.ProductListPattern}},
		{Name: "popular", URL: u("/api/products/", "ordering=-popularity&page_size=20"), Clear: []string{keyspace.ProductListPattern}},
		{Name: "product_detail", URL: u("/api/products/"+pid+"/", ""), Clear: []string{keyspace.ProductKey(id)}},
		{Name: "variants", URL: u("/api/products/"+pid+"/variants/", ""), Clear: []string{keyspace.ProductVariantsKey(id)}},
		{Name: "recommendations", URL: u("/api/products/"+pid+"/recommendations/", ""), Clear: []string{keyspace.ProductRecommendationsKey(id)}},
		{Name: "top_sellers", URL: u("/api/products/top_sellers/", ""), Clear: []string{keyspace.KeyTopSellers}},
		{Name: "new_arrivals", URL: u("/api/products/new_arrivals/", ""), Clear: []string{keyspace.KeyNewArrivals}},
	}
	if main, ok := cats.Main(); ok {
		eps = append(eps, Endpoint{Name: "filters", URL: u("/api/products/filters/", "category="+strconv.FormatInt(main.ID, 10)), Clear: []string{keyspace.ProductFiltersPattern}})
	}
	eps = append(eps,
		Endpoint{Name: "categories", URL: u("/api/categories/", ""), Clear: []string{keyspace.KeyCategories}},
		Endpoint{Name: "colors", URL: u("/api/colors/", ""), Clear: []string{keyspace.KeyColors}},
	)
	for i := range eps {
		eps[i].Optional = true
	}
	return eps, nil
}

// discoverErr names the discovery in an error; an API that cannot be
// reached, or an interruption, stays as it is.
func discoverErr(err error) error {
	if errors.As(err, new(*catalogapi.UnreachableError)) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("discover endpoints: %w", err)
}

// ReadEndpoints reads an endpoints file (YAML, or JSON, which YAML reads too):
// a list of {name, url, method, headers, clear, weight}. Paths are resolved
// against api.
func ReadEndpoints(path string, api *url.URL) ([]Endpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var eps []Endpoint
	if err := yaml.Unmarshal(data, &eps); err != nil {
		return nil, fmt.Errorf("%s: %s", filepath.Base(path), strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("%s: no endpoints", filepath.Base(path))
	}
	var names []string
	for i := range eps {
		e := &eps[i]
		if e.Name == "" {
			return nil, fmt.Errorf("%s: endpoint %d has no name", filepath.Base(path), i+1)
		}
		if slices.Contains(names, e.Name) {
			return nil, fmt.Errorf("%s: endpoint %q appears twice", filepath.Base(path), e.Name)
		}
		names = append(names, e.Name)
		ref, err := url.Parse(e.URL)
		if err != nil || e.URL == "" || (!ref.IsAbs() && !strings.HasPrefix(e.URL, "/")) {
			return nil, fmt.Errorf("%s: endpoint %q: url %q must be absolute or start with /", filepath.Base(path), e.Name, e.URL)
		}
		e.URL = api.ResolveReference(ref).String()
		if e.Weight < 0 {
			return nil, fmt.Errorf("%s: endpoint %q: negative weight", filepath.Base(path), e.Name)
		}
	}
	return eps, nil
}

// Select narrows eps to those named in only (all when only is empty), in
// eps's order. An endpoint asked for by name is not optional: its absence
// fails the run. A name that is not an endpoint is an *option.Error.
func Select(eps []Endpoint, only []string) ([]Endpoint, error) {
	if len(only) == 0 {
		return eps, nil
	}
	var out []Endpoint
	var names []string
	for _, e := range eps {
		names = append(names, e.Name)
		if slices.Contains(only, e.Name) {
			e.Optional = false
			out = append(out, e)
		}
	}
	for _, o := range only {
		if !slices.Contains(names, o) {
			return nil, option.Errorf("--only %s: no such endpoint (have: %s)", o, strings.Join(names, ", "))
		}
	}
	return out, nil
}
