package main

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
)

// The commands that talk to the catalog API, with the arguments that keep
// each run short. check keeps the cache's keys (--skip-clear): these tests
// are about the API.
var apiCommands = []struct {
	name string
	args []string
}{
	{"warm", []string{"warm", "--retries", "0"}},
	{"bench", []string{"bench", "--only", "colors", "--cold-samples", "1", "-n", "4", "-c", "2"}},
	{"check", []string{"check", "--skip-clear"}},
}

// runAPICommand runs one of apiCommands against api and Redis.
func runAPICommand(t *testing.T, args []string, api, redisURL string, extra ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	args = append(append(append([]string{}, args...), "--api", api, "--redis", redisURL), extra...)
	code = runCLI(t, ios, args...)
	return code, out.String(), errOut.String()
}

// slow delays the first n requests for path by d each (or until the client
// gives up on one).
func slow(path string, d time.Duration, n int64) func(http.Handler) http.Handler {
	var seen atomic.Int64
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == path && seen.Add(1) <= n {
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
}

// --request-timeout is what bounds an API request: an answer that takes
// longer than a multiple of the Redis --timeout, but less than
// --request-timeout, is waited for.
func TestAPIRequestTimeoutIsTheOnlyBound(t *testing.T) {
	for _, cmd := range apiCommands {
		t.Run(cmd.name, func(t *testing.T) {
			// The first request of every command reads the categories.
			c := startCatalog(t, 0, slow("/api/categories/", 600*time.Millisecond, 1))
			code, out, errOut := runAPICommand(t, cmd.args, c.URL, c.Redis.URL(), "--timeout", "100ms", "--request-timeout", "2s")
			if code != exitOK {
				t.Errorf("exit %d, want 0: an answer after 600 ms is within --request-timeout 2s\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
		})
	}
}

// A request that times out after other requests of the same run got answers
// is a failed request (exit 1), not an unreachable API (exit 3).
func TestAPITimeoutAfterAnswersIsAFailedRequest(t *testing.T) {
	for _, cmd := range apiCommands {
		t.Run(cmd.name, func(t *testing.T) {
			c := startCatalog(t, 0, slow("/api/colors/", 5*time.Second, math.MaxInt64))
			code, out, errOut := runAPICommand(t, cmd.args, c.URL, c.Redis.URL(), "--request-timeout", "300ms")
			if code != exitFailed {
				t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if strings.Contains(errOut, "cannot reach the API") {
				t.Errorf("an API that answered is called unreachable:\n%s", errOut)
			}
			if !strings.Contains(out+errOut, "/api/colors/") || !strings.Contains(out+errOut, "timed out") {
				t.Errorf("the output does not name the URL that timed out\nstdout:\n%s\nstderr:\n%s", out, errOut)
			}
		})
	}
}

// A redirect loop is answered at every step: a failed request (exit 1) that
// says it stopped after 10 redirects, never "cannot reach the API".
func TestAPIRedirectLoopIsAFailedRequest(t *testing.T) {
	rs := redistest.Start(t)
	var hops atomic.Int64
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(loop.Close)
	for _, cmd := range apiCommands {
		t.Run(cmd.name, func(t *testing.T) {
			hops.Store(0)
			code, out, errOut := runAPICommand(t, cmd.args, loop.URL, rs.URL())
			if code != exitFailed {
				t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if strings.Contains(errOut, "cannot reach the API") || !strings.Contains(errOut, "stopped after 10 redirects") {
				t.Errorf("stderr does not say the redirects stopped:\n%s", errOut)
			}
			if hops.Load() < 10 {
				t.Errorf("the server saw %d requests: the redirects were not followed", hops.Load())
			}
		})
	}
}
