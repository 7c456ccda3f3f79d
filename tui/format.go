package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// history keeps the last n values of a series; NaN marks an interval
// without a value (no lookups), drawn as a gap.
type history struct {
	vals []float64
	n    int
}

func newHistory(n int) *history { return &history{n: n} }

func (h *history) add(v float64) {
	h.vals = append(h.vals, v)
	if len(h.vals) > h.n {
		h.vals = h.vals[len(h.vals)-h.n:]
	}
}

func (h *history) last(n int) []float64 {
	if len(h.vals) <= n {
		return h.vals
	}
	return h.vals[len(h.vals)-n:]
}

var sparkBlocks = []rune(" ▁▂▃▄▅▆▇█")

// sparkline draws the last w values in h rows of block characters, scaled
// to [0, top] (top ≤ 0: the largest value shown). Right-aligned: the newest
// value is in the last column.
func sparkline(vals []float64, w, h int, top float64) []string {
	if w <= 0 || h <= 0 {
		return nil
	}
	if len(vals) > w {
		vals = vals[len(vals)-w:]
	}
	if top <= 0 {
		for _, v := range vals {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
	}
	rows := make([][]rune, h)
	for r := range rows {
		rows[r] = []rune(strings.Repeat(" ", w))
	}
	off := w - len(vals)
	for i, v := range vals {
		if math.IsNaN(v) || top <= 0 {
			continue
		}
		// eighths of the whole height; a non-zero value shows at least one
		level := int(math.Round(math.Min(v/top, 1) * float64(h*8)))
		if v > 0 && level == 0 {
			level = 1
		}
		for r := range h { // r = 0 is the bottom row
			cell := min(max(level-r*8, 0), 8)
			rows[h-1-r][off+i] = sparkBlocks[cell]
		}
	}
	out := make([]string, h)
	for r := range rows {
		out[r] = string(rows[r])
	}
	return out
}

// count prints a number of things: 950, 12.3k, 4.5M.
func count(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', 1, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	case a >= 10 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func percent(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// uptime prints seconds as 3d 04:05:06 or 04:05:06.
func uptime(s int64) string {
	d, s := s/86400, s%86400
	hms := fmt.Sprintf("%02d:%02d:%02d", s/3600, s%3600/60, s%60)
	if d > 0 {
		return fmt.Sprintf("%dd %s", d, hms)
	}
	return hms
}

// latency prints a round trip with about three significant digits.
func latency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
	}
	return d.Round(10 * time.Millisecond).String()
}

// ttl prints an average TTL compactly: 45s, 12m, 3.5h.
func ttl(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	}
	return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + "h"
}

// cols lays out cells left-aligned in the given widths (a negative width
// right-aligns), separated by one space.
func cols(widths []int, cells ...string) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(' ')
		}
		w := widths[i]
		if w < 0 {
			fmt.Fprintf(&b, "%*s", -w, c)
		} else if i == len(cells)-1 {
			b.WriteString(c)
		} else {
			fmt.Fprintf(&b, "%-*s", w, c)
		}
	}
	return b.String()
}
