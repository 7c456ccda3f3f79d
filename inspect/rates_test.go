package inspect

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func snap(at time.Duration, runID string, uptime, hits, misses, commands int64) Snapshot {
	return Snapshot{
		Time: t0.Add(at), RunID: runID, UptimeS: uptime,
		Hits: hits, Misses: misses, Commands: commands,
		Evicted: hits / 10, Expired: misses / 10, NetInBytes: commands * 100, NetOutBytes: commands * 200,
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRates(t *testing.T) {
	tests := []struct {
		name        string
		prev, cur   Snapshot
		ops         float64
		hitsPerSec  float64
		missPerSec  float64
		hitRate     float64 // -1: no lookups in the interval
		reset       bool
		sinceStart  bool
		interval    time.Duration
		netInPerSec float64
	}{
		{
			name: "steady", prev: snap(0, "a", 100, 100, 100, 1000), cur: snap(2*time.Second, "a", 102, 400, 200, 1600),
			ops: 300, hitsPerSec: 150, missPerSec: 50, hitRate: 0.75, interval: 2 * time.Second, netInPerSec: 30000,
		},
		{
			name: "idle: no lookups, no hit rate", prev: snap(0, "a", 100, 5, 5, 50), cur: snap(time.Second, "a", 101, 5, 5, 51),
			ops: 1, hitRate: -1, interval: time.Second, netInPerSec: 100,
		},
		{
			// The server restarted 1 s before cur: what it counted since is
			// spread over that second, never a negative rate.
			name: "restart", prev: snap(0, "a", 500, 10000, 5000, 90000), cur: snap(5*time.Second, "b", 1, 30, 10, 200),
			ops: 200, hitsPerSec: 30, missPerSec: 10, hitRate: 0.75, reset: true, interval: 5 * time.Second, netInPerSec: 20000,
		},
		{
			// Same run_id but smaller counters: CONFIG RESETSTAT.
			name: "counters reset", prev: snap(0, "a", 500, 10000, 5000, 90000), cur: snap(2*time.Second, "a", 502, 60, 20, 400),
			ops: 200, hitsPerSec: 30, missPerSec: 10, hitRate: 0.75, reset: true, interval: 2 * time.Second, netInPerSec: 20000,
		},
		{
			name: "first snapshot: averages since start", cur: snap(0, "a", 10, 80, 20, 1000),
			ops: 100, hitsPerSec: 8, missPerSec: 2, hitRate: 0.8, sinceStart: true, interval: 10 * time.Second, netInPerSec: 10000,
		},
		{
			name: "same instant", prev: snap(0, "a", 10, 1, 1, 1), cur: snap(0, "a", 10, 5, 5, 9),
			hitRate: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rates(tt.prev, tt.cur)
			if !near(r.OpsPerSec, tt.ops) || !near(r.HitsPerSec, tt.hitsPerSec) || !near(r.MissesPerSec, tt.missPerSec) {
				t.Errorf("ops %v hits/s %v misses/s %v, want %v %v %v", r.OpsPerSec, r.HitsPerSec, r.MissesPerSec, tt.ops, tt.hitsPerSec, tt.missPerSec)
			}
			if !near(r.NetInPerSec, tt.netInPerSec) || !near(r.NetOutPerSec, 2*tt.netInPerSec) {
				t.Errorf("net in %v out %v, want %v %v", r.NetInPerSec, r.NetOutPerSec, tt.netInPerSec, 2*tt.netInPerSec)
			}
			if tt.hitRate < 0 {
				if r.HitRateOK {
					t.Errorf("hit rate %v for an interval without lookups", r.HitRate)
				}
			} else if !r.HitRateOK || !near(r.HitRate, tt.hitRate) {
				t.Errorf("hit rate %v %v, want %v", r.HitRate, r.HitRateOK, tt.hitRate)
			}
			if r.Reset != tt.reset || r.SinceStart != tt.sinceStart || r.Interval != tt.interval {
				t.Errorf("reset %v since start %v interval %v, want %v %v %v", r.Reset, r.SinceStart, r.Interval, tt.reset, tt.sinceStart, tt.interval)
			}
			for name, v := range map[string]float64{"ops": r.OpsPerSec, "evicted": r.EvictedPerSec, "expired": r.ExpiredPerSec, "hits": r.HitsPerSec} {
				if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("%s/s = %v", name, v)
				}
			}
			lifetime, ok := tt.cur.HitRate()
			if r.LifetimeHitRate != lifetime || r.LifetimeHitRateOK != ok {
				t.Errorf("lifetime hit rate %v, want %v", r.LifetimeHitRate, lifetime)
			}
		})
	}
}

