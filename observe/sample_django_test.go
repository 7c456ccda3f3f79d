package observe

import (
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/keyspace"
)

// The Django fixture's real traffic (django-redis cache.get, then
// cache.set on a miss, from gunicorn's workers): a warmed URL counts as a
// hit in its group, a fresh one as a miss.
func TestSampleClassifiesTheDjangoAppsTraffic(t *testing.T) {
	app, srv := djangotest.StartWithRedis(t, djangotest.Options{})
	get := func(path string) {
		t.Helper()
		resp, err := http.Get(app.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
	}
	get("/api/products/1/") // warmed before the window
	get("/api/colors/")
	opts := srv.ClientOptions()
	opts.DB = app.DB
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	report := sampleWhileMonitoringClient(t, srv, rdb, SampleConfig{Window: 4 * time.Second, Period: 5 * time.Second, Windows: 1,
		Selection: keyspace.New(app.Prefix, app.Version).Selection()}, func() {
		get("/api/products/1/") // hit
		get("/api/products/2/") // miss
		get("/api/categories/") // miss
		get("/api/categories/") // hit
		get("/api/colors/")     // hit
	})
	want := map[string][2]int64{"products": {1, 1}, "categories": {1, 1}, "colors": {1, 0}}
	for name, hm := range want {
		g, _ := report.Group(name)
		if g.Hits != hm[0] || g.Misses != hm[1] {
			t.Errorf("group %s: %+v, want %d hits and %d misses", name, g, hm[0], hm[1])
		}
	}
}
