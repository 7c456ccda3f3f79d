package inspect

import (
	"time"
)

// Rate holds the per-second figures between two snapshots.
type Rate struct {
	// Interval is the time the figures cover.
	Interval time.Duration
	// SinceStart is set when there was no earlier snapshot: the figures are
	// averages over the server's uptime, as vmstat's first line is.
	SinceStart bool
	// Reset is set when the server restarted (run_id changed) or a counter
	// went backwards (CONFIG RESETSTAT): counters are then taken from zero,
	// so rates are never negative.
	Reset bool

	OpsPerSec     float64 // commands processed per second
	HitsPerSec    float64
	MissesPerSec  float64
	EvictedPerSec float64
	ExpiredPerSec float64
	NetInPerSec   float64 // bytes per second received by the server
	NetOutPerSec  float64 // bytes per second sent by the server

	// HitRate is hits / lookups within the interval; HitRateOK is false when
	// there was no lookup in it.
	HitRate   float64
	HitRateOK bool
	// LifetimeHitRate is the current snapshot's hit rate since start.
	LifetimeHitRate   float64
	LifetimeHitRateOK bool

	hits, misses float64 // counts in the interval, to combine cluster nodes
}

// Rates returns the per-second figures between prev and cur. A zero prev
// means "since the server started". For cluster aggregates the rates are
// computed per node (matched by address) and summed, so that one node's
// restart does not distort the others'.
func Rates(prev, cur Snapshot) Rate {
	var r Rate
	if len(cur.Nodes) > 0 {
		prevByAddr := map[string]Snapshot{}
		for _, n := range prev.Nodes {
			prevByAddr[n.Addr] = n
		}
		for _, n := range cur.Nodes {
			nr := nodeRates(prevByAddr[n.Addr], n)
			r.Reset = r.Reset || nr.Reset
			r.OpsPerSec += nr.OpsPerSec
			r.HitsPerSec += nr.HitsPerSec
			r.MissesPerSec += nr.MissesPerSec
			r.EvictedPerSec += nr.EvictedPerSec
			r.ExpiredPerSec += nr.ExpiredPerSec
			r.NetInPerSec += nr.NetInPerSec
			r.NetOutPerSec += nr.NetOutPerSec
			r.hits += nr.hits
			r.misses += nr.misses
		}
		r.SinceStart = prev.Time.IsZero()
		r.Interval = interval(prev, cur)
	} else {
		r = nodeRates(prev, cur)
	}
	if r.hits+r.misses > 0 {
		r.HitRate, r.HitRateOK = r.hits/(r.hits+r.misses), true
	}
	r.LifetimeHitRate, r.LifetimeHitRateOK = cur.HitRate()
	return r
}

func interval(prev, cur Snapshot) time.Duration {
	if prev.Time.IsZero() {
		return time.Duration(max(cur.UptimeS, 1)) * time.Second
	}
	return cur.Time.Sub(prev.Time)
}

func nodeRates(prev, cur Snapshot) Rate {
	r := Rate{SinceStart: prev.Time.IsZero(), Interval: interval(prev, cur)}
	secs := r.Interval.Seconds()
	restarted := !r.SinceStart && (prev.RunID != cur.RunID && prev.RunID != "" && cur.RunID != "" ||
		cur.UptimeS < prev.UptimeS)
	if restarted {
		// The counters started from zero within the interval: over the
		// server's uptime (when shorter) they give the rate it has been running at.
		r.Reset = true
		secs = min(secs, float64(max(cur.UptimeS, 1)))
	}
	if secs <= 0 {
		// Two snapshots from the same instant say nothing about rates.
		return r
	}
	delta := func(p, c int64) float64 {
		if r.SinceStart || restarted {
			return float64(c)
		}
		if c < p {
			r.Reset = true
			return float64(c)
		}
		return float64(c - p)
	}
	hits := delta(prev.Hits, cur.Hits)
	misses := delta(prev.Misses, cur.Misses)
	r.hits, r.misses = hits, misses
	r.OpsPerSec = delta(prev.Commands, cur.Commands) / secs
	r.HitsPerSec = hits / secs
	r.MissesPerSec = misses / secs
	r.EvictedPerSec = delta(prev.Evicted, cur.Evicted) / secs
	r.ExpiredPerSec = delta(prev.Expired, cur.Expired) / secs
	r.NetInPerSec = delta(prev.NetInBytes, cur.NetInBytes) / secs
	r.NetOutPerSec = delta(prev.NetOutBytes, cur.NetOutBytes) / secs
	if hits+misses > 0 {
		r.HitRate, r.HitRateOK = hits/(hits+misses), true
	}
	r.LifetimeHitRate, r.LifetimeHitRateOK = cur.HitRate()
	return r
}
