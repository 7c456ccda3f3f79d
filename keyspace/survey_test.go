package keyspace

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
)

// seedTTLSpread writes 1000 product keys: 200 without expiry and 800 whose
// TTLs are 15s, 25s, … 7995s (i·10s + 5s), so 5 expire within a minute.
func seedTTLSpread(t *testing.T, c redis.UniversalClient, s Schema) {
	t.Helper()
	ctx := context.Background()
	p := c.Pipeline()
	for i := range 200 {
		p.Set(ctx, s.Key(fmt.Sprintf("product:%d", 10000+i)), "v", 0)
	}
	for i := 1; i <= 800; i++ {
		p.Set(ctx, s.Key(fmt.Sprintf("product:%d", i)), "v", time.Duration(i)*10*time.Second+5*time.Second)
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// surveyTTLSpread surveys the products group of a seedTTLSpread Redis,
// sampling that many keys.
func surveyTTLSpread(t *testing.T, samples int) TargetSurvey {
	t.Helper()
	s, c := onRedis(t)
	seedTTLSpread(t, c, s)
	got, err := Survey(context.Background(), c, Selection{must(t)(s.Group(GroupProducts))}, SurveyConfig{Samples: samples})
	if err != nil {
		t.Fatal(err)
	}
	return got[0]
}

func near(got, want, tol time.Duration) bool { return got >= want-tol && got <= want+tol }

func TestSurveyTTLHealthExactWhenEveryKeyIsSampled(t *testing.T) {
	// With samples >= keys the TTL figures are those of the keys themselves:
	// the user reads 200 keys without TTL, p50 4005s, p90 7205s.
	p := surveyTTLSpread(t, 1000)
	if p.Keys != 1000 || p.NoTTL != 200 {
		t.Fatalf("keys %d, no_ttl %d; want 1000 and 200", p.Keys, p.NoTTL)
	}
	if !near(p.TTLP50, 4005*time.Second, 2*time.Second) || !near(p.TTLP90, 7205*time.Second, 2*time.Second) {
		t.Errorf("p50 %s p90 %s, want 4005s and 7205s", p.TTLP50, p.TTLP90)
	}
	if p.ExpiringSoon != 0.005 {
		t.Errorf("expiring soon %v, want 5 of 1000", p.ExpiringSoon)
	}
	if !p.Exact["keys"] || !p.Exact["ttl"] || !p.Exact["no_ttl"] || p.Exact["memory"] {
		t.Errorf("exact %v: keys, ttl and no_ttl exact when every key was sampled; memory never", p.Exact)
	}
	if h := p.TTLHistogram; h[0].Upper != -1 || h[0].Count != 200 || sumBuckets(h) != 1000 {
		t.Errorf("histogram %v: 200 without TTL first, 1000 in all", h)
	}
	// 15s is the only one at most 10s? none; 15..55s fall in the (10s, 1m] bucket.
	if h := p.TTLHistogram; h[1].Count != 0 || h[2].Count != 5 {
		t.Errorf("histogram %v: 5 keys in (10s, 1m]", h)
	}
	if len(p.Nodes) != 0 || p.Skew != "" {
		t.Errorf("a single server has no per-node figures: %+v %q", p.Nodes, p.Skew)
	}
}

func sumBuckets(h []TTLBucket) (n int) {
	for _, b := range h {
		n += b.Count
	}
	return n
}

func TestSurveyTTLHealthSampledWithinTolerance(t *testing.T) {
	// 200 samples of 1000 keys: the estimates stay within four standard
	// errors of the truth (no_ttl ±115 keys, percentiles ±1500s on an 8000s spread).
	p := surveyTTLSpread(t, 200)
	if p.NoTTL < 200-115 || p.NoTTL > 200+115 {
		t.Errorf("no_ttl %d, want 200±115", p.NoTTL)
	}
	if !near(p.TTLP50, 4005*time.Second, 1500*time.Second) || !near(p.TTLP90, 7205*time.Second, 1500*time.Second) {
		t.Errorf("p50 %s p90 %s, want about 4005s and 7205s", p.TTLP50, p.TTLP90)
	}
	if p.Exact["ttl"] || p.Exact["no_ttl"] {
		t.Errorf("exact %v: sampled figures are estimates", p.Exact)
	}
}

func TestSurveyBiggestFindsPlantedKeys(t *testing.T) {
	// Among 1500 small product keys, the three planted big ones are the
	// biggest, largest first, even though only 20 keys are sampled.
	s, c := onRedis(t)
	ctx := context.Background()
	p := c.Pipeline()
	for i := range 1500 {
		p.Set(ctx, s.Key(fmt.Sprintf("product:%d", i)), "small", time.Hour)
	}
	p.Set(ctx, s.Key("products:list:big"), strings.Repeat("x", 100_000), time.Hour)
	p.Set(ctx, s.Key("products:list:mid"), strings.Repeat("x", 50_000), time.Hour)
	p.Set(ctx, s.Key("product:77:variants"), strings.Repeat("x", 20_000), time.Hour)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := Survey(ctx, c, Selection{must(t)(s.Group(GroupProducts))}, SurveyConfig{Samples: 20, Biggest: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := got[0].Biggest
	if len(b) != 2 || b[0].Key != s.Key("products:list:big") || b[1].Key != s.Key("products:list:mid") {
		t.Fatalf("biggest %+v, want the 100 KB key then the 50 KB one", b)
	}
	if b[0].Bytes < 100_000 || b[1].Bytes < 50_000 || b[0].Bytes > 200_000 {
		t.Errorf("sizes %d and %d for 100 KB and 50 KB values", b[0].Bytes, b[1].Bytes)
	}
	if b[0].TTL < 59*time.Minute || b[0].TTL > time.Hour {
		t.Errorf("biggest key's TTL %s, want its hour", b[0].TTL)
	}
	if !got[0].Exact["biggest"] {
		t.Errorf("1503 keys, all within the size budget: the biggest are exact")
	}
	// A budget below the group's size searches only part of it: no longer exact.
	got, err = Survey(ctx, c, Selection{must(t)(s.Group(GroupProducts))}, SurveyConfig{Samples: 20, SizeBudget: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Exact["biggest"] || len(got[0].Biggest) == 0 {
		t.Errorf("budget 100 of 1503 keys: biggest %d keys, exact %v; want some, not exact", len(got[0].Biggest), got[0].Exact["biggest"])
	}
}

func TestSurveyPerNodeOnCluster(t *testing.T) {
	// Per master, the survey's counts equal the keys each master holds
	// (from CLUSTER KEYSLOT and the master's slots); categories pinned to
	// one slot with a hash tag raise the skew warning, products spread evenly do not.
	cl := redistest.StartCluster(t, 3, 0)
	c := cl.Client(t)
	ctx := context.Background()
	s := New(DefaultPrefix, DefaultVersion)
	var keys []string
	for i := range 1500 {
		keys = append(keys, s.Key(fmt.Sprintf("product:%d", i)))
	}
	for i := range 1200 {
		keys = append(keys, s.Key(fmt.Sprintf("category:{pin}%d", i)))
	}
	for _, k := range keys {
		if err := c.Set(ctx, k, "v", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Ground truth: which master owns each key's slot.
	owner := map[int]string{}
	for _, m := range cl.Masters {
		for _, slot := range cl.SlotsOf(t, m) {
			owner[slot] = m.Addr
		}
	}
	want := map[string]map[string]int64{GroupProducts: {}, GroupCategories: {}}
	for _, k := range keys {
		slot, err := c.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		g := GroupProducts
		if strings.Contains(k, ":category:") {
			g = GroupCategories
		}
		want[g][owner[int(slot)]]++
	}
	sel := Selection{must(t)(s.Group(GroupProducts)), must(t)(s.Group(GroupCategories))}
	got, err := Survey(ctx, c, sel, SurveyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if len(g.Nodes) != 3 {
			t.Fatalf("%s: %d nodes, want 3", g.Name, len(g.Nodes))
		}
		var sum int64
		for _, n := range g.Nodes {
			if n.Keys != want[g.Name][n.Addr] {
				t.Errorf("%s on %s: %d keys, ground truth %d", g.Name, n.Addr, n.Keys, want[g.Name][n.Addr])
			}
			if n.ID == "" || n.SlotShare < 0.3 || n.SlotShare > 0.34 {
				t.Errorf("%s on %s: id %q, slot share %.3f (want a third)", g.Name, n.Addr, n.ID, n.SlotShare)
			}
			sum += n.Keys
		}
		if sum != g.Keys {
			t.Errorf("%s: nodes sum to %d of %d", g.Name, sum, g.Keys)
		}
	}
	if got[0].Skew != "" {
		t.Errorf("products spread over every slot: no skew, got %q", got[0].Skew)
	}
	if !strings.Contains(got[1].Skew, "100% of the keys") {
		t.Errorf("categories pinned to one node: want a skew warning, got %q", got[1].Skew)
	}
}

func TestSurveyTTLFiguresPerNodeOnCluster(t *testing.T) {
	// Every figure of a group is there per master as well: keys without a
	// TTL, the share expiring soon, TTL percentiles and the biggest key,
	// each equal to what that master itself holds (every key is sampled
	// and sized, so the figures are exact and say so).
	cl := redistest.StartCluster(t, 3, 0)
	c := cl.Client(t)
	ctx := context.Background()
	s := New(DefaultPrefix, DefaultVersion)
	for i := range 900 {
		ttl := []time.Duration{0, 30 * time.Second, time.Hour}[i%3]
		if err := c.Set(ctx, s.Key(fmt.Sprintf("product:%d", i)), strings.Repeat("x", 10+i), ttl).Err(); err != nil {
			t.Fatal(err)
		}
	}
	type truth struct {
		keys, noTTL, soon int64
		ttls              []time.Duration
		biggest           int64
	}
	want := map[string]*truth{}
	for _, m := range cl.Masters {
		node := m.Client(t)
		w := &truth{}
		want[m.Addr] = w
		err := ScanNode(ctx, node, s.Key("product:*"), 100, func(keys []string) error {
			for _, k := range keys {
				w.keys++
				ttl := node.PTTL(ctx, k).Val()
				switch {
				case ttl < 0:
					w.noTTL++
				default:
					w.ttls = append(w.ttls, ttl)
					if ttl < DefaultSoon {
						w.soon++
					}
				}
				w.biggest = max(w.biggest, node.MemoryUsage(ctx, k).Val())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := Survey(ctx, c, Selection{must(t)(s.Group(GroupProducts))}, SurveyConfig{Samples: 1000})
	if err != nil {
		t.Fatal(err)
	}
	g := got[0]
	if len(g.Nodes) != 3 {
		t.Fatalf("%d nodes, want 3", len(g.Nodes))
	}
	var noTTL int64
	for _, n := range g.Nodes {
		w := want[n.Addr]
		if w == nil || w.keys == 0 {
			t.Fatalf("node %s: no ground truth (%v)", n.Addr, w)
		}
		noTTL += n.NoTTL
		if n.Keys != w.keys || n.NoTTL != w.noTTL {
			t.Errorf("%s: %d keys, %d without TTL; the master holds %d and %d", n.Addr, n.Keys, n.NoTTL, w.keys, w.noTTL)
		}
		if soon := float64(w.soon) / float64(w.keys); math.Abs(n.ExpiringSoon-soon) > 1e-9 {
			t.Errorf("%s: expiring soon %.4f, the master's share %.4f", n.Addr, n.ExpiringSoon, soon)
		}
		slices.Sort(w.ttls)
		p90 := w.ttls[(len(w.ttls)*9+9)/10-1]
		if d := n.TTLP90 - p90; d < -2*time.Second || d > 2*time.Second {
			t.Errorf("%s: ttl p90 %v, the master's %v", n.Addr, n.TTLP90, p90)
		}
		if len(n.Biggest) == 0 || n.Biggest[0].Bytes != w.biggest {
			t.Errorf("%s: biggest %v, the master's biggest key takes %d bytes", n.Addr, n.Biggest, w.biggest)
		}
		if !n.Exact["no_ttl"] || !n.Exact["ttl"] || !n.Exact["biggest"] {
			t.Errorf("%s: every key was sampled and sized, yet exact = %v", n.Addr, n.Exact)
		}
	}
	if noTTL != 300 || g.NoTTL != 300 {
		t.Errorf("without TTL: nodes sum to %d, the group says %d; 300 were stored", noTTL, g.NoTTL)
	}
}
