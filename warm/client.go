package warm

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/cachectl/cachectl/internal/redact"
)

// NewClient returns the HTTP client for a catalog API.
//
// The client has no timeout of its own: each request is bounded by its
// context (the commands' --request-timeout). Its transport remembers whether
// any request got an HTTP response, so that a failure can tell an API that
// cannot be reached (Do returns *UnreachableError) from a request that failed
// against one that answers.
func NewClient() *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	// No dial or handshake timeout shorter than the request's own.
	base.DialContext = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	base.TLSHandshakeTimeout = 0
	return &http.Client{Transport: &apiTransport{next: base}}
}

// apiTransport notes whether the API ever answered.
type apiTransport struct {
	next     http.RoundTripper
	answered atomic.Bool
}

func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if resp != nil {
		t.answered.Store(true)
	}
	return resp, err
}

// answered reports whether any request of client got an HTTP response;
// false for a client that NewClient did not make.
func answered(client *http.Client) bool {
	t, ok := client.Transport.(*apiTransport)
	return ok && t.answered.Load()
}

// RequestError is a request to an API that answers, which failed: it got no
// response (Status 0: refused, timed out) although other requests did, or
// the client gave up on the answers it got (the last Status of a redirect
// loop: "stopped after 10 redirects").
type RequestError struct {
	Method string
	URL    string
	Status int
	Err    error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Method, redact.URL(e.URL), describe(e.Err))
}

func (e *RequestError) Unwrap() error { return e.Err }

// Do sends req with client. An error is *UnreachableError when no request of
// client has ever got an HTTP response (the API cannot be reached), else
// *RequestError; resp is nil whenever the error is not.
func Do(client *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := client.Do(req)
	if err == nil {
		return resp, nil
	}
	if resp != nil {
		// The client gave up following redirects (net/http closed resp's
		// body): an answer, so a failed request with the last status.
		return nil, &RequestError{Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode, Err: unwrapURLError(err)}
	}
	if !answered(client) {
		return nil, &UnreachableError{URL: req.URL.String(), Err: err}
	}
	return nil, &RequestError{Method: req.Method, URL: req.URL.String(), Err: unwrapURLError(err)}
}

// unwrapURLError drops net/http's "Get URL:" wrapping, whose URL may be a
// redirect's target; the error names the request's URL itself.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
