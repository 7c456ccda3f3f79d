package observe

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
)

const prefix = "ecommerce:1:"

// cacheView is what a Django view does with django-redis: GET the key and,
// on a miss, SET it with PX.
func cacheView(app redis.UniversalClient, key string, ttl time.Duration) func(context.Context) error {
	return slowView(app, key, ttl, 0)
}

// slowView builds its response for build (the database's time) on a miss.
func slowView(app redis.UniversalClient, key string, ttl, build time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		err := app.Get(ctx, key).Err()
		if err == redis.Nil {
			time.Sleep(build)
			return app.Set(ctx, key, "pickled", ttl).Err()
		}
		return err
	}
}

func newObserver(t *testing.T, rdb redis.UniversalClient, m Mechanism) *Observer {
	t.Helper()
	o, err := New(context.Background(), rdb, Options{Prefix: prefix, Mechanism: m})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestMonitorSeesMissThenHit(t *testing.T) {
	srv := redistest.Start(t)
	app, rdb := srv.Client(t), srv.Client(t)
	o := newObserver(t, rdb, "")
	if o.Mechanism() != Monitor || o.Degraded() != "" {
		t.Fatalf("mechanism %s (%q), want monitor", o.Mechanism(), o.Degraded())
	}
	ctx := context.Background()
	key := prefix + "products:list:abc"
	app.Set(ctx, "ecommerce:2:products:list:abc", "other version", 0)

	miss, err := o.Observe(ctx, must(t, cacheView(app, key, 15*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if miss.State != Miss || !miss.Exact || len(miss.Writes) != 1 || miss.Writes[0].Key != key {
		t.Fatalf("first request: %+v, want a MISS writing %s", miss, key)
	}
	if w := miss.Writes[0]; w.TTL != 15*time.Minute || w.TTLAfter <= 14*time.Minute || w.Cmd != "SET" {
		t.Fatalf("write %+v: want SET with a 15m TTL, still about 15m after", w)
	}
	if len(miss.Reads) != 1 || miss.Reads[0].Found || miss.Misses < 1 {
		t.Fatalf("reads %+v misses %d: want one read of an absent key", miss.Reads, miss.Misses)
	}
	hit, err := o.Observe(ctx, must(t, cacheView(app, key, 15*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if hit.State != Hit || len(hit.Writes) != 0 || len(hit.Reads) != 1 || !hit.Reads[0].Found || hit.Hits < 1 {
		t.Fatalf("second request: %+v, want a HIT reading %s and writing nothing", hit, key)
	}
	if got := hit.CacheKeys(); len(got) != 1 || got[0] != key {
		t.Fatalf("keys %v, want [%s]", got, key)
	}
}

// A request that reads, finds nothing and stores nothing, one that deletes,
// one that does nothing, and a write without expiry.
func TestMonitorStates(t *testing.T) {
	srv := redistest.Start(t)
	app, rdb := srv.Client(t), srv.Client(t)
	o := newObserver(t, rdb, Monitor)
	ctx := context.Background()
	app.Set(ctx, prefix+"product:1", "x", time.Hour)
	app.Set(ctx, prefix+"product:1:variants", "x", time.Hour)
	cases := []struct {
		name    string
		request func(context.Context) error
		state   State
		check   func(Trace) bool
	}{
		{"bypass", func(ctx context.Context) error { return ignoreNil(app.Get(ctx, prefix+"product:404").Err()) }, Bypass,
			func(tr Trace) bool { return len(tr.Reads) == 1 && !tr.Reads[0].Found }},
		{"delete", func(ctx context.Context) error {
			return app.Unlink(ctx, prefix+"product:1", prefix+"product:1:variants").Err()
		}, Uncached, func(tr Trace) bool { return len(tr.Deletes) == 2 && tr.Deletes[0].Cmd == "UNLINK" }},
		{"uncached", func(ctx context.Context) error { return ignoreNil(app.Get(ctx, "session:abc").Err()) }, Uncached,
			func(tr Trace) bool { return len(tr.Reads)+len(tr.Writes)+len(tr.Deletes) == 0 }},
		{"no expiry", func(ctx context.Context) error { return app.Set(ctx, prefix+"categories:all", "x", 0).Err() }, Miss,
			func(tr Trace) bool {
				return len(tr.Writes) == 1 && tr.Writes[0].TTL == -1 && tr.Writes[0].TTLAfter == -1
			}},
		{"script", func(ctx context.Context) error {
			return app.Eval(ctx, "return redis.call('SET', KEYS[1], 'v', 'EX', 60)", []string{prefix + "product_colors:all"}).Err()
		}, Miss, func(tr Trace) bool { return len(tr.Writes) == 1 && tr.Writes[0].TTL == time.Minute }},
	}
	for _, c := range cases {
		tr, err := o.Observe(ctx, must(t, c.request))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if tr.State != c.state || !c.check(tr) {
			t.Errorf("%s: %+v, want %s", c.name, tr, c.state)
		}
	}
}

func ignoreNil(err error) error {
	if err == redis.Nil {
		return nil
	}
	return err
}

// Between windows no MONITOR runs: its cost is the windows' alone.
func TestNoMonitorOutsideTheWindow(t *testing.T) {
	srv := redistest.Start(t)
	app, rdb := srv.Client(t), srv.Client(t)
	o := newObserver(t, rdb, Monitor)
	ctx := context.Background()
	for i := range 3 {
		if _, err := o.Observe(ctx, must(t, cacheView(app, fmt.Sprintf("%sproduct:%d", prefix, i), time.Minute))); err != nil {
			t.Fatal(err)
		}
		list := app.ClientList(ctx).Val()
		for _, l := range strings.Split(list, "\n") {
			if strings.Contains(l, " flags=O ") || strings.Contains(l, "cmd=monitor") {
				t.Fatalf("after window %d a client is still monitoring:\n%s", i, l)
			}
		}
	}
}

// A busy writer under the prefix never lends its keys to the request.
func TestNoiseIsNeverTheRequests(t *testing.T) {
	srv := redistest.Start(t)
	app, rdb, bg := srv.Client(t), srv.Client(t), srv.Client(t)
	o := newObserver(t, rdb, Monitor)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			bg.Set(ctx, fmt.Sprintf("%snoise:%d", prefix, i), "x", time.Minute)
			time.Sleep(time.Millisecond)
		}
	})
	defer func() { stop(); wg.Wait() }()
	noisy := 0
	for i := range 20 {
		key := fmt.Sprintf("%sproducts:list:%d", prefix, i)
		tr, err := o.Observe(context.Background(), must(t, slowView(app, key, time.Minute, 5*time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range append(append(tr.Reads, tr.Writes...), tr.Deletes...) {
			if strings.Contains(k.Key, ":noise:") {
				t.Fatalf("trace %d attributes the background writer's %s to the request", i, k.Key)
			}
		}
		if tr.State != Miss || len(tr.Writes) != 1 || tr.Writes[0].Key != key {
			t.Fatalf("trace %d: %+v, want a MISS writing %s", i, tr, key)
		}
		if tr.Noise.Commands > 0 {
			noisy++
		}
	}
	if noisy < 15 {
		t.Fatalf("noise seen in %d of 20 windows of a writer busy every millisecond", noisy)
	}
}

// With MONITOR denied by ACL the observer falls back to CLIENT TRACKING,
// says why, and still names the written key with its TTL.
func TestTrackingWhereMonitorIsDenied(t *testing.T) {
	app, rdb := restricted(t, "-monitor")
	o := newObserver(t, rdb, "")
	if o.Mechanism() != Tracking || !strings.Contains(o.Degraded(), "MONITOR refused") || !strings.Contains(o.Degraded(), "NOPERM") {
		t.Fatalf("mechanism %s, degraded %q: want tracking, saying MONITOR was refused", o.Mechanism(), o.Degraded())
	}
	ctx := context.Background()
	key := prefix + "product:7"
	miss, err := o.Observe(ctx, must(t, cacheView(app, key, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if miss.State != Miss || !miss.Exact || len(miss.Writes) != 1 || miss.Writes[0].Key != key || miss.Writes[0].TTLAfter < 59*time.Minute {
		t.Fatalf("tracked miss: %+v, want %s written with its 1h TTL", miss, key)
	}
	hit, err := o.Observe(ctx, must(t, cacheView(app, key, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if hit.State != Hit || hit.Exact || len(hit.Writes) != 0 {
		t.Fatalf("tracked hit: %+v, want an approximate HIT (from the hit counter) with no write", hit)
	}
	del, err := o.Observe(ctx, must(t, func(ctx context.Context) error { return app.Del(ctx, key).Err() }))
	if err != nil || len(del.Deletes) != 1 || del.Deletes[0].Key != key {
		t.Fatalf("tracked delete: %+v %v, want %s deleted", del, err, key)
	}
}

func TestInfoIsTheLastResort(t *testing.T) {
	app, rdb := restricted(t, "-monitor -client")
	o := newObserver(t, rdb, "")
	if o.Mechanism() != Info || !strings.Contains(o.Degraded(), "MONITOR") || !strings.Contains(o.Degraded(), "TRACKING") {
		t.Fatalf("mechanism %s, degraded %q: want info, naming both refusals", o.Mechanism(), o.Degraded())
	}
	tr, err := o.Observe(context.Background(), must(t, cacheView(app, prefix+"product:9", time.Hour)))
	if err != nil || tr.State != Miss || tr.Exact || tr.Misses < 1 {
		t.Fatalf("info trace %+v %v: want an approximate MISS", tr, err)
	}
}

// A forced mechanism that the server refuses is an error, not a fallback.
func TestForcedMechanismRefused(t *testing.T) {
	_, rdb := restricted(t, "-monitor")
	_, err := New(context.Background(), rdb, Options{Prefix: prefix, Mechanism: Monitor})
	if err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("err %v, want MONITOR's refusal", err)
	}
}

// A password-protected server: the MONITOR connection authenticates as the
// client does.
func TestMonitorWithPassword(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Password: "s3cret"})
	app, rdb := srv.Client(t), srv.Client(t)
	o := newObserver(t, rdb, Monitor)
	tr, err := o.Observe(context.Background(), must(t, cacheView(app, prefix+"categories:all", time.Hour)))
	if err != nil || tr.State != Miss {
		t.Fatalf("trace %+v %v, want a MISS", tr, err)
	}
}

// On a cluster every master is observed: keys on different nodes are all
// the request's.
func TestMonitorOnACluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 0)
	app, rdb := cl.Client(t), cl.Client(t)
	o := newObserver(t, rdb, "")
	keys := []string{prefix + "product:1", prefix + "product:2", prefix + "product:3", prefix + "categories:all"}
	nodes := map[string]bool{}
	for _, k := range keys {
		n, err := rdb.MasterForKey(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		nodes[n.Options().Addr] = true
	}
	if len(nodes) < 2 {
		t.Fatalf("the keys fall on %d node(s); the test needs them spread", len(nodes))
	}
	tr, err := o.Observe(context.Background(), must(t, func(ctx context.Context) error {
		for _, k := range keys {
			if err := cacheView(app, k, time.Hour)(ctx); err != nil {
				return err
			}
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != Miss || len(tr.Writes) != len(keys) {
		t.Fatalf("cluster trace %+v: want %d writes across %d nodes", tr, len(keys), len(nodes))
	}
}

// restricted starts a server on which the user "app" may run every command
// but the denied ones ("-monitor -client"); it returns a client as the
// default user, the application's, and one as "app", the observer's.
func restricted(t *testing.T, denied string) (app, rdb *redis.Client) {
	srv := redistest.Start(t, redistest.Options{ACL: []string{"app on >pw ~* &* +@all " + denied}})
	opt := srv.ClientOptions()
	opt.Username, opt.Password = "app", "pw"
	rdb = redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return srv.Client(t), rdb
}

// must runs the app's side of a request, failing the test on its error.
func must(t *testing.T, request func(context.Context) error) func(context.Context) {
	return func(ctx context.Context) {
		if err := request(ctx); err != nil {
			t.Error(err)
		}
	}
}

// A MISS's cache key is what it read and then wrote: a fence it found and
// an index it only wrote are not; a HIT's is what it read and found.
func TestCacheKeys(t *testing.T) {
	key, fence, index := prefix+"products:list:1", prefix+"catalog:fence:lists", prefix+"catalog:index:lists"
	miss := Trace{Mechanism: Monitor,
		Reads:  []KeyOp{{Key: key}, {Key: fence, Found: true}},
		Writes: []KeyOp{{Key: key}, {Key: index}}}
	if got := miss.CacheKeys(); len(got) != 1 || got[0] != key {
		t.Errorf("MISS cache keys %v, want [%s]", got, key)
	}
	hit := Trace{Mechanism: Monitor, Reads: []KeyOp{{Key: key, Found: true}, {Key: prefix + "lock", Found: false}}}
	if got := hit.CacheKeys(); len(got) != 1 || got[0] != key {
		t.Errorf("HIT cache keys %v, want [%s]", got, key)
	}
	tracked := Trace{Mechanism: Tracking, Writes: []KeyOp{{Key: key}}}
	if got := tracked.CacheKeys(); len(got) != 1 || got[0] != key {
		t.Errorf("tracked cache keys %v, want [%s]", got, key)
	}
}
