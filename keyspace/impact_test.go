package keyspace

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/redistest"
)

func TestControllerSizesCommandsFromTheirCost(t *testing.T) {
	// A SCAN costs the server 2 µs a key and an UNLINK 4 µs, over a network
	// round trip of 50 µs: with 1 ms of budget each command gets 200 µs, so
	// COUNT 100 and batch 50.
	const base, budget = 50 * time.Microsecond, time.Millisecond
	c := NewController(budget, 100*time.Microsecond, base, Pace{})
	if p := c.Pace(); p.Count != startCount || p.Batch != startBatch {
		t.Fatalf("first pace %+v, want the small start %d/%d", p, startCount, startBatch)
	}
	for range 3 {
		n := c.Pace().Count
		c.Scanned(n, base+time.Duration(n)*2*time.Microsecond)
		k := c.Pace().Batch
		c.Unlinked(k, base+time.Duration(k)*4*time.Microsecond)
	}
	if p := c.Pace(); p.Count != 100 || p.Batch != 50 || p.Pause != 0 {
		t.Errorf("pace %+v, want COUNT 100, batch 50, no pause", p)
	}
	// A round trip that waited behind the job's other command is not the
	// server's cost: the quickest recent one rules.
	c.Scanned(100, 5*time.Millisecond)
	if p := c.Pace(); p.Count != 100 {
		t.Errorf("one slow SCAN moved COUNT to %d", p.Count)
	}
	// A server whose commands cost nothing measurable: sizes double up to
	// their bounds, never past.
	for _, tc := range []struct {
		given, want Pace
	}{
		{Pace{}, Pace{Count: DefaultScanCount, Batch: DefaultBatch}},                           // the defaults cap them
		{Pace{Count: 1 << 20, Batch: 1 << 20}, Pace{Count: maxPaceCount, Batch: maxPaceBatch}}, // as do the bounds
		{Pace{Count: 300, Batch: 40}, Pace{Count: 300, Batch: 40}},                             // and --count and --batch
		{Pace{Count: 5, Batch: 3}, Pace{Count: 5, Batch: 3}},                                   // even below the floor
	} {
		fast := NewController(budget, 100*time.Microsecond, base, tc.given)
		for range 20 {
			fast.Scanned(fast.Pace().Count, base)
			fast.Unlinked(fast.Pace().Batch, base)
		}
		if p := fast.Pace(); p != tc.want {
			t.Errorf("cheap commands under %+v: pace %+v, want %+v", tc.given, p, tc.want)
		}
	}
}

func TestControllerBacksOffOverBudgetAndSpeedsUpUnder(t *testing.T) {
	const idle, base, budget = 100 * time.Microsecond, 50 * time.Microsecond, time.Millisecond
	sized := func() *Controller {
		c := NewController(budget, idle, base, Pace{})
		for range 3 {
			c.Scanned(c.Pace().Count, base+time.Duration(c.Pace().Count)*2*time.Microsecond)
			c.Unlinked(c.Pace().Batch, base+time.Duration(c.Pace().Batch)*4*time.Microsecond)
		}
		return c
	}
	c := sized()
	start := c.Pace()
	feed := func(c *Controller, rtt time.Duration, n int) {
		for range n {
			c.Observe(rtt)
		}
	}
	// Latency 3 ms over idle for two windows: well over budget.
	feed(c, 3*time.Millisecond, 2*window)
	slow := c.Pace()
	if slow.Pause <= 0 || slow.Batch >= start.Batch || slow.Count >= start.Count {
		t.Fatalf("over budget the pace is %+v, want a pause and a smaller COUNT and batch than %+v", slow, start)
	}
	if c.Slowest() != slow || c.Adjustments() != 1 {
		t.Errorf("slowest = %+v after %d adjustments, want %+v after 1", c.Slowest(), c.Adjustments(), slow)
	}
	// Back under budget: the pace recovers, the pause first.
	feed(c, idle, 20*window)
	if p := c.Pace(); p != start {
		t.Fatalf("under budget the pace is %+v, want %+v again", p, start)
	}
	// A stray slow round trip or two in a window is not a trend.
	for range 10 * window {
		c.Observe(idle)
		if c.n == window/2 {
			c.Observe(5 * time.Millisecond)
		}
	}
	if p := c.Pace(); p != start {
		t.Errorf("stray slow probes changed %+v to %+v", start, p)
	}
	// Latency a little over idle but within budget never slows it down.
	c2 := sized()
	feed(c2, idle+budget/2, 20*window)
	if p := c2.Pace(); p != start {
		t.Errorf("within budget the pace fell to %+v", p)
	}
	// Sustained overload drives it to the bounds, never past them: the
	// smallest share of the command time (200 µs / 16, under 10 keys at
	// 2 µs a key: the least COUNT and batch) and the longest pause.
	c3 := sized()
	feed(c3, 20*time.Millisecond, 100*window)
	if p := c3.Pace(); p.Count != minPaceCount || p.Batch != minPaceBatch || p.Pause != maxPacePause {
		t.Errorf("under sustained overload the pace is %+v, want COUNT %d, batch %d, pause %v", p, minPaceCount, minPaceBatch, maxPacePause)
	}
}