// A cluster's rates are per node: one master restarting must not make the
// whole cluster's rates jump or go negative.
func TestRatesClusterNodeRestart(t *testing.T) {
	node := func(addr string, s Snapshot) Snapshot { s.Addr = addr; return s }
	prev := Aggregate([]Snapshot{
		node("a:1", snap(0, "a", 100, 1000, 1000, 10000)),
		node("b:1", snap(0, "b", 100, 9000, 1000, 50000)),
	})
	cur := Aggregate([]Snapshot{
		node("a:1", snap(time.Second, "a", 101, 1100, 1100, 10500)),
		node("b:1", snap(time.Second, "b2", 1, 50, 0, 100)), // restarted
	})
	r := Rates(prev, cur)
	if !r.Reset || !near(r.OpsPerSec, 600) || !near(r.HitsPerSec, 150) || !near(r.MissesPerSec, 100) || !near(r.HitRate, 0.6) {
		t.Errorf("rates %+v, want ops 600 hits/s 150 misses/s 100 hit rate 0.6 with reset", r)
	}
	if r.Interval != time.Second {
		t.Errorf("interval %v", r.Interval)
	}
}

func TestAggregate(t *testing.T) {
	a := Snapshot{Addr: "b:2", Version: "7.0.15", Role: "master", UptimeS: 50, Clients: 2,
		Memory: Memory{Used: 100, Peak: 150, Max: 1000, RSS: 200, Policy: "allkeys-lru"},
		DBs:    map[int]DB{0: {Index: 0, Keys: 10, Expires: 10, AvgTTLMs: 1000}}, Hits: 5, Misses: 5, OpsPerSec: 10}
	b := Snapshot{Addr: "a:1", Version: "7.2.4", Role: "master", UptimeS: 20, Clients: 3,
		Memory: Memory{Used: 300, Peak: 300, Max: 0, RSS: 400, Policy: "allkeys-lru"},
		DBs:    map[int]DB{0: {Index: 0, Keys: 30, Expires: 30, AvgTTLMs: 3000}}, Hits: 15, Misses: 5, OpsPerSec: 5,
		Missing: []string{"evicted_keys"}}
	g := Aggregate([]Snapshot{a, b})
	if g.Nodes[0].Addr != "a:1" || len(g.Nodes) != 2 || !g.Cluster {
		t.Errorf("nodes %v", g.Nodes)
	}
	if g.Version != "mixed" || g.Role != "master" || g.Memory.Policy != "allkeys-lru" || g.UptimeS != 20 {
		t.Errorf("version %q role %q policy %q uptime %d", g.Version, g.Role, g.Memory.Policy, g.UptimeS)
	}
	if g.Clients != 5 || g.Memory.Used != 400 || g.Memory.Peak != 450 || g.Memory.Max != 0 || !near(g.Memory.Fragmentation, 1.5) {
		t.Errorf("clients %d memory %+v (one unlimited node makes max 0)", g.Clients, g.Memory)
	}
	if db := g.DBs[0]; db.Keys != 40 || db.Expires != 40 || db.AvgTTLMs != 2500 {
		t.Errorf("db0 %+v, want 40 keys, TTL weighted to 2500 ms", db)
	}
	if rate, _ := g.HitRate(); !near(rate, 20.0/30) || g.OpsPerSec != 15 {
		t.Errorf("hit rate %v ops %v", rate, g.OpsPerSec)
	}
	if g.Has("evicted_keys") {
		t.Error("a field one node did not send is reported as known for the cluster")
	}
}
