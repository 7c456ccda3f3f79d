package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/keyspace"
)

// probe is a key the write must delete (mustGo) or leave alone.
type probe struct {
	url    string
	key    string // logical
	mustGo bool
}

// invalidation changes a product's price through the API and proves that
// exactly the right keys went: the product's own and the listings, not
// another product's detail nor the colors. The price is put back after.
func (c *checker) invalidation(ctx context.Context) (result, error) {
	if c.cfg.ReadOnly != "" {
		return skipped("skipped: read-only (%s): the write probe changes a product through the API", c.cfg.ReadOnly), nil
	}
	if c.cfg.AdminToken == "" && c.cfg.AdminAuthScheme != catalogapi.SchemeBasic {
		return skipped("skipped: no admin token (--admin-token or CACHECTL_ADMIN_TOKEN) to write through the API"), nil
	}
	api := c.cfg.API
	products, err := api.Products(ctx, 2)
	status := http.StatusOK
	var se *catalogapi.StatusError
	switch {
	case errors.As(err, &se):
		status = se.Status
	case err != nil && !errors.As(err, new(*catalogapi.ShapeError)):
		return result{}, err
	}
	if len(products) < 2 {
		return failed("need two products from GET /api/products/ (HTTP %d)", status), nil
	}
	target, other := products[0], products[1]
	oldPrice, ok := catalogapi.ParseCents(target.Price)
	if !ok {
		return failed("product %d has a price this check cannot read: %s", target.ID, target.Price), nil
	}
	newPrice := oldPrice + 1
	if newPrice > 100_000_000 {
		newPrice = oldPrice - 1
	}
	probes := []*probe{
		{url: api.ProductURL(target.ID), key: keyspace.ProductKey(target.ID), mustGo: true},
		{url: api.URL("/api/products/top_sellers/"), key: keyspace.KeyTopSellers, mustGo: true},
		{url: api.ProductURL(other.ID), key: keyspace.ProductKey(other.ID)},
		{url: api.URL("/api/colors/"), key: keyspace.KeyColors},
	}
	if res, err := c.cacheProbes(ctx, probes); err != nil || !res.ok {
		return res, err
	}

	admin := api.Admin(c.cfg.AdminToken, c.cfg.AdminAuthScheme)
	write := func(price catalogapi.Cents) (result, error) { return setPrice(ctx, admin, target.ID, price) }
	if res, err := write(newPrice); err != nil || !res.ok {
		return res, err
	}
	// From here on the price is put back whatever happens.
	verdict, verr := c.judge(ctx, probes, api.ProductURL(target.ID), newPrice.String())
	undo, uerr := write(oldPrice)
	switch {
	case verr != nil:
		return result{}, verr
	case uerr != nil:
		return result{}, uerr
	case !verdict.ok:
		return verdict, nil
	case !undo.ok:
		undo.detail = "the price could not be put back: " + undo.detail
		return undo, nil
	}
	gone, kept := split(probes)
	return passed("PATCH product %d price %s → %s (%s): gone %s; kept %s; price put back",
		target.ID, oldPrice, newPrice, authUsed(admin), gone, kept), nil
}

// setPrice writes a product's price; a refusal is a failed step that says
// what the API asked for.
func setPrice(ctx context.Context, admin *catalogapi.Admin, id int64, price catalogapi.Cents) (result, error) {
	r, err := admin.SetPrice(ctx, id, price)
	switch {
	case err != nil:
		return result{}, err
	case r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden:
		return failed("the API refused the write: PATCH product %d: HTTP %d%s", id, r.Status, authAdvice(admin, r)), nil
	case !r.Success():
		return failed("PATCH product %d: HTTP %d: %s", id, r.Status, firstLine(string(r.Body))), nil
	}
	return passed(""), nil
}

// split names the keys that must go and those that must stay.
func split(probes []*probe) (gone, kept string) {
	var g, k []string
	for _, p := range probes {
		if p.mustGo {
			g = append(g, p.key)
		} else {
			k = append(k, p.key)
		}
	}
	return strings.Join(g, ", "), strings.Join(k, ", ")
}

// cacheProbes caches what must go and what must stay, learning each key's
// name from X-Cache-Key where the server sends it.
func (c *checker) cacheProbes(ctx context.Context, probes []*probe) (result, error) {
	for _, p := range probes {
		r, err := c.get(ctx, p.url)
		if err != nil {
			return result{}, err
		}
		if !r.Success() {
			return failed("GET %s: HTTP %d", p.url, r.Status), nil
		}
		if r.Key != "" {
			p.key = r.Key
		}
		ok, err := c.cached(ctx, p.key, nil)
		if err != nil {
			return result{}, err
		}
		if !ok {
			return failed("%s is not cached before the write, so the write cannot be judged", p.key), nil
		}
	}
	return passed(""), nil
}

// judge checks, right after the write, that every key that must go is gone
// and every other is still cached, and that the API now serves the new price
// rather than an old copy.
func (c *checker) judge(ctx context.Context, probes []*probe, productURL, newPrice string) (result, error) {
	var wrong []string
	for _, p := range probes {
		ok, err := c.cached(ctx, p.key, nil)
		if err != nil {
			return result{}, err
		}
		switch {
		case p.mustGo && ok:
			wrong = append(wrong, p.key+" is still cached")
		case !p.mustGo && !ok:
			wrong = append(wrong, p.key+" was deleted too")
		}
	}
	if len(wrong) > 0 {
		return failed("after the write %s", strings.Join(wrong, ", ")), nil
	}
	r, err := c.get(ctx, productURL)
	if err != nil {
		return result{}, err
	}
	if !bytes.Contains(r.Body, []byte(`"`+newPrice+`"`)) {
		return failed("GET %s after the write does not show the new price %s", productURL, newPrice), nil
	}
	return passed(""), nil
}

// authUsed names how the write probe authenticated, for its report.
func authUsed(a *catalogapi.Admin) string {
	if a.Scheme() == catalogapi.SchemeBasic {
		return "basic auth from --api"
	}
	return "Authorization: " + a.Scheme()
}

// authAdvice says, after a refused write, what the API asked for.
func authAdvice(a *catalogapi.Admin, r *catalogapi.Response) string {
	s, scheme := r.Challenge(), a.Scheme()
	switch {
	case scheme == catalogapi.SchemeBasic:
		return " with basic auth from --api"
	case s == "":
		return fmt.Sprintf(" with Authorization: %s (the API names no scheme; --admin-auth-scheme sets it, or put a user's credentials in --api)", scheme)
	case strings.EqualFold(s, catalogapi.SchemeBasic):
		return " (the API asks for basic auth: put the credentials in --api, e.g. CACHECTL_API_URL=http://USER:PASSWORD@host)"
	case !strings.EqualFold(s, scheme):
		return fmt.Sprintf(" (the API asks for %s; --admin-auth-scheme %s)", s, strings.ToLower(s))
	}
	return fmt.Sprintf(" with Authorization: %s: is the admin token right?", scheme)
}
