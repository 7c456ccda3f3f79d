package catalogapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cachectl/cachectl/internal/redact"
)

// NewClient returns the HTTP client for the catalog API at api, and api
// without its credentials: the URL to build every request URL from, and the
// one to print. user:password in api live in the client's transport alone,
// which sends them as basic auth to api's own scheme, host and port only:
// never to a sitemap's pages on another host, nor after a redirect elsewhere.
//
// The client has no timeout of its own: each request is bounded by its
// context (the commands' --request-timeout). It follows up to 10 redirects.
// Its transport remembers whether any request got an HTTP response, so that
// a failure can tell an API that cannot be reached (Do returns
// *UnreachableError) from a request that failed against one that answers.
func NewClient(api *url.URL) (*http.Client, *url.URL) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	// No dial or handshake timeout shorter than the request's own.
	base.DialContext = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	base.TLSHandshakeTimeout = 0
	t := &apiTransport{next: base}
	bare := *api
	bare.User = nil
	if api.User != nil {
		t.creds = api.User
		t.origin = origin(&bare)
	}
	return &http.Client{Transport: t}, &bare
}

// apiTransport adds the API's credentials to the requests that go to it, and
// notes whether the API ever answered.
type apiTransport struct {
	next     http.RoundTripper
	creds    *url.Userinfo // nil: none
	origin   string        // where creds may go
	answered atomic.Bool
	readOnly atomic.Bool // refuse every request but GET, HEAD and OPTIONS
}

// ErrReadOnly is what a read-only client returns for a request that could
// change the API's data; errors.Is finds it in a *ReadOnlyError.
var ErrReadOnly = errors.New("read-only")

// ReadOnlyError names the request a read-only client refused to send.
type ReadOnlyError struct{ Method, URL string }

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("read-only: refusing to send %s %s", e.Method, redact.URL(e.URL))
}
func (e *ReadOnlyError) Unwrap() error { return ErrReadOnly }

// ReadOnly makes client (from NewClient) refuse, before anything is sent,
// every request whose method may change data: all but GET, HEAD and
// OPTIONS. It reports false for a client NewClient did not make.
func ReadOnly(client *http.Client) bool {
	t, ok := client.Transport.(*apiTransport)
	if ok {
		t.readOnly.Store(true)
	}
	return ok
}

func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.readOnly.Load() && !safeMethod(req.Method) {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, &ReadOnlyError{Method: req.Method, URL: req.URL.String()}
	}
	if t.forAPI(req) {
		req = req.Clone(req.Context()) // a RoundTripper must not change the caller's request
		t.authorize(req)
	}
	resp, err := t.next.RoundTrip(req)
	if resp != nil {
		t.answered.Store(true)
	}
	return resp, err
}

func safeMethod(m string) bool {
	return m == "" || m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// forAPI says whether req goes to the API and should carry its credentials;
// a request with its own Authorization (check's admin token) keeps that.
func (t *apiTransport) forAPI(req *http.Request) bool {
	return t.creds != nil && req.Header.Get("Authorization") == "" && origin(req.URL) == t.origin
}

func (t *apiTransport) authorize(req *http.Request) {
	pass, _ := t.creds.Password()
	req.SetBasicAuth(t.creds.Username(), pass)
}

// origin is scheme://host:port, in lower case, with the scheme's default port.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// AddCredentials hands the API's credentials, which client (from NewClient)
// holds, to a request for the API that another client sends (bench's load
// engine), and reports whether it did. They go into req.URL, in memory only:
// net/http sends them as basic auth with that request and with redirects
// relative to it, never to another host or port, and writes "***" for the
// password in its errors.
func AddCredentials(client *http.Client, req *http.Request) bool {
	t, ok := client.Transport.(*apiTransport)
	if !ok || !t.forAPI(req) {
		return false
	}
	req.URL.User = t.creds
	return true
}

// Answered reports whether any request of client got an HTTP response;
// false for a client that NewClient did not make.
func Answered(client *http.Client) bool {
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
	return fmt.Sprintf("%s %s: %s", e.Method, redact.URL(e.URL), Describe(e.Err))
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
	if ro := new(ReadOnlyError); errors.As(err, &ro) {
		return nil, ro
	}
	if !Answered(client) {
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

// UnreachableError says the API could not be reached at all.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the API at %s: %s", redact.URL(e.URL), Describe(e.Err))
}

// Hint is a suggestion for the person at the terminal.
func (e *UnreachableError) Hint() string {
	return "is the catalog API running there? set it with --api or CACHECTL_API_URL"
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Describe says briefly why a request failed, without the method and URL
// that a result or an error names already.
func Describe(err error) string {
	var errno syscall.Errno
	var re *RequestError
	switch {
	case errors.As(err, &re):
		return Describe(re.Err) // the result names the URL already
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &errno):
		return errno.Error()
	}
	msg := err.Error()
	// net/http prefixes the method and URL, which the result already names.
	if i := strings.LastIndex(msg, "\": "); i >= 0 && strings.HasPrefix(msg, "Get \"") {
		msg = msg[i+3:]
	}
	return msg
}
