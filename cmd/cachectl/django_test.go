package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/check"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/render"
)

// djangoVariants are the settings every command is tried in against the
// Django fixture: as django-redis and DRF document it; another db, prefix
// and version; paginated categories, Token auth and zlib.
var djangoVariants = []struct {
	name string
	opts djangotest.Options
}{
	{"defaults", djangotest.Options{}},
	{"db 3 prefix shop version 7", djangotest.Options{DB: new(3), Prefix: "shop", Version: 7}},
	{"paginated token zlib", djangotest.Options{PaginateCategories: true, TokenAuth: true, Compressor: djangotest.Zlib}},
}

// djangoRoutes are the app's cached GETs; together they fill a key of every
// family of the seed.
var djangoRoutes = []string{
	"/api/categories/", "/api/categories/7/", "/api/categories/8/", "/api/colors/",
	"/api/variants/?product=3", "/api/products/?category=7&ordering=-price", "/api/products/?page=2",
	"/api/products/3/", "/api/products/3/variants/", "/api/products/3/recommendations/",
	"/api/products/5/", "/api/products/5/variants/", "/api/products/30/",
	"/api/products/top_sellers/", "/api/products/new_arrivals/",
	"/api/products/personalized/?user_id=5", "/api/products/filters/?category=1",
}

// djangoEnv is a running fixture with its own Redis, and the flags that
// point cachectl at it.
type djangoEnv struct {
	*djangotest.App
	redis *redistest.Server
	rdb   *redis.Client // the app's db
	db0   *redis.Client
}

func startDjango(t *testing.T, opts djangotest.Options) *djangoEnv {
	t.Helper()
	app, srv := djangotest.StartWithRedis(t, opts)
	e := &djangoEnv{App: app, redis: srv}
	for _, db := range []int{app.DB, 0} {
		o := srv.ClientOptions()
		o.DB = db
		c := redis.NewClient(o)
		t.Cleanup(func() { c.Close() })
		if db == app.DB {
			e.rdb = c
		} else {
			e.db0 = c
		}
	}
	return e
}

// flags point cachectl at the app's Redis db, prefix and version, and its API.
func (e *djangoEnv) flags() []string {
	return []string{"--redis", fmt.Sprintf("redis://%s/%d", e.redis.Addr, e.App.DB),
		"--prefix", e.App.Prefix, "--key-version", strconv.Itoa(e.App.Version), "--api", e.App.URL()}
}

// fill empties the app's db and GETs every cached route, plus a key under
// the prefix that no group owns (a session, as django.contrib.sessions
// stores them in the cache) and a key in db 0.
func (e *djangoEnv) fill(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for _, p := range djangoRoutes {
		resp, err := http.Get(e.App.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s\n%s", p, resp.Status, e.App.LogTail(20))
		}
	}
	e.rdb.Set(ctx, e.App.Key("django.contrib.sessions.cacheabc"), "session", 0)
	e.db0.Set(ctx, "elsewhere", "x", 0)
}

