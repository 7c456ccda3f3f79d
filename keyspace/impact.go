package keyspace

import (
	"math"
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
	Adjustments int           // times the probe made a controller step its pace down or back up
	Probes      int           // probe round trips during the work, over every master
	// Slowest is the smallest COUNT and batch and the longest pause the
	// controller used, its small first commands included; Final the pace it
	// ended at (of the master that suffered most, on a cluster).
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

// Controller keeps the added p99 latency of other clients under a budget.
//
// Redis runs one command at a time, so what another client waits for is
// the command of ours ahead of it: a SCAN of COUNT 1000 or an UNLINK of 500
// keys takes a millisecond or two on a modest server, and that is the p99
// rise a clear at the defaults causes, however long it pauses between
// rounds. So the controller sizes every command to take a share of the
// budget on the server: it learns the server's cost per key of SCAN and of
// UNLINK from the round trips of the job's own commands (less the probe's
// idle round trip, which is the network's part) and sets COUNT and batch
// from them. A job has two commands in flight at most (a SCAN and an
// UNLINK round), so each gets cmdShare of the budget.
//
// The probe checks the result. Its round trips are judged in windows of
// window probes (or windowTime, when round trips are slow) against the idle p99 plus the budget; two windows in a row
// with more than overInWindow over mean the sizing alone does not hold the
// budget (the server has other work, or shares a CPU with the job), and the
// controller halves its command time and doubles a pause between rounds;
// cleanToGrow clean windows in a row undo one such step, the pause first.
type Controller struct {
	budget, base time.Duration
	limit        time.Duration
	pace         Pace
	slowestPace  Pace
	adjustments  int

	maxCount             int64   // --count: the most COUNT grows to
	maxBatch             int     // --batch: the most keys per UNLINK round
	share                float64 // of the command time, lowered by the probe
	scanCost, unlinkCost costs

	n, over           int           // probes in this window, and those over limit
	spent             time.Duration // the window's time so far
	overRun, cleanRun int           // windows in a row over, clean
}

// Tuning of the controller.
const (
	cmdShare     = 0.2
	minShare     = 1.0 / 16
	window       = 50
	windowTime   = 2 * window * probeInterval // or fewer probes, when they are slow
	overInWindow = 1                          // more than this many over the limit makes a window over
	cleanToGrow  = 3
	firstPause   = 500 * time.Microsecond
	costWeight   = 0.25 // of a new command in the cost estimate
	// startCount and startBatch are the first commands' sizes, before any
	// cost is known: small enough to be harmless on any server.
	startCount = 100
	startBatch = 100
)

// NewController starts a controller for a server whose probe's idle p99 is
// idle and median round trip base (the network's part of every round trip).
// pace gives the pause to start from and the most COUNT and batch may grow
// to (DefaultScanCount and DefaultBatch where 0): COUNT and batch start
// small and are sized from the commands' measured cost, never beyond them.
func NewController(budget, idle, base time.Duration, pace Pace) *Controller {
	c := &Controller{budget: budget, base: base, limit: idle + budget, share: 1,
		maxCount: DefaultScanCount, maxBatch: DefaultBatch}
	if pace.Count > 0 {
		c.maxCount = min(pace.Count, maxPaceCount)
	}
	if pace.Batch > 0 {
		c.maxBatch = min(pace.Batch, maxPaceBatch)
	}
	c.pace = Pace{Count: startCount, Batch: startBatch, Pause: pace.Pause}
	c.clamp()
	c.slowestPace = c.pace
	return c
}

// cmdTime is the server time each command may take now.
func (c *Controller) cmdTime() float64 {
	return float64(c.budget) * cmdShare * c.share
}

// Scanned learns from one SCAN of count whose round trip took rtt.
func (c *Controller) Scanned(count int64, rtt time.Duration) {
	c.scanCost.learn(count, rtt-c.base)
	c.resize()
}

// Unlinked learns from one UNLINK round of keys whose round trip took rtt.
func (c *Controller) Unlinked(keys int, rtt time.Duration) {
	c.unlinkCost.learn(int64(keys), rtt-c.base)
	c.resize()
}

// costs is a command's server time per key: the second least of its last
// len(per) commands. A round trip is also long when it waited behind the
// job's other command or the network dawdled, so the quickest recent ones
// are the nearest to the server's own cost; the second, so that one round
// trip quicker than the network's usual does not make every next command
// a huge one.
type costs struct {
	per [8]float64
	n   int
}

// learn adds one command of items whose server time was server.
func (c *costs) learn(items int64, server time.Duration) {
	if items <= 0 {
		return
	}
	c.per[c.n%len(c.per)] = max(float64(server), 0) / float64(items)
	c.n++
}

// cost is the estimate in nanoseconds per item, -1 before any command.
func (c *costs) cost() float64 {
	if c.n == 0 {
		return -1
	}
	v := slices.Clone(c.per[:min(c.n, len(c.per))])
	slices.Sort(v)
	return v[min(1, len(v)-1)]
}

// resize sets COUNT and batch from the costs learnt so far, growing
// either at most twofold at a time, so that one round trip quicker than
// the network's usual does not make the next command a huge one.
func (c *Controller) resize() {
	t := c.cmdTime()
	if cost := c.scanCost.cost(); cost >= 0 {
		c.pace.Count = int64(math.Round(min(t/max(cost, 1), 2*float64(c.pace.Count))))
	}
	if cost := c.unlinkCost.cost(); cost >= 0 {
		c.pace.Batch = int(math.Round(min(t/max(cost, 1), 2*float64(c.pace.Batch))))
	}
	c.clamp()
	c.slowestPace = c.slowestPace.slowest(c.pace)
}

// Observe judges one probe round trip, and reports whether the pace changed.
func (c *Controller) Observe(rtt time.Duration) bool {
	c.n++
	c.spent += max(rtt, probeInterval)
	if rtt > c.limit {
		c.over++
	}
	if c.n < window && c.spent < windowTime {
		return false
	}
	over := c.over*window > c.n*overInWindow // more than overInWindow in a full window
	c.n, c.over, c.spent = 0, 0, 0
	if over {
		c.overRun, c.cleanRun = c.overRun+1, 0
	} else {
		c.overRun, c.cleanRun = 0, c.cleanRun+1
	}
	switch {
	case c.overRun >= 2:
		c.overRun = 0
		if !c.slower() {
			return false
		}
	case c.cleanRun >= cleanToGrow:
		c.cleanRun = 0
		if !c.faster() {
			return false
		}
	default:
		return false
	}
	c.adjustments++
	c.resize()
	return true
}

// Pace is the pace to work at now.
func (c *Controller) Pace() Pace { return c.pace }

// Slowest is the slowest pace reached so far: the smallest COUNT and
// batch, the longest pause.
func (c *Controller) Slowest() Pace { return c.slowestPace }

// Adjustments is how often the probe made the controller change its pace.
func (c *Controller) Adjustments() int { return c.adjustments }

// slower halves the command time and doubles the pause; false at the bounds.
func (c *Controller) slower() bool {
	was, wasShare := c.pace, c.share
	c.share = max(c.share/2, minShare)
	c.pace.Pause = min(max(2*c.pace.Pause, firstPause), maxPacePause)
	return c.pace != was || c.share != wasShare
}

// faster undoes one step of slower, the pause first; false at the top.
func (c *Controller) faster() bool {
	if c.pace.Pause > 0 {
		if c.pace.Pause /= 2; c.pace.Pause < firstPause {
			c.pace.Pause = 0
		}
		return true
	}
	if c.share >= 1 {
		return false
	}
	c.share = min(2*c.share, 1)
	return true
}

func (c *Controller) clamp() {
	c.pace.Count = min(max(c.pace.Count, minPaceCount), c.maxCount)
	c.pace.Batch = min(max(c.pace.Batch, minPaceBatch), c.maxBatch)
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
func (l *latencies) p99() time.Duration { return l.quantile(99) }

// quantile is the q-th percentile (nearest rank), as p99.
func (l *latencies) quantile(q int) time.Duration {
	if l.n == 0 {
		return 0
	}
	rank := (l.n*q + 99) / 100 // ceil(q/100 n)
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
