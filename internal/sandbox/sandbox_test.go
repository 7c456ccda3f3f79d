package sandbox_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// The demo's world: a private redis-server, the catalog over it caching
// under the schema, an admin token; Close leaves nothing behind.
func TestStartServesTheCatalogOverAPrivateRedis(t *testing.T) {
	ctx := context.Background()
	schema := keyspace.New("sandbox", 2)
	sb, err := sandbox.Start(ctx, sandbox.Options{SeedProducts: 20, Schema: schema, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			sb.Close()
		}
	}()
	if sb.RedisKind != sandbox.Process || sb.Local == nil || len(sb.Notes) != 0 {
		t.Fatalf("kind %q, local %v, notes %q: want a private redis-server and no notes", sb.RedisKind, sb.Local, sb.Notes)
	}
	if len(sb.API.AdminToken) != 32 {
		t.Errorf("admin token %q, want 32 hex digits", sb.API.AdminToken)
	}
	u := sb.API.URL.JoinPath("/api/products/1/").String()
	if c := get(t, u).Header.Get("X-Cache"); c != "MISS" {
		t.Errorf("first request: X-Cache %q, want MISS", c)
	}
	if c := get(t, u).Header.Get("X-Cache"); c != "HIT" {
		t.Errorf("second request: X-Cache %q, want HIT", c)
	}
	if n, err := sb.Redis.Client.Exists(ctx, schema.Key("product:1")).Result(); err != nil || n != 1 {
		t.Errorf("sandbox:2:product:1 in the sandbox's Redis: %d %v", n, err)
	}

	addr, dir := sb.Local.Addr, sb.Local.Dir
	sb.Close()
	closed = true
	for _, a := range []string{addr, sb.API.URL.Host} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still answers after Close", a)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the private Redis's directory %s is still there: %v", dir, err)
	}
}

// A given Redis that cannot be reached is replaced by a private one, and
// the sandbox says so.
func TestStartReplacesAnUnreachableRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	given := redisconn.Config{URL: "redis://" + addr + "/0", Timeout: time.Second}
	sb, err := sandbox.Start(context.Background(), sandbox.Options{Redis: &given, SeedProducts: 10, Schema: keyspace.New("s", 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if sb.RedisKind == sandbox.Given || len(sb.Notes) != 1 {
		t.Errorf("kind %q, notes %q: want a private Redis and one note", sb.RedisKind, sb.Notes)
	}
}

// A reachable given Redis is used as it is: the sandbox starts none.
func TestStartUsesTheGivenRedis(t *testing.T) {
	rs := redistest.Start(t)
	given := redisconn.Config{URL: rs.URL(), Timeout: time.Second}
	sb, err := sandbox.Start(context.Background(), sandbox.Options{Redis: &given, SeedProducts: 10, Schema: keyspace.New("s", 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if sb.RedisKind != sandbox.Given || sb.Local != nil {
		t.Errorf("kind %q, local %v: want the given Redis", sb.RedisKind, sb.Local)
	}
	get(t, sb.API.URL.JoinPath("/api/colors/").String())
	if n, err := rs.Client(t).Exists(context.Background(), "s:1:product_colors:all").Result(); err != nil || n != 1 {
		t.Errorf("the colors are not cached in the given Redis: %d %v", n, err)
	}
}

// Tests put a handler in front of the API; without Redis it serves from
// the database.
func TestMustStartAPIWrapsTheHandler(t *testing.T) {
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{
		Store: catalog.StoreConfig{SeedProducts: 10}, Schema: keyspace.New("s", 1),
		Wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Wrapped", "yes")
				h.ServeHTTP(w, r)
			})
		},
	})
	res := get(t, api.URL.JoinPath("/api/categories/").String())
	if res.StatusCode != 200 || res.Header.Get("X-Wrapped") != "yes" {
		t.Errorf("status %d, X-Wrapped %q", res.StatusCode, res.Header.Get("X-Wrapped"))
	}
}
