package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram counts latencies in log-linear buckets, as HDR histograms do:
// exact below 128 ns, then 128 buckets per power of two, so a percentile is
// read back within 0.4% (half a bucket) of the latency recorded. Recording
// is one atomic add, so every worker of a load phase records into the same
// histogram without a lock or a per-request allocation, and memory stays
// 58 KB whatever the number of requests.
//
// It is our own rather than github.com/HdrHistogram/hdrhistogram-go because
// that module's go.mod predates module graph pruning and would pull gonum
// and testify into ours, for the 60 lines this needs.
type Histogram struct {
	counts   [histBuckets]atomic.Int64
	n        atomic.Int64
	min, max atomic.Int64 // ns; min is stored +1 so that zero means unset
}

const (
	histSub     = 128 // buckets per power of two
	histBuckets = (63 - 7 + 1) * histSub
)

func histIndex(v int64) int {
	if v < histSub {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - 8 // v>>shift is in [128, 256)
	return (shift+1)*histSub + int(v>>shift) - histSub
}

// histValue is the middle of bucket i.
func histValue(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := i/histSub - 1
	lo := int64(i%histSub+histSub) << shift
	return lo + (int64(1)<<shift)/2
}

// Record counts one latency.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[histIndex(v)].Add(1)
	h.n.Add(1)
	for cur := h.max.Load(); v > cur && !h.max.CompareAndSwap(cur, v); cur = h.max.Load() {
	}
	for cur := h.min.Load(); (cur == 0 || v+1 < cur) && !h.min.CompareAndSwap(cur, v+1); cur = h.min.Load() {
	}
}

// Count is how many latencies were recorded.
func (h *Histogram) Count() int { return int(h.n.Load()) }

// Max is the slowest latency recorded, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min is the fastest latency recorded, exactly.
func (h *Histogram) Min() time.Duration { return time.Duration(max(h.min.Load()-1, 0)) }

// Percentile is the p-th percentile (0..100) by the nearest-rank method, as
// Percentile of sorted samples; 0 for an empty histogram. The extremes are exact.
func (h *Histogram) Percentile(p float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(p / 100 * float64(n)))
	if rank <= 1 {
		return h.Min()
	}
	if rank >= n {
		return h.Max()
	}
	var seen int64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= rank {
			return min(max(time.Duration(histValue(i)), h.Min()), h.Max())
		}
	}
	return h.Max()
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.Count() == 0 {
		return
	}
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	for v, cur := o.max.Load(), h.max.Load(); v > cur && !h.max.CompareAndSwap(cur, v); cur = h.max.Load() {
	}
	for v, cur := o.min.Load(), h.min.Load(); (cur == 0 || v < cur) && !h.min.CompareAndSwap(cur, v); cur = h.min.Load() {
	}
}

// Bars counts the latencies in n equal bars between the fastest and the
// slowest, for the report's histogram.
func (h *Histogram) Bars(n int) []Bucket {
	if h.Count() == 0 {
		return nil
	}
	lo, hi := h.Min(), h.Max()
	width := (hi - lo) / time.Duration(n)
	if width <= 0 {
		return []Bucket{{UpToMs: msf(hi), Count: h.Count()}}
	}
	out := make([]Bucket, n)
	for i := range out {
		out[i].UpToMs = msf(lo + width*time.Duration(i+1))
	}
	out[n-1].UpToMs = msf(hi)
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			v := min(max(time.Duration(histValue(i)), lo), hi)
			out[min(int((v-lo)/width), n-1)].Count += int(c)
		}
	}
	return out
}
