package observe

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
	"github.com/cachectl/cachectl/keyspace"
)

// sampleWhileMonitoring runs Sample in the background and, once its
// window is open, runs traffic; it returns the report.
func sampleWhileMonitoring(t *testing.T, srv *redistest.Server, cfg SampleConfig, traffic func()) SampleReport {
	t.Helper()
	cfg.Selection = keyspace.New("ecommerce", 1).Selection()
	return sampleWhileMonitoringClient(t, srv, srv.Client(t), cfg, traffic)
}

// sampleWhileMonitoringClient is sampleWhileMonitoring through rdb.
func sampleWhileMonitoringClient(t *testing.T, srv *redistest.Server, rdb *redis.Client, cfg SampleConfig, traffic func()) SampleReport {
	t.Helper()
	type result struct {
		r   SampleReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := Sample(context.Background(), rdb, cfg)
		done <- result{r, err}
	}()
	admin := srv.Client(t)
	testwait.Until(t, 5*time.Second, "the sampler's MONITOR", func() error {
		list, err := admin.ClientList(context.Background()).Result()
		if err != nil {
			return err
		}
		// MONITOR runs and the window's first marker (ECHO) has been sent.
		if !strings.Contains(list, "cmd=monitor") || !strings.Contains(list, "cmd=echo") {
			return fmt.Errorf("no window open in:\n%s", list)
		}
		return nil
	})
	traffic()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		return res.r
	case <-time.After(20 * time.Second):
		t.Fatal("Sample did not return")
		return SampleReport{}
	}
}

func TestSampleCountsHitsAndMissesPerGroup(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	app, other := srv.Client(t), srv.Client(t)
	ownOpts := srv.ClientOptions()
	ownOpts.ClientName = "cachectl"
	own := redis.NewClient(ownOpts)
	t.Cleanup(func() { _ = own.Close() })
	own.Ping(ctx) // connected, so named, before the window lists the clients
	otherOpts := srv.ClientOptions()
	otherOpts.DB = 2
	otherDB := redis.NewClient(otherOpts)
	t.Cleanup(func() { _ = otherDB.Close() })
	for i := range 7 {
		app.Set(ctx, fmt.Sprintf("%sproduct:%d", prefix, i), "cached", time.Hour)
	}
	app.Set(ctx, prefix+"categories:all", "cached", time.Hour)

	report := sampleWhileMonitoring(t, srv, SampleConfig{Window: 3 * time.Second, Period: 4 * time.Second, Windows: 1}, func() {
		view := func(c *redis.Client, key string) { must(t, cacheView(c, key, time.Hour))(ctx) }
		// products: 7 hits, 3 misses (one of them a get_many member).
		for i := range 7 {
			view(app, fmt.Sprintf("%sproduct:%d", prefix, i))
		}
		for i := 100; i < 102; i++ {
			view(app, fmt.Sprintf("%sproduct:%d", prefix, i))
		}
		app.MGet(ctx, prefix+"product:0", prefix+"product:200") // a hit and a miss
		app.Set(ctx, prefix+"product:200", "cached", time.Hour)
		// categories: get_or_set of a missing key (GET, SET NX, GET) is one
		// miss; then 2 hits from another client.
		app.Get(ctx, prefix+"category:5")
		app.SetNX(ctx, prefix+"category:5", "cached", time.Hour)
		app.Get(ctx, prefix+"category:5")
		view(other, prefix+"categories:all")
		view(other, prefix+"category:5")
		// colors: one miss.
		view(other, prefix+"product_colors:all")
		// Not the app's: cachectl's own connection, another database, keys
		// of no group.
		own.Get(ctx, prefix+"product:0")
		own.Get(ctx, prefix+"product:999")
		otherDB.Get(ctx, prefix+"product:1")
		app.Get(ctx, prefix+"sessions:abc")
	})
	want := map[string][2]int64{"products": {8, 3}, "categories": {2, 1}, "colors": {0, 1}}
	for name, hm := range want {
		g, ok := report.Group(name)
		if !ok || g.Hits != hm[0] || g.Misses != hm[1] {
			t.Errorf("group %s: %+v, want %d hits and %d misses", name, g, hm[0], hm[1])
		}
	}
	if len(report.OtherDBs) != 1 || report.OtherDBs[0] != 2 {
		t.Errorf("other databases %v, want [2]", report.OtherDBs)
	}
	if report.Windows != 1 || report.Cost.CommandsPerSec <= 0 {
		t.Errorf("report %+v: want one window and the commands it saw", report)
	}
	g, _ := report.Group("products")
	if r, _ := g.Ratio(); r != 8.0/11 {
		t.Errorf("products ratio %v, want 8/11", r)
	}
	if lo, hi := g.Interval(); !(lo < 8.0/11 && 8.0/11 < hi && lo > 0.35 && hi < 0.95) {
		t.Errorf("products interval [%v, %v]: want about [0.43, 0.90]", lo, hi)
	}
}

