package catalogapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Auth schemes of an admin write.
const (
	SchemeBearer = "Bearer" // Authorization: Bearer TOKEN (the reference server)
	SchemeToken  = "Token"  // Authorization: Token TOKEN (DRF's TokenAuthentication)
	SchemeBasic  = "Basic"  // the credentials the client's transport holds for the API
)

// Admin writes through the API. Its scheme is fixed, or, when auto, Bearer
// until a 401 names another in WWW-Authenticate.
type Admin struct {
	c      *Client
	token  string
	auto   bool
	scheme string
}

// Admin returns a writer that authenticates with token in scheme (one of
// the Scheme constants), or "" to follow the scheme the API's 401 names.
func (c *Client) Admin(token, scheme string) *Admin {
	a := &Admin{c: c, token: token, scheme: scheme}
	if scheme == "" {
		a.auto, a.scheme = true, SchemeBearer
	}
	return a
}

// ErrScheme is a scheme ParseScheme does not know.
var ErrScheme = errors.New("want auto, bearer, token or basic")

// ParseScheme reads a scheme's name, in any case: bearer, token, basic, or
// auto, which is "" (follow the API's 401).
func ParseScheme(name string) (string, error) {
	switch strings.ToLower(name) {
	case "auto":
		return "", nil
	case "bearer":
		return SchemeBearer, nil
	case "token":
		return SchemeToken, nil
	case "basic":
		return SchemeBasic, nil
	}
	return "", fmt.Errorf("%q: %w", name, ErrScheme)
}

// Scheme is the scheme the writes use now.
func (a *Admin) Scheme() string { return a.scheme }

// Auto says whether the scheme follows the API's 401s.
func (a *Admin) Auto() bool { return a.auto }

// ProductURL is the detail URL of product id.
func (c *Client) ProductURL(id int64) string {
	return c.URL("/api/products/" + strconv.FormatInt(id, 10) + "/")
}

// SetPrice changes a product's price with a PATCH. When auto, a 401 that
// names another scheme (but Basic, which needs credentials a token is not)
// wrote nothing, so the write is sent once more in that scheme. The
// response is the last one; its status says whether the write was taken.
func (a *Admin) SetPrice(ctx context.Context, id int64, price Cents) (*Response, error) {
	body := []byte(`{"price": "` + price.String() + `"}`)
	r, err := a.send(ctx, a.c.ProductURL(id), body)
	if err == nil && r.Status == http.StatusUnauthorized && a.auto {
		if s := r.Challenge(); s != "" && !strings.EqualFold(s, a.scheme) && !strings.EqualFold(s, SchemeBasic) {
			a.scheme = s
			r, err = a.send(ctx, a.c.ProductURL(id), body)
		}
	}
	return r, err
}

func (a *Admin) send(ctx context.Context, u string, body []byte) (*Response, error) {
	h := http.Header{}
	if a.scheme != SchemeBasic { // basic auth: the client's transport adds --api's credentials
		h.Set("Authorization", a.scheme+" "+a.token)
	}
	return a.c.Send(ctx, Request{Method: http.MethodPatch, URL: u, Header: h, Body: body})
}