func TestLatenciesP99(t *testing.T) {
	var l latencies
	for i := range 99 {
		l.add(time.Duration(i%10) * 10 * time.Microsecond)
	}
	l.add(80 * time.Millisecond) // beyond the buckets
	if got := l.p99(); got != 100*time.Microsecond {
		t.Errorf("p99 = %v, want 100µs (the top of the 99th value's bucket)", got)
	}
	l.add(90 * time.Millisecond)
	if got := l.p99(); got != 80*time.Millisecond {
		t.Errorf("p99 of 101 samples = %v, want the first slow one, 80ms", got)
	}
}

// TestClearMaxImpactSlowsDownUnderLoad pauses every client of the server
// for 5 ms out of every 15 for the first half second of a paced clear: the
// probe sees the latency rise, the clear takes smaller bites with pauses, and it still
// deletes every key.
func TestClearMaxImpactSlowsDownUnderLoad(t *testing.T) {
	s, c := onRedis(t)
	keys := productKeys(s, 50000)
	seedWithTTL(t, c, keys)
	other := s.Key("session:1")
	seedWithTTL(t, c, []string{other})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	working := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		select { // the idle baseline is over once the work has started
		case <-working:
		case <-ctx.Done():
			return
		}
		tick := time.NewTicker(15 * time.Millisecond)
		defer tick.Stop()
		// The load lasts half a second, then stops, so that the clear can
		// also speed up again.
		for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
			// Another client's heavy work, as the server's other users see it.
			_ = c.Do(ctx, "CLIENT", "PAUSE", 5, "ALL").Err()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	products := must(t)(s.Group(GroupProducts))
	started := sync.OnceFunc(func() { close(working) })
	res, err := Clear(context.Background(), c, Selection{products},
		ClearConfig{MaxImpact: time.Millisecond, Progress: func(Progress) { started() }})
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.Deleted != int64(len(keys)) {
		t.Fatalf("complete %v, deleted %d, want every one of %d keys", res.Complete, res.Deleted, len(keys))
	}
	if n := c.Exists(context.Background(), keys[0], keys[len(keys)-1]).Val(); n != 0 {
		t.Errorf("%d product keys survived", n)
	}
	if c.Exists(context.Background(), other).Val() != 1 {
		t.Errorf("%s was deleted", other)
	}
	imp := res.Impact
	if imp == nil {
		t.Fatal("no impact reported for a paced clear")
	}
	if imp.Slowest.Pause <= 0 || imp.Slowest.Batch >= DefaultBatch {
		t.Errorf("under load the clear never slowed down: slowest pace %+v", imp.Slowest)
	}
	if imp.Adjustments == 0 || imp.Probes == 0 || imp.Rate <= 0 || imp.Budget != time.Millisecond {
		t.Errorf("impact %+v: want adjustments, probes, a rate and the budget", *imp)
	}
	if imp.ObservedP99 < 2*time.Millisecond {
		t.Errorf("observed p99 %v: the probe did not see the 5 ms pauses", imp.ObservedP99)
	}
	t.Log(fmt.Sprintf("impact %+v", *imp))
}

func TestPacedCountAndClearOnACluster(t *testing.T) {
	// On a cluster every master is paced on its own: each gets a probe, its
	// commands are sized from its own cost, the count is exact and the
	// clear deletes every product key and nothing else.
	cl := redistest.StartCluster(t, 3, 0)
	c := cl.Client(t)
	s := New(DefaultPrefix, DefaultVersion)
	keys := productKeys(s, 20000)
	seedWithTTL(t, c, keys)
	others := []string{s.Key("category:1"), s.Key("session:1"), "other:1"}
	seedWithTTL(t, c, others)
	sel := Selection{must(t)(s.Group(GroupProducts))}
	ctx := context.Background()

	counts, imp, err := CountPaced(ctx, c, sel, CountConfig{MaxImpact: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if counts[0] != int64(len(keys)) {
		t.Fatalf("paced count %d, want %d", counts[0], len(keys))
	}
	if imp == nil || imp.Probes < 3 || imp.Rate <= 0 {
		t.Fatalf("paced count on 3 masters: impact %+v, want probes on each and a rate", imp)
	}

	res, err := Clear(ctx, c, sel, ClearConfig{MaxImpact: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.Deleted != int64(len(keys)) {
		t.Fatalf("complete %v, deleted %d, want every one of %d keys", res.Complete, res.Deleted, len(keys))
	}
	if left := allKeys(t, c); len(left) != len(others) {
		t.Errorf("left %d keys, want only the %d others: %v", len(left), len(others), left[:min(5, len(left))])
	}
	if res.Impact == nil || res.Impact.Probes < 3 || res.Impact.Rate <= 0 {
		t.Fatalf("paced clear on 3 masters: impact %+v", res.Impact)
	}
	if f := res.Impact.Final; f.Count > DefaultScanCount || f.Batch > DefaultBatch {
		t.Errorf("final pace %+v beyond the defaults, which cap it", f)
	}
}
