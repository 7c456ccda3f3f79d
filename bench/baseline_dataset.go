package bench

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cachectl/cachectl/catalogapi"
)

// Dataset is the size of the catalog the figures were taken on: a list of
// 1,000 products is not a list of 100,000, so a baseline of one does not
// compare with a run on the other.
type Dataset struct {
	Products int64 `json:"products"` // the count of /api/products/
}

// datasetOf reads the catalog's size from the API: the count of its
// product list's first page (the request endpoint discovery makes too).
// nil when the API has no such list or its page says no count.
func datasetOf(ctx context.Context, cfg Config, api *url.URL) *Dataset {
	if api == nil {
		return nil
	}
	c := catalogapi.New(api, cfg.Client).WithTimeout(cfg.Timeout)
	r, err := c.Get(ctx, c.URL("/api/products/?page_size=1"))
	if err != nil || r.Status != http.StatusOK {
		return nil
	}
	l, err := catalogapi.ReadList(r.Body)
	if err != nil || l.Count == nil {
		return nil
	}
	return &Dataset{Products: *l.Count}
}
