package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

// clearURLJSON is the part of `cachectl clear --url --json` the tests read.
type clearURLJSON struct {
	Op   string `json:"op"`
	URLs []struct {
		URL    string `json:"url"`
		Source string `json:"source"`
		Keys   []struct {
			Key     string `json:"key"`
			Logical string `json:"logical"`
			Deleted bool   `json:"deleted"`
		} `json:"keys"`
		Error    *string  `json:"error"`
		Rewarmed *bool    `json:"rewarmed"`
		TTLS     *float64 `json:"ttl_s"`
	} `json:"urls"`
	Matched  int  `json:"matched"`
	Deleted  int  `json:"deleted"`
	Complete bool `json:"complete"`
	DryRun   bool `json:"dry_run"`
	Errors   int  `json:"errors"`
}

func decodeClearURL(t *testing.T, out string) clearURLJSON {
	t.Helper()
	var r clearURLJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("clear --url JSON: %v\n%s", err, out)
	}
	return r
}

// With the cache full of several product lists and every other family,
// clear --url of one product-list URL deletes exactly that list's key,
// learned by observation (the app sends no header), and --rewarm brings it
// back with its 600 s TTL. --dry-run deletes nothing, and without --yes
// and no terminal nothing is deleted either.
func TestDjangoClearURLRemovesExactlyItsKey(t *testing.T) {
	e := startDjango(t, djangotest.Options{})
	e.fill(t)
	const path = "/api/products/?category=7&ordering=-price"
	e.trace(t, nil, "/api/products/?category=8", "/api/products/?ordering=name")
	key := e.App.Key(djangoKey(t, e.App, "products:list", "category=7&ordering=-price"))
	before := e.keys(t)
	if lists := slices.DeleteFunc(slices.Clone(before), func(k string) bool { return !strings.Contains(k, ":products:list:") }); len(lists) < 4 {
		t.Fatalf("want several product lists cached, have %v", lists)
	}

	code, out, errOut := e.cachectl(t, "clear", "--url", path, "--dry-run", "--json")
	if r := decodeClearURL(t, out); code != 0 || !r.DryRun || r.Matched != 1 || r.Deleted != 0 || r.URLs[0].Keys[0].Key != key {
		t.Fatalf("dry run exited %d: %+v\n%s", code, r, errOut)
	}
	if !strings.Contains(errOut, "note: learning each URL's cache key requests it once with GET") {
		t.Errorf("no note about the GET: %s", errOut)
	}
	if after := e.keys(t); !slices.Equal(after, before) {
		t.Fatalf("the dry run deleted %v", diff(before, after))
	}

	code, out, errOut = e.cachectl(t, "clear", "--url", path)
	if code != exitUsage || out != "" || !strings.Contains(errOut, "refusing to delete 1 keys (products:list:") ||
		!strings.Contains(errOut, "without confirmation") {
		t.Fatalf("without --yes and no terminal: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if after := e.keys(t); !slices.Equal(after, before) {
		t.Fatalf("the refused clear deleted %v", diff(before, after))
	}

	code, out, errOut = e.cachectl(t, "clear", "--url", path, "--yes", "--json")
	r := decodeClearURL(t, out)
	if code != 0 || r.Op != "clear" || !r.Complete || r.Deleted != 1 || r.Errors != 0 || r.URLs[0].Source != "monitor" || r.URLs[0].Rewarmed != nil {
		t.Fatalf("clear --url exited %d: %+v\n%s", code, r, errOut)
	}
	if g := diff(before, e.keys(t)); !slices.Equal(g, []string{key}) {
		t.Fatalf("clear --url %s deleted %v, want exactly %s", path, g, key)
	}

	code, out, errOut = e.cachectl(t, "clear", "--url", path, "--yes", "--rewarm", "--json")
	r = decodeClearURL(t, out)
	if u := r.URLs[0]; code != 0 || r.Deleted != 1 || u.Rewarmed == nil || !*u.Rewarmed || u.TTLS == nil || *u.TTLS > 600 || *u.TTLS < 590 {
		t.Fatalf("clear --url --rewarm exited %d: %+v\n%s", code, r, errOut)
	}
	if after := e.keys(t); !slices.Equal(after, before) {
		t.Fatalf("after --rewarm, lost %v", diff(before, after))
	}
	if ttl := e.rdb.PTTL(t.Context(), key).Val(); ttl <= 0 {
		t.Fatalf("the rewarmed key's PTTL is %v", ttl)
	}
}

// A URL whose response is not cached names no key: an error for that URL
// (exit 1, saying why), while the other URL's key is still deleted.
func TestDjangoClearURLWithoutAKeyFailsThatURL(t *testing.T) {
	e := startDjango(t, djangotest.Options{})
	e.fill(t)
	before := e.keys(t)
	code, out, errOut := e.cachectl(t, "clear", "--url", "/api/products/3/", "--url", "/api/", "--yes")
	if code != exitFailed || !strings.Contains(errOut, "/api/: Redis showed no cache key for URL: the request issued no command on the cache's keys") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if g := diff(before, e.keys(t)); !slices.Equal(g, []string{e.App.Key("product:3")}) {
		t.Fatalf("deleted %v, want only product:3", g)
	}
	if !strings.Contains(out, "url\tkey\tdeleted\n") || !strings.Contains(out, "/api/products/3/\tproduct:3\tyes\n") {
		t.Fatalf("piped output:\n%s", out)
	}
}

// --url names its own target: any other target flag is a usage error.
func TestDjangoClearURLWithAnotherTargetIsUsage(t *testing.T) {
	e := startDjango(t, djangotest.Options{})
	code, _, errOut := e.cachectl(t, "clear", "--url", "/api/products/3/", "--products", "--yes")
	if code != exitUsage || !strings.Contains(errOut, "--url combines with no other target flag: drop --products") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// serve sends X-Cache-Key: that header's key is the one cleared, and
// --rewarm brings it back.
func TestClearURLUsesXCacheKey(t *testing.T) {
	c := startCatalog(t, 0, nil)
	c.get(t, "/api/products/?category=2")
	c.get(t, "/api/products/5/")
	ios, _, out, errOut := iostreams.Test()
	code := runCLI(t, ios, "clear", "--json", "--yes", "--rewarm", "--redis", "redis://"+c.Redis.Addr, "--api", c.URL,
		"--url", "/api/products/5/")
	r := decodeClearURL(t, out.String())
	if u := r.URLs[0]; code != 0 || u.Source != "x-cache-key" || len(u.Keys) != 1 || u.Keys[0].Logical != "product:5" || !u.Keys[0].Deleted ||
		u.Rewarmed == nil || !*u.Rewarmed {
		t.Fatalf("exit %d: %+v\n%s", code, r, errOut)
	}
	if n := c.RDB.Exists(t.Context(), c.Schema.Key("product:5")).Val(); n != 1 {
		t.Fatalf("product:5 exists %d after --rewarm", n)
	}

}

// On a terminal the prompt lists the learned keys by name; only y deletes,
// and the summary says what went.
func TestClearURLAsksOnATerminal(t *testing.T) {
	c := startCatalog(t, 0, nil)
	for _, answer := range []string{"n\n", "y\n"} {
		c.get(t, "/api/products/5/")
		ios, in, out, errOut := iostreams.Test()
		ios.SetStdinTTY(true)
		ios.SetStderrTTY(true)
		ios.SetStdoutTTY(true)
		in.WriteString(answer)
		code := runCLI(t, ios, "clear", "--redis", "redis://"+c.Redis.Addr, "--api", c.URL, "--url", "/api/products/5/")
		if !strings.Contains(errOut.String(), "about to delete 1 keys under \"ecommerce:1:\"") || !strings.Contains(errOut.String(), "\n  product:5\ndelete them? [y/N]") {
			t.Fatalf("prompt:\n%s", errOut)
		}
		left := c.RDB.Exists(t.Context(), c.Schema.Key("product:5")).Val()
		switch {
		case answer == "n\n" && (code != exitFailed || left != 1 || !strings.Contains(errOut.String(), "not confirmed: nothing deleted")):
			t.Fatalf("answer n: exit %d, product:5 exists %d\n%s", code, left, errOut)
		case answer == "y\n" && (code != 0 || left != 0 || !strings.Contains(out.String(), "deleted 1 keys from redis://")):
			t.Fatalf("answer y: exit %d, product:5 exists %d\n%s%s", code, left, out, errOut)
		}
	}
}

// With MONITOR denied, the key is learned by CLIENT TRACKING from the
// request's write: an uncached URL (a MISS) is cleared by name; an already
// cached one (a HIT, no write) is an error that says why.
func TestDjangoClearURLWhereMonitorIsDenied(t *testing.T) {
	e := startDjango(t, djangotest.Options{})
	if err := e.redis.Client(t).Do(t.Context(), "ACL", "SETUSER", "nomonitor", "on", ">pw", "~*", "&*", "+@all", "-monitor").Err(); err != nil {
		t.Fatal(err)
	}
	e.fill(t)
	e.rdb.Del(t.Context(), e.App.Key("product:3"))
	before := e.keys(t)
	ios, _, out, errOut := iostreams.Test()
	args := append([]string{"clear", "--json", "--yes", "--url", "/api/products/3/", "--url", "/api/products/5/"}, e.flags()...)
	code := runCLI(t, ios, append(args, "--redis", fmt.Sprintf("redis://nomonitor:pw@%s/%d", e.redis.Addr, e.App.DB))...)
	r := decodeClearURL(t, out.String())
	if code != exitFailed || r.Deleted != 1 || r.URLs[0].Source != "tracking" || r.URLs[0].Keys[0].Logical != "product:3" ||
		r.URLs[1].Error == nil || !strings.Contains(*r.URLs[1].Error, "CLIENT TRACKING (MONITOR refused) sees writes only") {
		t.Fatalf("exit %d: %+v\n%s", code, r, errOut)
	}
	if g := diff(before, e.keys(t)); len(g) != 0 {
		t.Fatalf("deleted %v, keys that were there before", g)
	}
}

// An app that caches in db 0, cleared with --redis pointing at db 3: the
// key its X-Cache-Key names is the app's in db 0, so a key of the same name
// in db 3 is not the URL's and stays. The URL fails (exit 1) and says
// which db the request used.
func TestClearURLInAnotherDBDeletesNothingThere(t *testing.T) {
	c := startCatalog(t, 0, nil)
	c.get(t, "/api/colors/")
	key := c.Schema.Key(keyspace.KeyColors)
	db3 := redis.NewClient(&redis.Options{Addr: c.Redis.Addr, DB: 3})
	t.Cleanup(func() { db3.Close() })
	seedKeys(t, db3, key)
	url3 := strings.TrimSuffix(c.Redis.URL(), "/0") + "/3"
	code, out, errOut := runAPICommand(t, []string{"clear", "--url", "/api/colors/", "--yes", "--json"}, c.URL, url3)
	if exists(t, db3, key) != 1 {
		t.Errorf("%s in db 3 was deleted: the URL's key is the one in db 0", key)
	}
	if exists(t, c.RDB, key) != 1 {
		t.Errorf("%s in db 0 was deleted through --redis .../3", key)
	}
	r := decodeClearURL(t, out)
	if code != exitFailed || r.Deleted != 0 || r.Errors != 1 || r.URLs[0].Error == nil ||
		!strings.Contains(*r.URLs[0].Error, "the request used no such key in this db: it used the cache in db 0: point --redis at that db") {
		t.Fatalf("exit %d, want 1 and the URL failed naming db 0: %+v\n%s", code, r, errOut)
	}
}

// startServeUnderAnotherPrefix serves the catalog cached under shop:3:
// beside another app's key under cachectl's default namespace, of the name
// the colors route's X-Cache-Key names. It returns the API's and Redis's
// URLs, a client of that Redis and the other app's key.
func startServeUnderAnotherPrefix(t *testing.T) (api, redisURL string, c *redis.Client, other string) {
	t.Helper()
	rs := redistest.Start(t)
	a := sandbox.MustStartAPI(t, sandbox.APIOptions{
		Redis: rs.ClientOptions(), Store: catalog.StoreConfig{SeedProducts: 20}, Schema: keyspace.New("shop", 3),
		RedisTimeout: 2 * time.Second,
	})
	c = rs.Client(t)
	other = keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion).Key(keyspace.KeyColors)
	seedKeys(t, c, other)
	return a.URL.String(), rs.URL(), c, other
}

// The Django app, which sends no X-Cache-Key, under another prefix and
// version than cachectl's: MONITOR shows its request use no key under
// cachectl's namespace, so another app's key of the same logical name
// stays, and so does the app's own; the URL fails (exit 1).
func TestDjangoClearURLUnderAnotherPrefixDeletesNothing(t *testing.T) {
	e := startDjango(t, djangotest.Options{Prefix: "shop", Version: 3})
	other := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion).Key(keyspace.KeyColors)
	e.fill(t) // empties the db first
	seedKeys(t, e.rdb, other)
	before := e.keys(t)
	code, out, errOut := runAPICommand(t, []string{"clear", "--url", "/api/colors/", "--yes", "--json"}, e.App.URL(),
		fmt.Sprintf("redis://%s/%d", e.redis.Addr, e.App.DB))
	if g := diff(before, e.keys(t)); len(g) != 0 {
		t.Errorf("deleted %v with the wrong --prefix", g)
	}
	if exists(t, e.rdb, other) != 1 {
		t.Errorf("%s was deleted: the URL's key is %s", other, e.App.Key(keyspace.KeyColors))
	}
	r := decodeClearURL(t, out)
	if code != exitFailed || r.Deleted != 0 || r.Errors != 1 || r.URLs[0].Error == nil {
		t.Fatalf("exit %d, want 1 and the URL failed: %+v\n%s", code, r, errOut)
	}
}

// An app that caches under another prefix and version than cachectl's
// (--prefix forgotten): its X-Cache-Key names a logical key whose name
// under cachectl's namespace is another app's key. That key stays, and the
// URL fails (exit 1) pointing at --prefix and --key-version.
func TestClearURLUnderAnotherPrefixDeletesNothingHere(t *testing.T) {
	api, rs, c, other := startServeUnderAnotherPrefix(t)
	code, out, errOut := runAPICommand(t, []string{"clear", "--url", "/api/colors/", "--yes", "--json"}, api, rs)
	if exists(t, c, other) != 1 {
		t.Errorf("%s was deleted: the URL's key is shop:3:%s", other, keyspace.KeyColors)
	}
	r := decodeClearURL(t, out)
	if code != exitFailed || r.Deleted != 0 || r.Errors != 1 || r.URLs[0].Error == nil ||
		!strings.Contains(*r.URLs[0].Error, "but the request used no such key in this db: check --prefix and --key-version") {
		t.Fatalf("exit %d, want 1 and the URL failed naming --prefix: %+v\n%s", code, r, errOut)
	}
}
