package catalogapi

import (
	"errors"
	"strings"
	"testing"
)

// The application's hit rate comes from the reference server's counters;
// another server's metrics are not mistaken for them.
func TestParseMetrics(t *testing.T) {
	text := `# HELP catalog_cache_requests_total Cache lookups by keyspace group and result (hit, miss, bypass).
# TYPE catalog_cache_requests_total counter
catalog_cache_requests_total{group="products",result="hit"} 90
catalog_cache_requests_total{group="products",result="miss"} 10
catalog_cache_requests_total{group="products",result="bypass"} 2
catalog_cache_requests_total{group="categories",result="hit"} 5
# TYPE go_goroutines gauge
go_goroutines 12
`
	got, err := ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Groups["products"]; p.Hits != 90 || p.Misses != 10 || p.Bypass != 2 {
		t.Errorf("products %+v", p)
	}
	if c := got.Groups["categories"]; c.Hits != 5 || c.Misses != 0 {
		t.Errorf("categories %+v", c)
	}
	if _, err := ParseMetrics(strings.NewReader("go_goroutines 12\n")); !errors.Is(err, ErrMetricsNotCatalog) {
		t.Errorf("another server's metrics: %v, want ErrMetricsNotCatalog", err)
	}
}
