package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

const apiSecret = "S3cret-7f3a"

// basicAuth counts the requests that came with alice's credentials and
// refuses (401) the others.
type basicAuth struct{ ok, refused atomic.Int64 }

func (b *basicAuth) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != apiSecret {
			b.refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="catalog"`)
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		b.ok.Add(1)
		h.ServeHTTP(w, r)
	})
}

// withCredentials puts user:password into an http:// URL.
func withCredentials(u, password string) string {
	return strings.Replace(u, "http://", "http://alice:"+password+"@", 1)
}

// Credentials in --api reach the API as basic auth, and nothing the commands
// print or write shows them: tables, -v lines, JSON, report files, errors.
func TestAPICredentialsAreSentButNeverShown(t *testing.T) {
	var auth basicAuth
	c := startCatalog(t, 0, auth.wrap)
	api := withCredentials(c.URL, apiSecret)
	dir := t.TempDir()
	bench := []string{"bench", "--only", "colors,product_detail", "--cold-samples", "1", "-n", "4", "-c", "2"}
	for _, run := range []struct {
		name  string
		args  []string
		files []string
	}{
		{"warm -v", []string{"warm", "-v"}, nil},
		{"warm --json", []string{"warm", "--json"}, nil},
		{"bench --json --report", append(bench, "--json", "--report", dir+"/bench.json"), []string{"bench.json"}},
		{"bench --report .md", append(bench, "--report", dir+"/bench.md"), []string{"bench.md"}},
		{"check", []string{"check", "--skip-clear"}, nil},
		{"check --json", []string{"check", "--skip-clear", "--json"}, nil},
	} {
		t.Run(run.name, func(t *testing.T) {
			auth.ok.Store(0)
			auth.refused.Store(0)
			code, out, errOut := runAPICommand(t, run.args, api, c.Redis.URL())
			if code != exitOK {
				t.Errorf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if auth.ok.Load() == 0 || auth.refused.Load() != 0 {
				t.Errorf("the API got %d requests with the credentials and %d without", auth.ok.Load(), auth.refused.Load())
			}
			if !strings.Contains(errOut, "warning: a password in --api is visible to other users") {
				t.Errorf("no warning about the password on the command line:\n%s", errOut)
			}
			for _, f := range run.files {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				out += string(data)
			}
			if !strings.Contains(out, c.URL) {
				t.Errorf("the output does not name the API as %s:\n%s", c.URL, out)
			}
			if strings.Contains(out+errOut, apiSecret) {
				t.Errorf("the password is shown\nstdout and reports:\n%s\nstderr:\n%s", out, errOut)
			}
		})
	}

	// From the environment: used the same, without a warning.
	ios, _, out, errOut := iostreams.Test()
	env := map[string]string{"HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir(), envAPI: api}
	auth.refused.Store(0)
	if code := execute(t.Context(), ios, []string{"warm", "--redis", c.Redis.URL()}, func(k string) string { return env[k] }); code != exitOK {
		t.Errorf("%s from the environment: exit %d\n%s", envAPI, code, errOut)
	}
	if errOut.Len() != 0 || auth.refused.Load() != 0 || strings.Contains(out.String(), apiSecret) {
		t.Errorf("%s from the environment: %d requests refused, stderr %q, stdout:\n%s", envAPI, auth.refused.Load(), errOut, out)
	}

	// Credentials the API refuses: the error names the URL, not the password.
	const wrong = "Wr0ng-9c1d"
	for _, cmd := range apiCommands {
		t.Run(cmd.name+" refused", func(t *testing.T) {
			code, out, errOut := runAPICommand(t, cmd.args, withCredentials(c.URL, wrong), c.Redis.URL())
			if code == exitOK || !strings.Contains(out+errOut, "HTTP 401") {
				t.Errorf("exit %d, want a failure that says HTTP 401\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if strings.Contains(out+errOut, wrong) {
				t.Errorf("the password is shown\nstdout:\n%s\nstderr:\n%s", out, errOut)
			}
		})
	}
}

// The credentials go to the API's own scheme, host and port only: not to a
// sitemap's page on another port, nor to where the API redirects, nor to an
// endpoint elsewhere that bench loads through hey's engine.
func TestAPICredentialsStayWithTheAPI(t *testing.T) {
	var leaked, elsewhereHits atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhereHits.Add(1)
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(elsewhere.Close)
	var auth basicAuth
	c := startCatalog(t, 0, func(h http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/", h)
		mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `<urlset><url><loc>%s/page</loc></url><url><loc>/api/colors/</loc></url></urlset>`, elsewhere.URL)
		})
		mux.HandleFunc("/away/", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/landing", http.StatusFound)
		})
		return auth.wrap(mux)
	})
	api := withCredentials(c.URL, apiSecret)
	dir := t.TempDir()
	urls := filepath.Join(dir, "pages.txt")
	eps := filepath.Join(dir, "endpoints.yaml")
	if err := os.WriteFile(urls, []byte("/away/\n/api/categories/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf("- name: elsewhere\n  url: %s/page\n  cold: false\n- name: away\n  url: /away/\n  cold: false\n", elsewhere.URL)
	if err := os.WriteFile(eps, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"warm", "--sitemap", "/sitemap.xml"},
		{"warm", "--urls", urls},
		{"bench", "--endpoints", eps, "--cold-samples", "2", "-n", "20", "-c", "2", "--max-error-rate", "1"},
	} {
		t.Run(args[0]+" "+args[1], func(t *testing.T) {
			leaked.Store(0)
			elsewhereHits.Store(0)
			auth.refused.Store(0)
			code, out, errOut := runAPICommand(t, args, api, c.Redis.URL())
			if code != exitOK {
				t.Errorf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if elsewhereHits.Load() == 0 {
				t.Fatal("nothing reached the other host")
			}
			if n := leaked.Load(); n > 0 {
				t.Errorf("%d of %d requests to the other host carried the API's credentials", n, elsewhereHits.Load())
			}
			if auth.refused.Load() > 0 {
				t.Errorf("%d requests to the API came without its credentials", auth.refused.Load())
			}
		})
	}
}