// keys lists the app db's keys, sorted.
func (e *djangoEnv) keys(t *testing.T) []string {
	t.Helper()
	var out []string
	iter := e.rdb.Scan(context.Background(), 0, "*", 1000).Iterator()
	for iter.Next(context.Background()) {
		if !slices.Contains(out, iter.Val()) {
			out = append(out, iter.Val())
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func (e *djangoEnv) cachectl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	code = runCLI(t, ios, append(args, e.flags()...)...)
	return code, out.String(), errOut.String()
}

func TestDjangoClearDeletesWhatClearProductCacheDeletes(t *testing.T) {
	// From the same state, `cachectl clear` and the app's own
	// clear_product_cache leave the same keys, except where cachectl
	// differs on purpose: --all is the groups' union, never FLUSHDB (a
	// session under the prefix and other apps' keys stay), and --product-id
	// without --cascade leaves the listings.
	for _, v := range djangoVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			e := startDjango(t, v.opts)
			session := e.App.Key("django.contrib.sessions.cacheabc")
			for _, tc := range []struct {
				cachectl, manage []string
				// extra are the keys cachectl keeps that clear_product_cache deletes.
				extra func(before []string) []string
			}{
				{[]string{"--products"}, []string{"--products"}, nil},
				{[]string{"--categories"}, []string{"--categories"}, nil},
				{[]string{"--colors"}, []string{"--colors"}, nil},
				{[]string{"--products", "--categories", "--colors"}, []string{"--products", "--categories", "--colors"}, nil},
				{[]string{"--product-id", "3", "--cascade"}, []string{"--product-id", "3"}, nil},
				{[]string{"--product-id", "3"}, []string{"--product-id", "3"}, func(before []string) []string {
					var listings []string
					for _, k := range before {
						if strings.HasPrefix(k, e.App.Key("products:")) {
							listings = append(listings, k)
						}
					}
					return listings
				}},
				{[]string{"--all"}, []string{"--all"}, func([]string) []string { return []string{session} }},
			} {
				name := strings.Join(tc.cachectl, " ")
				e.fill(t)
				before := e.keys(t)
				e.App.Manage(t, append([]string{"clear_product_cache"}, tc.manage...)...)
				byApp := e.keys(t)

				e.fill(t)
				if got := e.keys(t); !slices.Equal(got, before) {
					t.Fatalf("%s: refilling gave another key set:\n%v\nwant\n%v", name, got, before)
				}
				code, out, errOut := e.cachectl(t, append(append([]string{"clear"}, tc.cachectl...), "--yes", "--json")...)
				if code != 0 {
					t.Fatalf("cachectl clear %s: exit %d: %s", name, code, errOut)
				}
				var res clearResult
				if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Complete {
					t.Fatalf("cachectl clear %s: %v: %s", name, err, out)
				}
				byCachectl := e.keys(t)
				var extra []string
				if tc.extra != nil {
					extra = tc.extra(before)
				}
				want := append(slices.Clone(byApp), extra...)
				slices.Sort(want)
				if !slices.Equal(byCachectl, want) {
					t.Errorf("clear %s: cachectl left %v\nclear_product_cache %s left %v (plus, on purpose, %v)",
						name, byCachectl, strings.Join(tc.manage, " "), byApp, extra)
				}
				if res.Deleted != int64(len(before)-len(byCachectl)) {
					t.Errorf("clear %s: reported %d deleted, %d are gone", name, res.Deleted, len(before)-len(byCachectl))
				}
				if n := e.db0.Exists(context.Background(), "elsewhere").Val(); n != 1 {
					t.Errorf("clear %s touched db 0", name)
				}
				t.Logf("clear %s: %d of %d keys gone, as clear_product_cache %s (%d gone); kept on purpose: %d",
					name, len(before)-len(byCachectl), len(before), strings.Join(tc.manage, " "), len(before)-len(byApp), len(extra))
			}
		})
	}
}

func TestDjangoKeysStatsTopAndPing(t *testing.T) {
	// keys, stats, top --once and ping read the app's Redis as it is:
	// exact group counts of pickled (or compressed) values in the app's db,
	// under its prefix and version.
	for _, v := range djangoVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			e := startDjango(t, v.opts)
			e.fill(t)
			want := map[string]int64{}
			for _, k := range e.keys(t) {
				switch logical := strings.TrimPrefix(k, e.App.Key("")); {
				case strings.HasPrefix(logical, "product:"), strings.HasPrefix(logical, "products:"):
					want["products"]++
				case strings.HasPrefix(logical, "categor"):
					want["categories"]++
				case strings.HasPrefix(logical, "product_colors:"):
					want["colors"]++
				}
			}
			if want["products"] == 0 || want["categories"] == 0 || want["colors"] != 1 {
				t.Fatalf("the fixture cached %v", want)
			}

			code, out, errOut := e.cachectl(t, "keys", "--json")
			var keys keysResult
			if code != 0 || json.Unmarshal([]byte(out), &keys) != nil {
				t.Fatalf("keys: exit %d: %s %s", code, out, errOut)
			}
			for g, n := range want {
				if got := keys.Groups[g].Keys; got != n {
					t.Errorf("keys: %s has %d keys, Redis holds %d", g, got, n)
				}
				if keys.Groups[g].MemoryBytesEst <= 0 {
					t.Errorf("keys: %s memory estimate %d", g, keys.Groups[g].MemoryBytesEst)
				}
			}
			for _, args := range [][]string{{"stats", "--json"}, {"top", "--once", "--json"}} {
				code, out, errOut = e.cachectl(t, args...)
				var st render.StatsResult
				if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
					t.Fatalf("%v: exit %d: %s %s", args, code, out, errOut)
				}
				for g, n := range want {
					if got := st.Groups[g].Keys; got != n {
						t.Errorf("%v: %s has %d keys, Redis holds %d", args, g, got, n)
					}
				}
				if db := fmt.Sprintf("db%d", e.App.DB); st.DBs[db].Keys == 0 {
					t.Errorf("%v: %s shows no keys: %+v", args, db, st.DBs)
				}
			}
			if code, out, errOut = e.cachectl(t, "ping"); code != 0 || !strings.Contains(out, "PONG") {
				t.Errorf("ping: exit %d: %s %s", code, out, errOut)
			}
		})
	}
}

