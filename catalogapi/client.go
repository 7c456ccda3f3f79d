// Package catalogapi is the one client for a catalog API: the Django app or
// `cachectl serve`. It sends requests, parses the cache headers once
// (X-Cache, X-Cache-Key, X-DB-Queries), reads the API's lists (plain or
// paginated the DRF way), discovers its categories and products, and writes
// through it as an admin. It never prints.
package catalogapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client sends requests to one catalog API. Credentials stay in the
// *http.Client's transport (NewClient); the base URL carries none.
type Client struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration
	header  http.Header
}

// New returns a client for the API at base, sending with hc
// (http.DefaultClient when nil). base may be nil for a client that is only
// given absolute URLs.
func New(base *url.URL, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: base, http: hc}
}

// WithTimeout returns a copy of c whose requests each end after d (reading
// the body included); 0 leaves them to their context.
func (c *Client) WithTimeout(d time.Duration) *Client {
	cp := *c
	cp.timeout = d
	return &cp
}

// WithHeader returns a copy of c that sends h with every request
// (User-Agent, Accept), under a request's own headers.
func (c *Client) WithHeader(h http.Header) *Client {
	cp := *c
	cp.header = h.Clone()
	return &cp
}

// Timeout is what WithTimeout set.
func (c *Client) Timeout() time.Duration { return c.timeout }

// Base is the API's URL, without credentials.
func (c *Client) Base() *url.URL { return c.base }

// Header is what WithHeader set (a copy).
func (c *Client) Header() http.Header { return c.header.Clone() }

// HTTP is the *http.Client requests go through.
func (c *Client) HTTP() *http.Client { return c.http }

// URL joins path (which may carry a query after "?") to the API's URL.
func (c *Client) URL(path string) string {
	p, q, _ := strings.Cut(path, "?")
	u := c.base.JoinPath(p)
	u.RawQuery = q
	return u.String()
}

// Request is one request to the API.
type Request struct {
	Method string // GET when empty
	URL    string // absolute
	Header http.Header
	Body   []byte // sent as JSON when not nil
	// Discard reads the response body to its end without keeping it.
	Discard bool
}

// CacheHeaders is what a response says about the cache, parsed once.
type CacheHeaders struct {
	Cache     string // X-Cache, upper-cased: HIT, MISS, BYPASS; "" when not sent
	Key       string // X-Cache-Key: the logical key; "" when not sent
	DBQueries int    // X-DB-Queries; -1 when not sent
}

// ParseCacheHeaders reads X-Cache, X-Cache-Key and X-DB-Queries.
func ParseCacheHeaders(h http.Header) CacheHeaders {
	ch := CacheHeaders{
		Cache:     strings.ToUpper(strings.TrimSpace(h.Get("X-Cache"))),
		Key:       strings.TrimSpace(h.Get("X-Cache-Key")),
		DBQueries: -1,
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-DB-Queries"))); err == nil && n >= 0 {
		ch.DBQueries = n
	}
	return ch
}

// Response is what one request saw.
type Response struct {
	Status int // 0 when no response came
	CacheHeaders
	Header  http.Header
	Body    []byte // at most MaxBody bytes; nil with Request.Discard
	Latency time.Duration
}

// Success reports a 2xx status.
func (r *Response) Success() bool { return r.Status >= 200 && r.Status < 300 }

// Challenge is the first auth scheme the response's WWW-Authenticate names:
// "Token" for DRF's TokenAuthentication, "Bearer realm=…" gives "Bearer".
func (r *Response) Challenge() string {
	s, _, _ := strings.Cut(strings.TrimSpace(r.Header.Get("WWW-Authenticate")), " ")
	s, _, _ = strings.Cut(s, ",")
	return s
}

// MaxBody bounds what is kept of a response body.
const MaxBody = 32 << 20

// Send sends req and reads the whole response: only then is it complete
// (and cached by the API), and the connection reusable. The Response is
// never nil: after an error it holds what was seen (a status, the latency).
// The error is *UnreachableError when the API never answered any request
// of the client, *RequestError for a failed request, or ctx's.
func (c *Client) Send(ctx context.Context, req Request) (*Response, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var rd io.Reader
	if req.Body != nil {
		rd = bytes.NewReader(req.Body)
	}
	r := &Response{CacheHeaders: CacheHeaders{DBQueries: -1}}
	hr, err := http.NewRequestWithContext(ctx, method, req.URL, rd)
	if err != nil {
		return r, err
	}
	for _, h := range []http.Header{c.header, req.Header} {
		for k, vs := range h {
			hr.Header[http.CanonicalHeaderKey(k)] = vs
		}
	}
	if req.Body != nil && hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := Do(c.http, hr)
	if err != nil {
		r.Latency = time.Since(start)
		var re *RequestError
		if errors.As(err, &re) {
			r.Status = re.Status
		}
		return r, err
	}
	defer resp.Body.Close()
	if req.Discard {
		_, err = io.Copy(io.Discard, resp.Body)
	} else {
		r.Body, err = io.ReadAll(io.LimitReader(resp.Body, MaxBody))
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
		}
	}
	r.Latency = time.Since(start)
	r.Status, r.Header, r.CacheHeaders = resp.StatusCode, resp.Header, ParseCacheHeaders(resp.Header)
	if err != nil {
		r.Body = nil
		return r, &RequestError{Method: method, URL: req.URL, Status: r.Status, Err: err}
	}
	return r, nil
}

// Get sends a GET for u and keeps the body.
func (c *Client) Get(ctx context.Context, u string) (*Response, error) {
	return c.Send(ctx, Request{URL: u})
}