// A read near the end of the window whose write comes in the grace is a
// miss; reads in the grace are not counted.
func TestSampleGraceFindsTheWriteAfterTheWindow(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	app := srv.Client(t)
	report := sampleWhileMonitoring(t, srv, SampleConfig{Window: 500 * time.Millisecond, Grace: 600 * time.Millisecond, Period: 2 * time.Second, Windows: 1}, func() {
		app.Get(ctx, prefix+"product:1")
		time.Sleep(700 * time.Millisecond) // the app builds the response past the window's end
		app.Set(ctx, prefix+"product:1", "cached", time.Hour)
		app.Get(ctx, prefix+"product:2") // in the grace: not counted
	})
	g, _ := report.Group("products")
	if g.Hits != 0 || g.Misses != 1 {
		t.Fatalf("products %+v, want the one read counted as a miss", g)
	}
}

func TestSampleMeasuresItsCostAndWidensThePeriodAboveBudget(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	load := srv.Client(t)
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for ctx.Err() == nil {
			pipe := load.Pipeline()
			for i := range 100 {
				pipe.Get(ctx, fmt.Sprintf("%sproduct:%d", prefix, i))
			}
			_, _ = pipe.Exec(ctx)
		}
	}()
	defer func() { cancel(); <-loadDone }()
	cfg := SampleConfig{Window: 200 * time.Millisecond, Grace: 50 * time.Millisecond, Period: 400 * time.Millisecond,
		Windows: 5, Budget: 0.0001, Selection: keyspace.New("ecommerce", 1).Selection()}
	r, err := Sample(ctx, srv.Client(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Cost.Known || r.Cost.Added <= 0 || r.Cost.During <= r.Cost.Between || r.Cost.CommandsPerSec < 1000 {
		t.Fatalf("cost %+v: want MONITOR's added CPU measured under load", r.Cost)
	}
	if r.Period <= cfg.Period || !strings.Contains(r.Widened, "budget") {
		t.Fatalf("period %s (%q): want it widened above a budget of 0.01%%", r.Period, r.Widened)
	}
	g, _ := r.Group("products")
	if g.Hits == 0 || g.Misses != 0 {
		t.Fatalf("products %+v: the load only reads", g)
	}
}

func TestSampleRefusesABadConfig(t *testing.T) {
	sel := keyspace.New("ecommerce", 1).Selection()
	for _, cfg := range []SampleConfig{
		{Window: time.Second, Period: time.Second, Selection: sel},
		{Budget: 2, Selection: sel},
		{},
	} {
		if _, err := Sample(context.Background(), nil, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestWilson(t *testing.T) {
	lo, hi := Wilson(90, 100)
	if lo < 0.82 || lo > 0.84 || hi < 0.94 || hi > 0.95 {
		t.Fatalf("Wilson(90, 100) = [%v, %v], want about [0.826, 0.945]", lo, hi)
	}
	if lo, hi := Wilson(0, 0); lo != 0 || hi != 1 {
		t.Fatalf("no trials: [%v, %v]", lo, hi)
	}
}
