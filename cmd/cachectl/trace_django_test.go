package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/iostreams"
)

// traceJSON is the part of `cachectl trace --json` the tests read.
type traceJSON struct {
	Mechanism string  `json:"mechanism"`
	Exact     bool    `json:"exact"`
	Degraded  *string `json:"degraded"`
	URLs      []struct {
		URL    string  `json:"url"`
		Status *int    `json:"status"`
		Cache  *string `json:"cache"`
		XCache *string `json:"x_cache"`
		Reads  []struct {
			Logical string `json:"logical"`
			Found   bool   `json:"found"`
		} `json:"reads"`
		Writes []struct {
			Key       string   `json:"key"`
			Logical   string   `json:"logical"`
			TTLS      *float64 `json:"ttl_s"`
			TTLAfterS *float64 `json:"ttl_after_s"`
		} `json:"writes"`
		Deletes []struct {
			Logical string `json:"logical"`
		} `json:"deletes"`
		Noise struct {
			Commands int `json:"commands"`
		} `json:"noise"`
	} `json:"urls"`
}

func (e *djangoEnv) trace(t *testing.T, extra []string, paths ...string) traceJSON {
	t.Helper()
	code, out, errOut := e.cachectl(t, append(append([]string{"trace", "--json"}, extra...), paths...)...)
	if code != 0 {
		t.Fatalf("trace exited %d\n%s\n%s", code, errOut, e.App.LogTail(20))
	}
	var r traceJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("trace JSON: %v\n%s", err, out)
	}
	if len(r.URLs) != len(paths) {
		t.Fatalf("trace reported %d URLs, want %d", len(r.URLs), len(paths))
	}
	return r
}

// djangoKey is the key the fixture's own generate_cache_key computes for
// a query string.
func djangoKey(t *testing.T, app *djangotest.App, prefix, query string) string {
	t.Helper()
	out := app.Manage(t, "shell", "-c", fmt.Sprintf(
		"from django.http import QueryDict; from products.views import generate_cache_key; print(generate_cache_key(%q, QueryDict(%q)))",
		prefix, query))
	return strings.TrimSpace(out)
}

// The Django app sends no cache header; trace names, for each of the
// seed's cached endpoints, exactly the key Django computes and its TTL.
func TestTraceNamesTheKeysDjangoComputes(t *testing.T) {
	e := startDjango(t, djangotest.Options{})
	list := djangoKey(t, e.App, "products:list", "category=7&ordering=-price")
	routes := []struct {
		path, key string
		ttl       float64
	}{
		{"/api/categories/", "categories:all", 1800},
		{"/api/categories/7/", "category:7", 1800},
		{"/api/colors/", "product_colors:all", 3600},
		{"/api/variants/?product=3", "product:3:variants:list", 900},
		{"/api/products/?category=7&ordering=-price", list, 600},
		{"/api/products/3/", "product:3", 900},
		{"/api/products/3/variants/", "product:3:variants", 900},
		{"/api/products/3/recommendations/", "product:3:recommendations", 1200},
		{"/api/products/top_sellers/", "products:top_sellers", 1800},
		{"/api/products/new_arrivals/", "products:new_arrivals", 900},
		{"/api/products/personalized/?user_id=5", djangoKey(t, e.App, "products:personalized", "user_id=5"), 1200},
		{"/api/products/filters/?category=1", djangoKey(t, e.App, "products:filters", "category=1"), 1800},
	}
	if !strings.HasPrefix(list, "products:list:") || len(list) != len("products:list:")+32 {
		t.Fatalf("generate_cache_key gave %q", list)
	}
	var paths []string
	for _, r := range routes {
		paths = append(paths, r.path)
	}
	// The same query in another order shares the key: a HIT, as Django's
	// sorted parameters make it.
	paths = append(paths, "/api/products/?ordering=-price&category=7")
	e.rdb.FlushDB(context.Background())

	first := e.trace(t, nil, paths...)
	if first.Mechanism != "monitor" || !first.Exact || first.Degraded != nil {
		t.Fatalf("mechanism %s exact %v degraded %v, want exact monitor", first.Mechanism, first.Exact, first.Degraded)
	}
	for i, r := range routes {
		u := first.URLs[i]
		if u.XCache != nil {
			t.Fatalf("%s: the fixture sent X-Cache %q; the test needs an app that does not", r.path, *u.XCache)
		}
		if *u.Cache != "MISS" || len(u.Writes) != 1 || u.Writes[0].Logical != r.key || u.Writes[0].Key != e.App.Key(r.key) {
			t.Errorf("%s: first trace %s %+v, want a MISS writing %s", r.path, *u.Cache, u.Writes, r.key)
			continue
		}
		if w := u.Writes[0]; w.TTLS == nil || *w.TTLS != r.ttl || w.TTLAfterS == nil || *w.TTLAfterS > r.ttl || *w.TTLAfterS < r.ttl-5 {
			t.Errorf("%s: TTL set %v, after %v; want %v s", r.path, w.TTLS, w.TTLAfterS, r.ttl)
		}
	}
	if u := first.URLs[len(routes)]; *u.Cache != "HIT" || len(u.Reads) != 1 || u.Reads[0].Logical != list {
		t.Errorf("reordered query: %s %+v, want a HIT on %s", *u.Cache, u.Reads, list)
	}
	second := e.trace(t, nil, paths...)
	for i, r := range routes {
		u := second.URLs[i]
		if *u.Cache != "HIT" || len(u.Writes) != 0 || len(u.Reads) != 1 || u.Reads[0].Logical != r.key || !u.Reads[0].Found {
			t.Errorf("%s: second trace %s reads %+v writes %+v, want a HIT reading %s", r.path, *u.Cache, u.Reads, u.Writes, r.key)
		}
	}
}

