package inspect

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/keyspace"
)

// Between two snapshots the rates count exactly the traffic that happened.
func TestTakeStandalone(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := client(t, srv)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	first, err := Take(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if first.Addr != srv.Addr || first.Role != "master" || first.Cluster || first.Keys(0) != 1 || len(first.Missing) > 0 {
		t.Fatalf("first snapshot %+v", first)
	}
	if first.Took <= 0 || first.Time.IsZero() {
		t.Errorf("took %v at %v", first.Took, first.Time)
	}
	for range 100 {
		c.Get(ctx, "k")
	}
	for range 50 {
		c.Get(ctx, "missing")
	}
	second, err := Take(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	r := Rates(first, second)
	secs := second.Time.Sub(first.Time).Seconds()
	if !near(r.HitRate, 100.0/150) || !near(r.HitsPerSec*secs, 100) || !near(r.MissesPerSec*secs, 50) {
		t.Errorf("interval hit rate %v, hits %v, misses %v; want 2/3, 100, 50", r.HitRate, r.HitsPerSec*secs, r.MissesPerSec*secs)
	}
	// 150 GETs plus the first INFO.
	if got := math.Round(r.OpsPerSec * secs); got != 151 {
		t.Errorf("commands in the interval %v, want 151", got)
	}
	if r.Reset || r.SinceStart {
		t.Errorf("reset %v since start %v", r.Reset, r.SinceStart)
	}
}

func TestTakeNotPermitted(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{ACL: []string{"noinfo on >pw ~* +@all -info"}})
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: "noinfo", Password: "pw", DisableIdentity: true})
	defer c.Close()
	_, err := Take(context.Background(), c)
	if !errors.Is(err, ErrNotPermitted) {
		t.Fatalf("err = %v, want ErrNotPermitted", err)
	}
	if want := "info " + srv.Addr + ": NOPERM"; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("message %q, want it to start with %q", err, want)
	}
}

func TestTakeUnreachable(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	srv.Stop()
	_, err := Take(context.Background(), c)
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Addr != srv.Addr || errors.Is(err, ErrNotPermitted) {
		t.Fatalf("err = %v, want a NodeError for %s", err, srv.Addr)
	}
}

// fill writes n keys per logical key pattern (fmt verb %d) into the schema's namespace.
func fill(t *testing.T, c redis.UniversalClient, counts map[string]int) {
	t.Helper()
	ctx := context.Background()
	for pattern, n := range counts {
		for lo := 0; lo < n; lo += 1000 {
			pipe := c.Pipeline()
			for i := lo; i < min(lo+1000, n); i++ {
				pipe.Set(ctx, fmt.Sprintf(pattern, i), "x", 0)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func groupsSelection(t *testing.T) keyspace.Selection {
	t.Helper()
	s := keyspace.New("ecommerce", 1)
	var sel keyspace.Selection
	for _, name := range []string{"products", "categories", "colors"} {
		g, err := s.Group(name)
		if err != nil {
			t.Fatal(err)
		}
		sel = append(sel, g)
	}
	return sel
}

var mix = map[string]int{
	"ecommerce:1:product:%d":        18000,
	"ecommerce:1:products:list:%d":  3000,
	"ecommerce:1:category:%d":       6000,
	"ecommerce:1:product_colors:%d": 1500,
	"ecommerce:1:session:%d":        1000, // under the prefix, in no group
	"other-app:%d":                  500,
}

// The estimate lands within its stated margin of the exact count, and the
// margin keeps the promise of ±2 percentage points of the keyspace.
func TestEstimateGroups(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := client(t, srv)
	fill(t, c, mix)
	sel := groupsSelection(t)

	exact, err := CountGroups(ctx, c, sel, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{21000, 6000, 1500}
	for i, g := range exact {
		if g.Keys != want[i] || !g.Exact || g.Name != sel[i].Name {
			t.Errorf("exact %+v, want %d keys", g, want[i])
		}
	}

	est, err := EstimateGroups(ctx, c, sel, SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const total = 30000
	for i, g := range est {
		if g.Exact || g.Samples != DefaultSamples {
			t.Errorf("%s: exact %v samples %d, want a sampled estimate", g.Name, g.Exact, g.Samples)
		}
		if g.Margin <= 0 || float64(g.Margin) > 0.02*total {
			t.Errorf("%s: margin %d keys, want within 2%% of %d", g.Name, g.Margin, total)
		}
		// 2.5 margins is about 5 standard errors: a failure here is a
		// biased estimate, not bad luck.
		if diff := math.Abs(float64(g.Keys - want[i])); diff > 2.5*float64(g.Margin) {
			t.Errorf("%s: estimate %d±%d, exact %d", g.Name, g.Keys, g.Margin, want[i])
		}
	}

	// A small keyspace is counted exactly: sampling would cost as much.
	small, err := EstimateGroups(ctx, c, sel, SampleOptions{ExactBelow: total + 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range small {
		if !g.Exact || g.Keys != want[i] || g.Margin != 0 {
			t.Errorf("small keyspace: %+v, want exact %d", g, want[i])
		}
	}
}

// In a cluster every master is asked: the aggregate holds every key, and
// estimates and exact counts cover every master.
func TestTakeCluster(t *testing.T) {
	ctx := context.Background()
	cl := redistest.StartCluster(t, 3, 0)
	cc := cl.Client(t)
	fill(t, cc, map[string]int{"ecommerce:1:product:%d": 9000, "ecommerce:1:category:%d": 3000})
	for range 10 {
		cc.Get(ctx, "ecommerce:1:product:1")
		cc.Get(ctx, "ecommerce:1:product:none")
	}
	s, err := Take(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Cluster || len(s.Nodes) != 3 || s.Keys(0) != 12000 || s.Hits != 10 || s.Misses != 10 {
		t.Fatalf("aggregate: cluster %v nodes %d keys %d hits %d misses %d", s.Cluster, len(s.Nodes), s.Keys(0), s.Hits, s.Misses)
	}
	var sum int64
	for _, n := range s.Nodes {
		if n.Keys(0) == 0 || !n.Cluster {
			t.Errorf("node %s: %d keys", n.Addr, n.Keys(0))
		}
		sum += n.Keys(0)
	}
	if sum != 12000 {
		t.Errorf("nodes hold %d keys, want 12000", sum)
	}

	sel := groupsSelection(t)
	est, err := EstimateGroups(ctx, cc, sel, SampleOptions{ExactBelow: 100})
	if err != nil {
		t.Fatal(err)
	}
	if est[0].Samples != 3*DefaultSamples || est[0].Exact {
		t.Errorf("products: %+v, want samples from 3 masters", est[0])
	}
	for i, want := range []int64{9000, 3000, 0} {
		if diff := math.Abs(float64(est[i].Keys - want)); diff > 2.5*float64(est[i].Margin) {
			t.Errorf("%s: estimate %d±%d, exact %d", est[i].Name, est[i].Keys, est[i].Margin, want)
		}
	}
	exact, err := CountGroups(ctx, cc, sel, 0)
	if err != nil {
		t.Fatal(err)
	}
	if exact[0].Keys != 9000 || exact[1].Keys != 3000 || exact[2].Keys != 0 {
		t.Errorf("exact %+v", exact)
	}
}
