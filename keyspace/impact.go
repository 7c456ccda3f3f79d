package keyspace

import (
	"slices"
	"time"

	"github.com/cachectl/cachectl/internal/option"
)

// Impact is what a paced job (ClearConfig.MaxImpact and the like) did to
// other clients: the round trips of its own PING probe on a connection of
// its own to each master, before the work (idle) and during it. On a
// cluster the figures are those of the master that suffered most.
type Impact struct {
	Budget      time.Duration // the most added p99 allowed
	IdleP99     time.Duration // the probe's p99 before the work started
	ObservedP99 time.Duration // the probe's p99 while the work ran
	AddedP99    time.Duration // ObservedP99 - IdleP99, never below 0
	Rate        float64       // keys per second over the work (deleted, or scanned when only counting)
	Adjustments int           // times a controller changed its pace
	Probes      int           // probe round trips during the work, over every master
	// Slowest is the smallest COUNT and batch and the longest pause the
	// controller went down to; Final the pace it ended at (of the master
	// that suffered most, on a cluster).
	Slowest, Final Pace

	work time.Duration // the longest time a master was worked
}

// merge combines the impacts of two masters (or two passes): the worst
// latency, every probe and adjustment.
func (a Impact) merge(b Impact) Impact {
	if b.AddedP99 > a.AddedP99 || a.Probes == 0 {
		a.IdleP99, a.ObservedP99, a.AddedP99, a.Final = b.IdleP99, b.ObservedP99, b.AddedP99, b.Final
	}
	if a.Probes == 0 {
		a.Slowest = b.Slowest
	}
	a.Slowest = a.Slowest.slowest(b.Slowest)
	a.Budget = max(a.Budget, b.Budget)
	a.Adjustments += b.Adjustments
	a.Probes += b.Probes
	a.work = max(a.work, b.work)
	return a
}

// withRate sets Rate from the keys the job handled during its work.
func (a Impact) withRate(keys int64) Impact {
	if a.work > 0 {
		a.Rate = float64(keys) / a.work.Seconds()
	}
	return a
}

// Pace is how hard a paced job works one master: the SCAN COUNT hint, the
// keys per UNLINK round and the pause after each round (or SCAN page, when
// only counting).
type Pace struct {
	Count int64
	Batch int
	Pause time.Duration
}

// slowest is the smaller COUNT and batch and the longer pause of p and q.
func (p Pace) slowest(q Pace) Pace {
	return Pace{Count: min(p.Count, q.Count), Batch: min(p.Batch, q.Batch), Pause: max(p.Pause, q.Pause)}
}

// The bounds a controller keeps a pace within.
const (
	minPaceCount = 10
	maxPaceCount = DefaultScanCount * 4
	minPaceBatch = 10
	maxPaceBatch = DefaultBatch * 4
	maxPacePause = 50 * time.Millisecond
)

// Controller keeps the added p99 latency of other clients under a budget
// by AIMD, as TCP keeps a queue short: every probe round trip is judged
// against the idle p99 plus a share of the budget; when more than 1% of the
// probes since the last change were over (and at least two, so one stray
// round trip is not a trend) it halves COUNT and batch and doubles the
// pause; when a window of probes passes with at most 1% over, it grows
// COUNT and batch by a tenth of their defaults and shortens the pause.
// Judging only the probes since the last change means a change is never
// punished for what happened before it.
type Controller struct {
	limit       time.Duration
	pace        Pace
	slowestPace Pace
	n, over     int
	adjustments int
}

// Tuning of the controller.
const (
	// targetShare of the budget is what the controller aims at, leaving
	// the rest for the sawtooth of AIMD and for probes it has not seen.
	targetShare = 0.75
	// growAfter clean probes (none over), or judgeAfter with at most 1%
	// over, earn a step up.
	growAfter  = 50
	judgeAfter = 100
	firstPause = time.Millisecond
)