func TestDjangoWrongTargetHints(t *testing.T) {
	// Pointed at db 0, or at the wrong prefix and version, every reading
	// command still exits 0 (nothing is wrong with Redis) but says where
	// the app's keys are.
	e := startDjango(t, djangotest.Options{Prefix: "shop", Version: 7})
	e.fill(t)
	ctx := context.Background()
	e.db0.Del(ctx, "elsewhere")
	redisURL := func(db int) string { return fmt.Sprintf("redis://%s/%d", e.redis.Addr, db) }
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"db 0", []string{"--redis", redisURL(0), "--prefix", "shop", "--key-version", "7"}, "db1 holds"},
		{"default prefix", []string{"--redis", redisURL(1)}, `under "shop:7:": try --prefix shop --key-version 7`},
	} {
		for _, cmd := range [][]string{{"keys"}, {"stats"}, {"clear", "--products", "--dry-run"}, {"clear", "--all", "--yes"}} {
			t.Run(tc.name+"/"+strings.Join(cmd, " "), func(t *testing.T) {
				ios, _, _, errOut := iostreams.Test()
				if code := runCLI(t, ios, append(slices.Clone(cmd), tc.args...)...); code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				if !strings.Contains(errOut.String(), "hint: ") || !strings.Contains(errOut.String(), tc.want) {
					t.Errorf("stderr %q lacks a hint with %q", errOut, tc.want)
				}
			})
		}
	}
	if n := len(e.keys(t)); n < len(djangoRoutes) {
		t.Errorf("the misdirected commands deleted keys of the app: %d left", n)
	}

	// warm and check fill the cache through the API and then look in the
	// wrong place: they fail (the keys are not where they look) and say
	// where they are.
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"warm", []string{"warm"}},
		{"check", []string{"check", "--skip-clear"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			code := runCLI(t, ios, append(tc.args, "--redis", redisURL(0), "--prefix", "shop", "--key-version", "7", "--api", e.URL())...)
			if code != exitFailed || !strings.Contains(out.String()+errOut.String(), "db1 holds") {
				t.Errorf("exit %d, want 1 and a hint naming db1:\n%s\n%s", code, out, errOut)
			}
		})
	}
}

func TestDjangoCheck(t *testing.T) {
	// check end to end against the app: the write probe authenticates the
	// way the app wants (Token after its 401, or basic auth from --api with
	// DRF's default authentication), sees exactly its keys go, and puts the
	// price back.
	for _, v := range djangoVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			e := startDjango(t, v.opts)
			args := []string{"check", "--yes", "--json"}
			flags := e.flags()
			if v.opts.TokenAuth {
				args = append(args, "--admin-token", e.App.AdminToken)
			} else {
				api := strings.Replace(e.App.URL(), "http://", "http://"+djangotest.AdminUser+":"+djangotest.AdminPassword+"@", 1)
				flags[len(flags)-1] = api
				args = append(args, "--admin-auth-scheme", "basic")
			}
			ios, _, out, errOut := iostreams.Test()
			code := runCLI(t, ios, append(args, flags...)...)
			var rep check.Report
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("exit %d: %v: %s\n%s", code, err, out, errOut)
			}
			var inv *check.Step
			endpoints := 0
			for i, s := range rep.Steps {
				if s.Name == "invalidation" {
					inv = &rep.Steps[i]
				}
				if strings.HasPrefix(s.Name, "endpoint ") {
					// The app sends no X-Cache: Redis proves the MISS and the HIT.
					endpoints++
					if !strings.Contains(s.Detail, "in Redis (monitor): wrote it with TTL") || !strings.Contains(s.Detail, "then read it and wrote nothing") {
						t.Errorf("%s: %q, want its MISS and HIT proven in Redis", s.Name, s.Detail)
					}
				}
				t.Logf("%-24s ok=%v %s", s.Name, s.OK, s.Detail)
			}
			if inv == nil || !inv.OK || inv.Skipped {
				t.Fatalf("invalidation step %+v, want it run and passed", inv)
			}
			if endpoints < 5 {
				t.Errorf("%d endpoint steps, want the seed's endpoints", endpoints)
			}
			wantAuth := "basic auth from --api"
			if v.opts.TokenAuth {
				wantAuth = "Authorization: Token"
			}
			if !strings.Contains(inv.Detail, wantAuth) || !strings.Contains(inv.Detail, "price put back") {
				t.Errorf("invalidation: %q, want it done with %s and undone", inv.Detail, wantAuth)
			}
			if !rep.Passed || code != 0 {
				t.Errorf("check against the Django app: exit %d, passed %v", code, rep.Passed)
			}
			if strings.Contains(out.String()+errOut.String(), djangotest.AdminPassword+"@") {
				t.Error("the API's credentials are printed")
			}
		})
	}
}
