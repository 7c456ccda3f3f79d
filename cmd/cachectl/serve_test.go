package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
)

// waitHealthy polls /healthz until the server answers.
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	testwait.Until(t, 10*time.Second, "the server at "+base+" to be healthy", func() error {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("/healthz: %s", res.Status)
		}
		return nil
	})
}

// dbQueries reads the server's count of database queries from /metrics, -1
// when it cannot.
func dbQueries(base string) float64 {
	r := request("GET", base+"/metrics", "", "")
	for line := range strings.SplitSeq(r.body, "\n") {
		if v, ok := strings.CutPrefix(line, "catalog_db_queries_total "); ok {
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				return n
			}
		}
	}
	return -1
}

// getInFlight starts a GET of path and returns once the server is serving it:
// its database has been asked.
func getInFlight(t *testing.T, base, path string) <-chan httpResult {
	t.Helper()
	before := dbQueries(base)
	res := make(chan httpResult, 1)
	go func() { res <- request("GET", base+path, "", "") }()
	testwait.Eventually(t, 10*time.Second, "the server to serve "+path, func() bool { return dbQueries(base) > before })
	return res
}

type httpResult struct {
	status int
	cache  string
	key    string // X-Cache-Key
	body   string
	err    error
}

func request(method, url, token, body string) httpResult {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return httpResult{err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return httpResult{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return httpResult{status: res.StatusCode, cache: res.Header.Get("X-Cache"), key: res.Header.Get("X-Cache-Key"), body: string(b), err: err}
}

// runningServe is `cachectl serve` run in-process on a free port.
type runningServe struct {
	base   string
	errOut fmt.Stringer
	cancel context.CancelFunc // what SIGINT and SIGTERM do in main
	exited chan int
}

// startServe runs serve with args (plus --listen) and the admin token "tok" in
// the environment, and waits until it is healthy.
func startServe(t *testing.T, args ...string) *runningServe {
	t.Helper()
	addr := closedPort(t)
	ios, _, _, errOut := iostreams.Test()
	env := map[string]string{"HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir(), envAdminToken: "tok"}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &runningServe{base: "http://" + addr, errOut: errOut, cancel: cancel, exited: make(chan int, 1)}
	go func() {
		s.exited <- execute(ctx, ios, append([]string{"serve", "--listen", addr}, args...), func(k string) string { return env[k] })
	}()
	waitHealthy(t, s.base)
	return s
}

// The command wires flags, the environment's admin token, --prefix and
// --key-version into the server, and a cancelled context (what SIGINT and
// SIGTERM do in main) shuts it down cleanly with exit 0 while a slow request
// still completes.
func TestServeCommandCachesUnderTheSchemaAndShutsDownCleanly(t *testing.T) {
	rs := redistest.Start(t)
	s := startServe(t, "--redis", rs.URL(), "--seed-products", "60", "--prefix", "shop", "--key-version", "3", "--db-latency", "150ms")
	base, cancel, exited, errOut := s.base, s.cancel, s.exited, s.errOut
	addr := strings.TrimPrefix(base, "http://")

	if r := request("GET", base+"/api/products/7/", "", ""); r.status != 200 || r.cache != "MISS" {
		t.Fatalf("first GET: %d %s %v", r.status, r.cache, r.err)
	}
	if r := request("GET", base+"/api/products/7/", "", ""); r.cache != "HIT" {
		t.Fatalf("second GET: %s", r.cache)
	}
	if n, _ := rs.Client(t).Exists(context.Background(), "shop:3:product:7").Result(); n != 1 {
		t.Fatal("key shop:3:product:7 missing: --prefix/--key-version not applied")
	}
	if r := request("PATCH", base+"/api/products/7/", "", `{"name":"x"}`); r.status != 401 {
		t.Fatalf("write without token: %d", r.status)
	}
	if r := request("PATCH", base+"/api/products/7/", "tok", `{"name":"From The Env Token"}`); r.status != 200 {
		t.Fatalf("write with the token from %s: %d %s", envAdminToken, r.status, r.body)
	}

	// A miss on another product takes two simulated 150ms queries.
	inflight := getInFlight(t, base, "/api/products/8/")
	cancel()
	if r := <-inflight; r.err != nil || r.status != 200 || !strings.Contains(r.body, `"id":8`) {
		t.Fatalf("request in flight at shutdown: %d %v", r.status, r.err)
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit %d after a clean shutdown: %s", code, errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(errOut.String(), "serving the catalog on http://"+addr) {
		t.Errorf("no startup line on stderr: %s", errOut)
	}
	if !strings.Contains(errOut.String(), "simulated db latency 150ms") {
		t.Errorf("--db-latency not labelled as simulation: %s", errOut)
	}
}

// The real binary, stopped by SIGTERM with a request in flight: the request
// completes and the exit code is 0.
func TestServeBinaryExitsZeroOnSIGTERM(t *testing.T) {
	bin, err := exec.LookPath("cachectl") // the test binary, put on PATH by testscript.Main
	if err != nil {
		t.Fatalf("cachectl not on PATH: %v", err)
	}
	rs := redistest.Start(t)
	addr := closedPort(t)
	base := "http://" + addr
	cmd := exec.Command(bin, "serve", "--redis", rs.URL(), "--listen", addr, "--seed-products", "30", "--db-latency", "200ms")
	cmd.Env = []string{"HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitHealthy(t, base)

	inflight := getInFlight(t, base, "/api/products/3/")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if r := <-inflight; r.err != nil || r.status != 200 {
		t.Fatalf("request in flight at SIGTERM: %d %v", r.status, r.err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
}

// On Redis Cluster, detected from the seed address, the server caches the
// seed's key names across the slots and a write invalidates them.
func TestServeCommandOnRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 0)
	rdb := cl.Client(t)
	s := startServe(t, "--redis", cl.SeedURL(), "--seed-products", "60", "--cache-timeout", "2s")
	base, errOut := s.base, s.errOut

	for _, path := range []string{"/api/products/7/", "/api/products/?category=2", "/api/categories/"} {
		if r := request("GET", base+path, "", ""); r.status != 200 || r.cache != "MISS" {
			t.Fatalf("first GET %s: %d %s %v %s", path, r.status, r.cache, r.err, r.body)
		}
		if r := request("GET", base+path, "", ""); r.cache != "HIT" {
			t.Fatalf("second GET %s: %s", path, r.cache)
		}
	}
	for _, key := range []string{"ecommerce:1:product:7", "ecommerce:1:categories:all"} {
		if n, err := rdb.Exists(context.Background(), key).Result(); err != nil || n != 1 {
			t.Fatalf("key %s not in the cluster: %d %v", key, n, err)
		}
	}
	if r := request("PATCH", base+"/api/products/7/", "tok", `{"name":"Clustered Rename","category":2}`); r.status != 200 {
		t.Fatalf("write: %d %s", r.status, r.body)
	}
	for _, path := range []string{"/api/products/7/", "/api/products/?category=2"} {
		if r := request("GET", base+path, "", ""); r.cache != "MISS" || !strings.Contains(r.body, "Clustered Rename") {
			t.Fatalf("GET %s after the write: %s %.200s", path, r.cache, r.body)
		}
	}
	s.cancel()
	if code := <-s.exited; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut.String(), "(cluster)") || strings.Contains(errOut.String(), "CROSSSLOT") {
		t.Errorf("startup line does not say cluster, or a CROSSSLOT error was logged: %s", errOut)
	}
}

// stop cancels serve (what SIGINT and SIGTERM do) and returns its stderr
// once it has exited 0.
func (s *runningServe) stop(t *testing.T) string {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.exited:
		if code != 0 {
			t.Fatalf("serve exited %d after SIGTERM: %s", code, s.errOut)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	return s.errOut.String()
}

// Redis goes away, a write is answered, serve stops, and Redis comes back
// with its copy from before the write (it persists its data). The next serve
// on the same --db must not serve that copy: the invalidation Redis missed
// was kept in the database file and is replayed before the cache is used.
func TestServeReplaysAtStartWhatTheLastRunCouldNotInvalidate(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{Args: []string{"--appendonly", "yes", "--appendfsync", "always"}})
	args := []string{"--redis", rs.URL(), "--db", filepath.Join(t.TempDir(), "catalog.db"), "--seed-products", "60"}
	const path, key, price = "/api/products/7/", "ecommerce:1:product:7", `"price":"4321.00"`
	s := startServe(t, args...)
	request("GET", s.base+path, "", "")
	if r := request("GET", s.base+path, "", ""); r.cache != "HIT" {
		t.Fatalf("second GET: %s, want HIT", r.cache)
	}
	rs.Stop()
	if r := request("PATCH", s.base+path, "tok", `{"price":"4321.00"}`); r.status != 200 {
		t.Fatalf("write with Redis down: %d %s", r.status, r.body)
	}
	errOut := s.stop(t)
	for _, want := range []string{"kept in the database and replayed at the next start",
		"command=\"cachectl clear --product-id 7 --cascade --pattern 'product:*:recommendations' --categories --redis " + rs.URL() + " --yes\""} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the log at shutdown lacks %s:\n%s", want, errOut)
		}
	}

	rs.Restart(t)
	if old, err := rs.Client(t).Get(context.Background(), key).Result(); err != nil || strings.Contains(old, price) {
		t.Fatalf("precondition: Redis should have come back with the copy from before the write (err %v)", err)
	}
	s = startServe(t, args...)
	testwait.Until(t, 10*time.Second, "the product to be cached again", func() error {
		r := request("GET", s.base+path, "", "")
		if !strings.Contains(r.body, price) {
			t.Fatalf("after a restart a read (%s) shows the product from before the write: %.200s", r.cache, r.body)
		}
		if r.cache != "HIT" {
			return fmt.Errorf("last read %s", r.cache)
		}
		return nil
	})
	if errOut := s.stop(t); !strings.Contains(errOut, "invalidations kept by the last run") || strings.Contains(errOut, "not taken") {
		t.Errorf("the second run does not say it replays what the first kept, or left some:\n%s", errOut)
	}
	// Replayed, they are gone from the file: a third run has nothing to replay.
	if errOut := startServe(t, args...).stop(t); strings.Contains(errOut, "kept by the last run") {
		t.Errorf("the third run replays again what the second replayed:\n%s", errOut)
	}
}

// Without a database file, what Redis has not taken by the end of the
// shutdown timeout is lost with the process: the log says so, with the clear
// command that finishes the job, pointed at the same Redis and keys, and
// without the password.
func TestServeLogsTheClearCommandForInvalidationsItCouldNotReplay(t *testing.T) {
	const password = "s3cret-pw"
	rs := redistest.Start(t, redistest.Options{Password: password})
	target := "redis://:" + password + "@" + rs.Addr + "/0"
	s := startServe(t, "--redis", target, "--prefix", "shop", "--key-version", "3", "--seed-products", "60",
		"--shutdown-timeout", "500ms")
	if r := request("GET", s.base+"/api/products/7/", "", ""); r.cache != "MISS" {
		t.Fatalf("first GET: %s %s", r.cache, r.body)
	}
	rs.Stop()
	if r := request("PATCH", s.base+"/api/products/7/", "tok", `{"name":"Lost Rename"}`); r.status != 200 {
		t.Fatalf("write with Redis down: %d %s", r.status, r.body)
	}
	start := time.Now()
	errOut := s.stop(t)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %v with --shutdown-timeout 500ms", took)
	}
	want := "level=ERROR msg=\"invalidations Redis has not taken are lost with this process: run the command to finish them\" pending=4 " +
		"command=\"cachectl clear --product-id 7 --cascade --pattern 'product:*:recommendations' --categories --prefix shop --key-version 3 --redis redis://" + rs.Addr + "/0 --yes\""
	if !strings.Contains(errOut, want) {
		t.Errorf("the log lacks\n%s\n%s", want, errOut)
	}
	if strings.Contains(errOut, password) {
		t.Errorf("the password is in the log:\n%s", errOut)
	}
}

