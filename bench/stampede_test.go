package bench_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

// redisSets is how many SET commands the server has run, scripts' included
// (INFO commandstats): a count of cache writes that owes nothing to bench.
func redisSets(t *testing.T, c *redis.Client) int {
	t.Helper()
	text, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "cmdstat_set:calls="); ok {
			n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
			return n
		}
	}
	return 0
}

// stampedeRun runs the suite and records what the server says about the
// stampede alone: measure is called when it starts and once the run is over.
func stampedeRun(t *testing.T, s bench.Suite, measure func() int) (bench.Result, int) {
	t.Helper()
	before := -1
	s.Config.Progress = func(msg string) {
		if strings.Contains(msg, "stampede") {
			before = measure()
		}
	}
	rep, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if before < 0 || len(rep.Endpoints) != 1 || rep.Endpoints[0].Stampede == nil {
		t.Fatalf("no stampede ran: %+v", rep.Endpoints)
	}
	return rep.Endpoints[0], measure() - before
}

// The reference server coalesces concurrent misses (singleflight): 20
// requests released together at a just-cleared key load the database once
// and store the key once, which the report says and Redis confirms.
func TestStampedeOnTheReferenceServerIsCoalesced(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	schema := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	// The database is slow enough that all 20 arrive while the first loads.
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{Redis: rs.ClientOptions(), RedisTimeout: 2 * time.Second,
		Store: catalog.StoreConfig{SeedProducts: 30, QueryLatency: 50 * time.Millisecond}, Schema: schema})
	obs, err := observe.New(context.Background(), rdb, observe.Options{Prefix: schema.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	s := bench.Suite{API: api.URL, Endpoints: []bench.Endpoint{{Name: "product", URL: api.URL.JoinPath("/api/products/3/").String()}},
		Config: bench.Config{Client: http.DefaultClient, Redis: rdb, Schema: schema, Observer: obs,
			ColdSamples: 1, Requests: 1, Concurrency: 1, Stampede: 20}}
	e, sets := stampedeRun(t, s, func() int { return redisSets(t, rdb) })
	st := e.Stampede
	if st.N != 20 || st.Errors != 0 || st.ByCache["MISS"]+st.ByCache["HIT"] != 20 || st.ByCache["MISS"] < 2 {
		t.Errorf("stampede %+v: want 20 answers, most of them misses", st)
	}
	if st.CacheWrites != 1 || sets != 1 || st.Coalesced == nil || !*st.Coalesced {
		t.Errorf("cache writes %d (Redis ran %d SETs), coalesced %v: want the key stored once", st.CacheWrites, sets, st.Coalesced)
	}
	// One load's queries, however many requests missed.
	if perLoad := int(e.Cold.DBQueries); st.OriginQueries != perLoad || perLoad < 1 {
		t.Errorf("origin queries %d, want one load's %d", st.OriginQueries, perLoad)
	}
	if st.P50 < 50 || st.Max < st.P99 || st.P99 < st.P50 {
		t.Errorf("latency p50 %.2f, p99 %.2f, max %.2f ms: every request waited for the 50ms load", st.P50, st.P99, st.Max)
	}
	if st.Cached == nil || !*st.Cached || rdb.Exists(context.Background(), schema.Key(keyspace.ProductKey(3))).Val() != 1 {
		t.Errorf("the key is not cached after the stampede (cached %v)", st.Cached)
	}
}

// django-redis does not coalesce: the app's workers each miss, load and
// store the key. The report counts every store Redis ran, and calls it
// not coalesced.
func TestStampedeOnTheDjangoFixtureIsNotCoalesced(t *testing.T) {
	app, rs := djangotest.StartWithRedis(t, djangotest.Options{SimulatedDBLatency: 20 * time.Millisecond})
	o := rs.ClientOptions()
	o.DB = app.DB
	rdb := redis.NewClient(o)
	t.Cleanup(func() { rdb.Close() })
	schema := keyspace.New(app.Prefix, app.Version)
	obs, err := observe.New(context.Background(), rdb, observe.Options{Prefix: schema.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	api, err := url.Parse(app.URL())
	if err != nil {
		t.Fatal(err)
	}
	s := bench.Suite{API: api, Endpoints: []bench.Endpoint{{Name: "product", URL: api.JoinPath("/api/products/3/").String()}},
		Config: bench.Config{Client: http.DefaultClient, Redis: rdb, Schema: schema, Observer: obs,
			ColdSamples: 1, Requests: 1, Concurrency: 1, Stampede: 20}}
	e, sets := stampedeRun(t, s, func() int { return redisSets(t, rdb) })
	st := e.Stampede
	if e.KeysFrom != "redis" || len(e.Keys) != 1 || e.Keys[0] != keyspace.ProductKey(3) {
		t.Fatalf("keys %v from %q: want product:3, traced in Redis", e.Keys, e.KeysFrom)
	}
	if st.N != 20 || st.Errors != 0 || st.ByCache["unknown"] != 20 || st.OriginQueries != -1 {
		t.Errorf("stampede %+v: want 20 answers of unknown state, no X-DB-Queries", st)
	}
	if st.CacheWrites < 2 || st.CacheWrites != sets || st.Coalesced == nil || *st.Coalesced {
		t.Errorf("cache writes %d, Redis ran %d SETs, coalesced %v: want every worker's store counted, not coalesced",
			st.CacheWrites, sets, st.Coalesced)
	}
	if st.Cached == nil || !*st.Cached || rdb.Exists(context.Background(), app.Key(keyspace.ProductKey(3))).Val() != 1 {
		t.Errorf("the key is not cached after the stampede (cached %v)", st.Cached)
	}
}
