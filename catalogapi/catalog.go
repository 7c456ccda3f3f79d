package catalogapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/internal/redact"
)

// StatusError is an answer that is not the one asked for (a 404, a 500).
type StatusError struct {
	Method string
	URL    string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d", e.Method, redact.URL(e.URL), e.Status)
}

// ShapeError is an answer whose JSON is not what the API should send.
type ShapeError struct {
	URL string
	Err error
}

func (e *ShapeError) Error() string { return redact.URL(e.URL) + ": " + e.Err.Error() }
func (e *ShapeError) Unwrap() error { return e.Err }

// Category is one category as the API lists it.
type Category struct {
	ID int64
	// Main says the category has no parent: "parent" (DRF's ModelSerializer)
	// or "parent_id" null or absent.
	Main bool
	// ProductCount is the category's product_count; -1 when not sent.
	ProductCount int64
}

// Categories is the first page of /api/categories/.
type Categories struct {
	Items []Category
	// Total is the page's count where it says one, else len(Items).
	Total    int64
	Response *Response
}

// Categories reads the categories: a plain list, or the first page of a
// paginated one. Besides the client's errors, a status other than 200 is
// *StatusError and a body that is not a list of objects *ShapeError.
func (c *Client) Categories(ctx context.Context) (Categories, error) {
	l, r, err := c.list(ctx, c.URL("/api/categories/"))
	if err != nil {
		return Categories{Response: r}, err
	}
	cats := Categories{Response: r, Total: int64(len(l.Items))}
	if l.Count != nil {
		cats.Total = *l.Count
	}
	for _, it := range l.Items {
		var cat Category
		if json.Unmarshal(it["id"], &cat.ID) != nil {
			continue
		}
		parent, ok := it["parent"]
		if !ok {
			parent = it["parent_id"]
		}
		cat.Main = parent == nil || string(parent) == "null"
		cat.ProductCount = -1
		if json.Unmarshal(it["product_count"], &cat.ProductCount) != nil {
			cat.ProductCount = -1
		}
		cats.Items = append(cats.Items, cat)
	}
	return cats, nil
}

// Main returns the first main category; false when there is none.
func (cs Categories) Main() (Category, bool) {
	for _, c := range cs.Items {
		if c.Main {
			return c, true
		}
	}
	return Category{}, false
}

// Product is one product as the API lists it.
type Product struct {
	ID    int64           `json:"id"`
	Price json.RawMessage `json:"price"` // "19.99" as DRF writes decimals, or a number
}

// Products reads the first n products of /api/products/ (page_size=n).
// Errors as Categories.
func (c *Client) Products(ctx context.Context, n int) ([]Product, error) {
	l, _, err := c.list(ctx, c.URL("/api/products/?page_size="+strconv.Itoa(n)))
	if err != nil {
		return nil, err
	}
	var ps []Product
	for _, raw := range l.Raw {
		var p Product
		if json.Unmarshal(raw, &p) == nil && p.ID > 0 {
			ps = append(ps, p)
		}
	}
	return ps, nil
}

// list GETs a list and reads it.
func (c *Client) list(ctx context.Context, u string) (List, *Response, error) {
	r, err := c.Get(ctx, u)
	if err != nil {
		return List{}, r, err
	}
	if r.Status != http.StatusOK {
		return List{}, r, &StatusError{Method: http.MethodGet, URL: u, Status: r.Status}
	}
	l, err := ReadList(r.Body)
	if err != nil {
		return List{}, r, &ShapeError{URL: u, Err: err}
	}
	return l, r, nil
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

// Cents is a price in cents.
type Cents int64

// ParseCents reads a price given as "19.99" or 19.99.
func ParseCents(raw json.RawMessage) (Cents, bool) {
	s := strings.Trim(string(raw), `"`)
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, false
	}
	frac += strings.Repeat("0", 2-len(frac))
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 {
		return 0, false
	}
	return Cents(w*100 + f), true
}

// String writes the price as DRF writes a decimal: "19.99".
func (c Cents) String() string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
