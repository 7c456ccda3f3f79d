package catalog

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
	"github.com/cachectl/cachectl/keyspace"
)

const (
	testToken    = "test-admin-token"
	testProducts = 300
	sessionKey   = "ecommerce:1:django.contrib.sessions.cache:abc"
)

// templatePath is a catalog seeded once for the whole package: seeding runs
// SQLite under the race detector, which is slow, and every test wants the same rows.
var templatePath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "catalog-test")
	if err != nil {
		panic(err)
	}
	templatePath = filepath.Join(dir, "template.db")
	s, err := Open(context.Background(), StoreConfig{Path: templatePath, SeedProducts: testProducts})
	if err != nil {
		panic(err)
	}
	s.Close()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// openSeeded opens a private copy of the seeded template.
func openSeeded(t *testing.T) *Store {
	t.Helper()
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "catalog.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := Open(context.Background(), StoreConfig{Path: path, SeedProducts: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// testEnv is a catalog server over loopback HTTP, its store, and a private
// redis-server (or a cluster) with an admin client to look inside it.
type testEnv struct {
	t     *testing.T
	redis *redistest.Server     // nil on a cluster
	rdb   redis.UniversalClient // the test's own view of Redis
	cache redis.UniversalClient // the server's client
	cfg   Config
	store *Store
	srv   *Server
	url   string
	logs  *testwait.Buffer // what the servers of this env logged
}

type envConfig struct {
	cfg      Config
	redis    redistest.Options
	cluster  *redistest.Cluster
	inMemory bool
}

type envOption func(*envConfig)

func withSchema(s keyspace.Schema) envOption {
	return func(c *envConfig) { c.cfg.Schema = s }
}

// withRedisTimeout sets how long the server waits for Redis. Tests default to
// a generous 2s so that a machine loaded by the tests themselves never turns a
// HIT into a BYPASS; the fail-open tests use the real default.
func withRedisTimeout(d time.Duration) envOption {
	return func(c *envConfig) { c.cfg.RedisTimeout = d }
}

func withRedisArgs(args ...string) envOption {
	return func(c *envConfig) { c.redis.Args = append(c.redis.Args, args...) }
}

// inMemory serves a small catalog kept in memory, not in a file.
func inMemory() envOption {
	return func(c *envConfig) { c.inMemory = true }
}

// onCluster serves from cl, emptied first, instead of a private redis-server.
func onCluster(cl *redistest.Cluster) envOption {
	return func(c *envConfig) { c.cluster = cl }
}

func newEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	ec := envConfig{cfg: Config{Schema: keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion), AdminToken: testToken,
		RedisTimeout: 2 * time.Second}}
	for _, o := range opts {
		o(&ec)
	}
	e := &testEnv{t: t, logs: &testwait.Buffer{}}
	if ec.inMemory {
		store, err := Open(context.Background(), StoreConfig{SeedProducts: 30})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		e.store = store
	} else {
		e.store = openSeeded(t)
	}
	if ec.cfg.Logger == nil {
		ec.cfg.Logger = slog.New(slog.NewTextHandler(e.logs, nil))
	}
	if ec.cluster != nil {
		e.rdb = ec.cluster.Client(t)
		err := e.rdb.(*redis.ClusterClient).ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
			return m.FlushDB(ctx).Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		e.cache = redisconn.NewClient(RedisOptions(ec.cluster.Masters[0].ClientOptions(), ec.cfg.RedisTimeout), true)
	} else {
		e.redis = redistest.Start(t, ec.redis)
		e.rdb = e.redis.Client(t)
		e.cache = redis.NewClient(RedisOptions(e.redis.ClientOptions(), ec.cfg.RedisTimeout))
	}
	t.Cleanup(func() { e.cache.Close() })
	e.cfg = ec.cfg
	e.cfg.Store, e.cfg.Redis = e.store, e.cache
	e.srv, e.url = serveOver(t, e.cfg)
	// A session that django.contrib.sessions keeps under the same prefix:
	// nothing the catalog does may touch it.
	if err := e.rdb.Set(context.Background(), sessionKey, "session-data", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	return e
}

func serveOver(t *testing.T, cfg Config) (*Server, string) {
	srv := NewServer(cfg)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

// serve runs e's server with Serve, as serve does, on a port of its own
// until cancel is called; served receives what Serve returned.
func (e *testEnv) serve() (base string, cancel context.CancelFunc, served <-chan error) {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	res := make(chan error, 1)
	go func() { res <- e.srv.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), cancel, res
}

// another is a second catalog server on the same database and Redis, as a
// second process of the same deployment: it shares no memory with e's server.
func (e *testEnv) another() *testEnv {
	o := *e
	o.srv, o.url = serveOver(e.t, e.cfg)
	return &o
}

// response is what a client sees.
type response struct {
	status  int
	header  http.Header
	body    string
	elapsed time.Duration
}

func (r response) cache() string { return r.header.Get("X-Cache") }

func (r response) queries() int {
	n, _ := strconv.Atoi(r.header.Get("X-DB-Queries"))
	return n
}

// field decodes one top-level field of a JSON object body.
func (r response) field(t *testing.T, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m[name]
}

func (e *testEnv) do(method, path, body, token string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b), elapsed: time.Since(start)}
}

func (e *testEnv) get(path string) response {
	e.t.Helper()
	return e.do(http.MethodGet, path, "", "")
}

// admin sends an authorized write.
func (e *testEnv) admin(method, path, body string) response {
	e.t.Helper()
	return e.do(method, path, body, testToken)
}

// getConcurrently sends n GETs of path at once and returns their responses.
func (e *testEnv) getConcurrently(n int, path string) []response {
	var wg sync.WaitGroup
	res := make([]response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = e.get(path)
		}()
	}
	wg.Wait()
	return res
}

func (e *testEnv) mustGet(path string) response {
	e.t.Helper()
	r := e.get(path)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	return r
}

func (e *testEnv) exists(key string) bool {
	e.t.Helper()
	n, err := e.rdb.Exists(context.Background(), key).Result()
	if err != nil {
		e.t.Fatal(err)
	}
	return n == 1
}

func (e *testEnv) dbsize() int64 {
	e.t.Helper()
	n, err := e.rdb.DBSize(context.Background()).Result()
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// checkSessionSurvives asserts the foreign session key is intact with its TTL.
func (e *testEnv) checkSessionSurvives() {
	e.t.Helper()
	ttl, err := e.rdb.TTL(context.Background(), sessionKey).Result()
	if err != nil || ttl < 50*time.Minute {
		e.t.Fatalf("session key %s lost or lost its TTL: ttl=%v err=%v", sessionKey, ttl, err)
	}
}

// eventually retries check until it passes or ten seconds have gone.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	testwait.Eventually(t, 10*time.Second, what, check)
}

func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}