// A shutdown timeout of zero would drop the invalidations it is there to
// replay: bad input, refused before anything starts.
func TestServeRefusesANonPositiveShutdownTimeout(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	env := map[string]string{"HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir()}
	code := execute(context.Background(), ios, []string{"serve", "--shutdown-timeout", "0s"}, func(k string) string { return env[k] })
	if code != 2 || !strings.HasPrefix(errOut.String(), "cachectl: --shutdown-timeout must be positive\n") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

// sharedRoutes are the cached routes of the Django fixture, which serve has
// too. Those with sameKey fill a key of the same name in both (the seed's
// fixed names); the others hash their parameters differently (the app an
// md5 of the raw query, serve a digest of its validated one), so each fills
// a key of its own.
var sharedRoutes = []struct {
	path    string
	sameKey bool
}{
	{"/api/categories/", true},
	{"/api/categories/7/", true},
	{"/api/colors/", true},
	{"/api/variants/?product=3", true},
	{"/api/products/?category=7&ordering=-price", false},
	{"/api/products/3/", true},
	{"/api/products/3/variants/", true},
	{"/api/products/3/recommendations/", true},
	{"/api/products/top_sellers/", true},
	{"/api/products/new_arrivals/", true},
	{"/api/products/personalized/?user_id=5", false},
	{"/api/products/filters/?category=1", false},
}

// djangoEncodings are the fixture's value encodings, and the settings
// variants every command is tried in.
var djangoEncodings = []struct {
	name string
	opts djangotest.Options
}{
	{"pickle", djangotest.Options{}},
	{"json", djangotest.Options{Serializer: djangotest.JSON}},
	{"db 3 prefix shop version 7", djangotest.Options{DB: new(3), Prefix: "shop", Version: 7}},
	{"paginated token zlib", djangotest.Options{PaginateCategories: true, TokenAuth: true, Compressor: djangotest.Zlib}},
}

// storedKey is a key's exact value (DUMP) and its expiry.
type storedKey struct {
	dump string
	pttl time.Duration
}

// storedKeys reads every key of the app's db.
func storedKeys(t *testing.T, rdb *redis.Client) map[string]storedKey {
	t.Helper()
	ctx := context.Background()
	out := map[string]storedKey{}
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		d, err := rdb.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		out[k] = storedKey{dump: d, pttl: rdb.PTTL(ctx, k).Val()}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// djangoGet asks the app for path and returns the status and body.
func djangoGet(t *testing.T, app *djangotest.App, path string) (int, string) {
	t.Helper()
	res, err := http.Get(app.URL() + path)
	if err != nil {
		t.Fatalf("GET %s from the app: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// startServeBeside runs serve on the app's Redis db, prefix and version.
func startServeBeside(t *testing.T, app *djangotest.App, rs *redistest.Server) *runningServe {
	t.Helper()
	return startServe(t, "--redis", "redis://"+rs.Addr+"/"+strconv.Itoa(app.DB), "--prefix", app.Prefix,
		"--key-version", strconv.Itoa(app.Version), "--seed-products", "60", "--cache-timeout", "2s")
}

// serve on the Redis of a Django app that has filled its cache: every
// route is answered 200 from serve's database, a key the app filled is left
// as it was (value and expiry) and the request is a BYPASS, the start-up
// log counts the app's values, and afterwards the app answers every route
// from its untouched cache as before.
func TestServeOnADjangoAppsRedisLeavesTheAppsValuesAlone(t *testing.T) {
	for _, v := range djangoEncodings {
		t.Run(v.name, func(t *testing.T) {
			e := startDjango(t, v.opts)
			app, rs, rdb := e.App, e.redis, e.rdb
			djangoBodies := map[string]string{}
			for _, r := range sharedRoutes {
				status, body := djangoGet(t, app, r.path)
				if status != 200 {
					t.Fatalf("the app: GET %s: %d %.200s", r.path, status, body)
				}
				djangoBodies[r.path] = body
			}
			before := storedKeys(t, rdb)
			if len(before) != len(sharedRoutes) {
				t.Fatalf("the app filled %d keys for %d routes", len(before), len(sharedRoutes))
			}
			start := time.Now()

			s := startServeBeside(t, app, rs)
			for _, r := range sharedRoutes {
				res := request("GET", s.base+r.path, "", "")
				_, theApps := before[app.Key(res.key)]
				switch {
				case res.err != nil || res.status != 200:
					t.Errorf("serve: GET %s: %d %v %.200s", r.path, res.status, res.err, res.body)
				case r.sameKey && (res.cache != "BYPASS" || !theApps):
					t.Errorf("serve: GET %s: %s for key %s (the app's: %v), want BYPASS from its database", r.path, res.cache, res.key, theApps)
				case !r.sameKey && (res.cache != "MISS" || theApps):
					t.Errorf("serve: GET %s: %s for key %s (the app's: %v), want a MISS on a key of its own", r.path, res.cache, res.key, theApps)
				}
			}
			elapsed := time.Since(start)
			after := storedKeys(t, rdb)
			for k, b := range before {
				a, ok := after[k]
				switch {
				case !ok:
					t.Errorf("the app's %s is gone", k)
				case a.dump != b.dump:
					t.Errorf("the app's %s was overwritten", k)
				case a.pttl > b.pttl || a.pttl < b.pttl-elapsed-time.Second:
					t.Errorf("the app's %s: TTL %v, was %v %v before", k, a.pttl, b.pttl, elapsed)
				}
			}

			for _, r := range sharedRoutes {
				if status, body := djangoGet(t, app, r.path); status != 200 || body != djangoBodies[r.path] {
					t.Errorf("the app after serve: GET %s: %d, same body as before: %v\n%.300s", r.path, status, body == djangoBodies[r.path], body)
				}
			}
			errOut := s.stop(t)
			want := fmt.Sprintf("foreign=%d checked=%d sampled=false", len(before), len(before))
			if !strings.Contains(errOut, "level=WARN") || !strings.Contains(errOut, "did not write") || !strings.Contains(errOut, want) {
				t.Errorf("the start-up log does not count the app's %d values (%s):\n%s", len(before), want, errOut)
			}
		})
	}
}

// The other way round, serve first: the app cannot decode serve's values
// (no pickle, JSON, zlib or integer begins like them), so it answers 500 on
// every route whose key serve filled, and leaves the value there. That is
// the app's limit, and why the two want their own prefix or version; once
// the keys are cleared, the app answers again.
func TestServeFirstThenADjangoAppOnTheSameKeys(t *testing.T) {
	for _, v := range djangoEncodings {
		t.Run(v.name, func(t *testing.T) {
			e := startDjango(t, v.opts)
			app, rs, rdb := e.App, e.redis, e.rdb
			s := startServeBeside(t, app, rs)
			for _, r := range sharedRoutes {
				if res := request("GET", s.base+r.path, "", ""); res.status != 200 || res.cache != "MISS" {
					t.Fatalf("serve: GET %s: %d %s %v", r.path, res.status, res.cache, res.err)
				}
			}
			s.stop(t)
			before := storedKeys(t, rdb)

			for _, r := range sharedRoutes {
				status, body := djangoGet(t, app, r.path)
				if want := map[bool]int{true: 500, false: 200}[r.sameKey]; status != want {
					t.Errorf("the app: GET %s: %d, want %d: %.200s", r.path, status, want, body)
				}
			}
			if tail := app.LogTail(200); !strings.Contains(tail, "UnpicklingError") && !strings.Contains(tail, "JSONDecodeError") {
				t.Errorf("the app's log does not say it could not decode serve's values:\n%s", tail)
			}
			after := storedKeys(t, rdb)
			for k, b := range before {
				if a, ok := after[k]; !ok || a.dump != b.dump {
					t.Errorf("serve's %s was replaced or removed by the failing app", k)
				}
			}

			ios, _, _, errOut := iostreams.Test()
			if code := runCLI(t, ios, "clear", "--all", "--yes", "--redis", "redis://"+rs.Addr+"/"+strconv.Itoa(app.DB),
				"--prefix", app.Prefix, "--key-version", strconv.Itoa(app.Version)); code != 0 {
				t.Fatalf("clear --all: exit %d: %s", code, errOut)
			}
			for _, r := range sharedRoutes {
				if status, body := djangoGet(t, app, r.path); status != 200 {
					t.Errorf("the app after clear --all: GET %s: %d %.200s", r.path, status, body)
				}
			}
		})
	}
}