// NewController starts at pace (clamped into the bounds) for a server whose
// probe's idle p99 is idle.
func NewController(budget, idle time.Duration, pace Pace) *Controller {
	c := &Controller{limit: idle + time.Duration(float64(budget)*targetShare), pace: pace}
	c.clamp()
	c.slowestPace = c.pace
	return c
}

// Observe judges one probe round trip, and reports whether the pace changed.
func (c *Controller) Observe(rtt time.Duration) bool {
	c.n++
	if rtt > c.limit {
		c.over++
	}
	switch {
	case c.over >= 2 && c.over*100 > c.n:
		c.slower()
	case c.over == 0 && c.n >= growAfter, c.n >= judgeAfter && c.over*100 <= c.n:
		if !c.faster() {
			c.n, c.over = 0, 0 // at the top already: judge afresh
			return false
		}
	default:
		return false
	}
	c.adjustments++
	c.n, c.over = 0, 0
	c.slowestPace = c.slowestPace.slowest(c.pace)
	return true
}

// Pace is the pace to work at now.
func (c *Controller) Pace() Pace { return c.pace }

// Slowest is the slowest pace reached so far: the smallest COUNT and
// batch, the longest pause.
func (c *Controller) Slowest() Pace { return c.slowestPace }

// Adjustments is how often the pace changed.
func (c *Controller) Adjustments() int { return c.adjustments }

func (c *Controller) slower() {
	c.pace.Count /= 2
	c.pace.Batch /= 2
	c.pace.Pause = max(2*c.pace.Pause, firstPause)
	c.clamp()
}

// faster steps up; false when the pace is at its bounds already.
func (c *Controller) faster() bool {
	was := c.pace
	c.pace.Count += DefaultScanCount / 10
	c.pace.Batch += DefaultBatch / 10
	if c.pace.Pause -= c.pace.Pause/4 + 100*time.Microsecond; c.pace.Pause < 100*time.Microsecond {
		c.pace.Pause = 0
	}
	c.clamp()
	return c.pace != was
}

func (c *Controller) clamp() {
	c.pace.Count = min(max(c.pace.Count, minPaceCount), maxPaceCount)
	c.pace.Batch = min(max(c.pace.Batch, minPaceBatch), maxPaceBatch)
	c.pace.Pause = min(max(c.pace.Pause, 0), maxPacePause)
}

// latencies is a histogram of round trips in 10 µs buckets up to 50 ms;
// slower ones are kept as they are (they are few, or the job is stopping).
type latencies struct {
	buckets [5000]int32
	slow    []time.Duration
	n       int
}

const bucketWidth = 10 * time.Microsecond

func (l *latencies) add(d time.Duration) {
	l.n++
	if i := int(d / bucketWidth); i < len(l.buckets) {
		l.buckets[i]++
		return
	}
	l.slow = append(l.slow, d)
}

// p99 is the 99th percentile (nearest rank), the upper edge of its bucket;
// 0 with no samples.
func (l *latencies) p99() time.Duration {
	if l.n == 0 {
		return 0
	}
	rank := (l.n*99 + 99) / 100 // ceil(0.99 n)
	seen := 0
	for i, c := range l.buckets {
		if seen += int(c); seen >= rank {
			return time.Duration(i+1) * bucketWidth
		}
	}
	slow := slices.Clone(l.slow)
	slices.Sort(slow)
	return slow[rank-seen-1]
}

// MaxImpactLimit bounds a budget: beyond it, pacing would never engage.
const MaxImpactLimit = time.Minute

// CheckMaxImpact refuses a budget that was given (on the command line or
// in a config) but is not positive or is beyond MaxImpactLimit; 0 not given
// means no pacing.
func CheckMaxImpact(budget time.Duration, given bool) error {
	if !given && budget == 0 {
		return nil
	}
	if budget <= 0 {
		return option.Errorf("--max-impact must be a positive duration (e.g. 1ms), not %v", budget)
	}
	return option.InRange("max-impact", budget, time.Microsecond, MaxImpactLimit)
}
