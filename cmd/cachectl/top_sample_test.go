package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// topGroupsLine is the part of a `top --json` line that sampling fills.
type topGroupsLine struct {
	Groups map[string]struct {
		HitRate *float64 `json:"hit_rate"`
		Lo      *float64 `json:"hit_rate_lo"`
		Hi      *float64 `json:"hit_rate_hi"`
		Source  string   `json:"hit_rate_source"`
		Lookups float64  `json:"lookups"`
	} `json:"groups"`
	Sample *struct {
		Windows  int     `json:"windows"`
		WindowMs float64 `json:"window_ms"`
		PeriodMs float64 `json:"period_ms"`
	} `json:"sample"`
}

// runApp reads like a cached app until the test ends: products are always
// found, categories never (each read is followed by a SET).
func runApp(t *testing.T, c *redis.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			c.Get(ctx, fmt.Sprintf("ecommerce:1:product:%d", i%20))
			key := fmt.Sprintf("ecommerce:1:category:%d", 1000+i)
			c.Get(ctx, key)
			c.Set(ctx, key, "c", time.Minute)
			time.Sleep(time.Millisecond)
		}
	}()
}

// Without /metrics (no API answers), top's JSON lines carry each group's
// hit rate as sampled from Redis's commands, with its interval.
func TestTopJSONLinesCarrySampledHitRates(t *testing.T) {
	srv, ios, out, errOut := startSeeded(t)
	runApp(t, srv.Client(t))
	stop := startTop(t, ios, errOut, "--json", "--interval", "100ms", "--redis", srv.URL(), "--api", "http://127.0.0.1:1")
	var got topGroupsLine
	waitForLines(t, out, 10*time.Second, "a line with sampled products and categories", func(lines []string) bool {
		for _, l := range lines {
			got = topGroupsLine{}
			if json.Unmarshal([]byte(l), &got) == nil && got.Groups["products"].Lookups > 0 && got.Groups["categories"].Lookups > 0 {
				return true
			}
		}
		return false
	})
	if code, stderr := stop(); code != 0 && code != 130 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p, c := got.Groups["products"], got.Groups["categories"]
	if p.Source != "sampled" || p.HitRate == nil || *p.HitRate != 1 || p.Lo == nil || *p.Lo >= 1 || *p.Hi != 1 {
		t.Errorf("products %+v (rate %v, lo %v, hi %v): want a sampled hit rate of 1 with an interval below it", p, deref(p.HitRate), deref(p.Lo), deref(p.Hi))
	}
	if c.HitRate == nil || *c.HitRate != 0 || *c.Lo != 0 || *c.Hi <= 0 {
		t.Errorf("categories %+v: want a sampled hit rate of 0", c)
	}
	if !monitorCalls(t, srv.Client(t)) {
		t.Error("sampled figures, yet MONITOR never ran")
	}
	if got.Sample == nil || got.Sample.Windows < 1 || got.Sample.WindowMs != 250 || got.Sample.PeriodMs != 5000 {
		t.Errorf("sample %+v: want the default 250ms window every 5s", got.Sample)
	}
}

func TestTopNoSampleLeavesRedisUnwatched(t *testing.T) {
	srv, ios, out, errOut := startSeeded(t)
	runApp(t, srv.Client(t))
	stop := startTop(t, ios, errOut, "--json", "--no-sample", "--interval", "50ms", "--redis", srv.URL(), "--api", "http://127.0.0.1:1")
	lines := waitForLines(t, out, 5*time.Second, "five JSON lines", func(l []string) bool { return len(l) >= 5 })
	stop()
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if m["groups"] != nil || m["sample"] != nil {
			t.Fatalf("--no-sample line %s carries groups", l)
		}
	}
	if monitorCalls(t, srv.Client(t)) {
		t.Fatal("--no-sample, yet MONITOR ran")
	}
}

// monitorCalls reports whether MONITOR has run on the server.
func monitorCalls(t *testing.T, c *redis.Client) bool {
	t.Helper()
	stats, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(stats, "cmdstat_monitor:")
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
