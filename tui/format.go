package tui

import (
	"fmt"
	"math"
	"strings"
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