// A background writer under the prefix: none of its keys is ever the
// request's, and its traffic is counted as noise.
func TestTraceAttributesNoNoiseToTheRequest(t *testing.T) {
	e := startDjango(t, djangotest.Options{})
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			e.rdb.Set(ctx, e.App.Key(fmt.Sprintf("noise:%d", i)), "x", time.Minute)
			time.Sleep(time.Millisecond)
		}
	})
	t.Cleanup(func() { stop(); wg.Wait() })
	paths := []string{"/api/categories/", "/api/products/3/", "/api/products/?category=7&ordering=-price", "/api/products/top_sellers/"}
	noise := 0
	for range 3 {
		e.rdb.Del(context.Background(), e.App.Key("categories:all"), e.App.Key("product:3"), e.App.Key("products:top_sellers"))
		r := e.trace(t, nil, paths...)
		for _, u := range r.URLs {
			noise += u.Noise.Commands
			for _, w := range u.Writes {
				if strings.HasPrefix(w.Logical, "noise:") {
					t.Fatalf("%s: the background writer's %s is attributed to the request", u.URL, w.Logical)
				}
			}
			if len(u.Writes)+len(u.Reads) == 0 {
				t.Fatalf("%s: no key at all under a busy writer", u.URL)
			}
		}
	}
	if noise == 0 {
		t.Fatal("no noise counted beside a writer busy every millisecond")
	}
}

// With MONITOR denied by ACL, trace falls back to CLIENT TRACKING, says so,
// and still names the key written and its TTL.
func TestTraceFallsBackWhereMonitorIsDenied(t *testing.T) {
	e := startDjango(t, djangotest.Options{})
	admin := e.redis.Client(t)
	if err := admin.Do(context.Background(), "ACL", "SETUSER", "nomonitor", "on", ">pw", "~*", "&*", "+@all", "-monitor").Err(); err != nil {
		t.Fatal(err)
	}
	e.rdb.FlushDB(context.Background())
	ios, _, out, errOut := iostreams.Test()
	args := append([]string{"trace", "--json", "/api/products/3/"}, e.flags()...)
	args = append(args, "--redis", fmt.Sprintf("redis://nomonitor:pw@%s/%d", e.redis.Addr, e.App.DB))
	if code := runCLI(t, ios, args...); code != 0 {
		t.Fatalf("trace exited %d: %s", code, errOut)
	}
	var r traceJSON
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Mechanism != "tracking" || r.Degraded == nil || !strings.Contains(*r.Degraded, "MONITOR refused") || !strings.Contains(*r.Degraded, "NOPERM") {
		t.Fatalf("mechanism %s degraded %v: want tracking, saying MONITOR was refused", r.Mechanism, r.Degraded)
	}
	u := r.URLs[0]
	if *u.Cache != "MISS" || len(u.Writes) != 1 || u.Writes[0].Logical != "product:3" || *u.Writes[0].TTLAfterS < 890 {
		t.Fatalf("tracked trace %s %+v, want a MISS writing product:3 with its 900 s TTL", *u.Cache, u.Writes)
	}
}
