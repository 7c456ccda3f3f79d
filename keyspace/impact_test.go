package keyspace

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/redistest"
)

func TestControllerBacksOffOverBudgetAndSpeedsUpUnder(t *testing.T) {
	const idle, budget = 100 * time.Microsecond, time.Millisecond
	start := Pace{Count: DefaultScanCount, Batch: DefaultBatch}
	c := NewController(budget, idle, start)
	feed := func(rtt time.Duration, n int) {
		for range n {
			c.Observe(rtt)
		}
	}
	// Latency 3 ms over idle: well over budget.
	feed(3*time.Millisecond, 20)
	slow := c.Pace()
	if slow.Pause <= 0 || slow.Batch >= start.Batch || slow.Count >= start.Count {
		t.Fatalf("over budget the pace is %+v, want a pause and a smaller COUNT and batch than %+v", slow, start)
	}
	if c.Slowest() != slow {
		t.Errorf("slowest = %+v, want %+v", c.Slowest(), slow)
	}
	// Back under budget: the pace recovers, the pause first goes.
	feed(idle, 5000)
	fast := c.Pace()
	if fast.Pause != 0 || fast.Batch <= slow.Batch || fast.Count <= slow.Count {
		t.Fatalf("under budget the pace is %+v, want no pause and more than %+v", fast, slow)
	}
	if fast.Batch > maxPaceBatch || fast.Count > maxPaceCount {
		t.Errorf("pace %+v beyond the bounds", fast)
	}
	// One stray slow round trip among fast ones is not a trend.
	before, adj := c.Pace(), c.Adjustments()
	c.Observe(5 * time.Millisecond)
	if c.Pace().Pause != before.Pause || c.Pace().Batch < before.Batch {
		t.Errorf("one slow probe changed %+v to %+v", before, c.Pace())
	}
	// Latency a little over idle but within budget never slows it down.
	c2 := NewController(budget, idle, start)
	for range 2000 {
		c2.Observe(idle + budget/2)
	}
	if p := c2.Pace(); p.Pause != 0 || p.Batch < start.Batch {
		t.Errorf("within budget the pace fell to %+v", p)
	}
	// Sustained overload drives it to the bounds, never past them.
	c3 := NewController(budget, idle, start)
	feed3 := func() {
		for range 1000 {
			c3.Observe(20 * time.Millisecond)
		}
	}
	feed3()
	if p := c3.Pace(); p.Batch != minPaceBatch || p.Count != minPaceCount || p.Pause != maxPacePause {
		t.Errorf("under sustained overload the pace is %+v, want the slowest bounds", p)
	}
	_ = adj
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
	s := New(DefaultPrefix, DefaultVersion)
	c := redistest.Start(t).Client(t)
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
