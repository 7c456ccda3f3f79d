package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// SchemaV1 names the JSON report's shape; fields may be added, never renamed.
const SchemaV1 = "cachectl.bench/v1"

// Report is a whole benchmark run: the JSON CI reads.
type Report struct {
	Schema     string      `json:"schema"`
	API        string      `json:"api"`
	Endpoints  []Result    `json:"endpoints"`
	Thresholds []Threshold `json:"thresholds"`
	Passed     bool        `json:"passed"`
	Complete   bool        `json:"complete"` // false when interrupted: the figures are partial
	// Mix is the weighted warm phase of --mix, which replaces the per-endpoint runs.
	Mix *Mix `json:"mix,omitempty"`
}

// Threshold is one gate's verdict.
type Threshold struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Gates are the thresholds a run must meet; zero values are off.
type Gates struct {
	MinSpeedup    float64       // cold p50 / warm p50, per endpoint
	MaxWarmP95    time.Duration // per endpoint
	MaxErrorRate  float64       // failed / all requests, per endpoint, both phases; negative: off
	Baseline      *Report       // a previous report
	MaxRegression float64       // percent: warm p95 may grow, warm rps may shrink, by at most this much
}

// Check applies the gates and sets Thresholds and Passed.
func (g Gates) Check(r *Report) {
	r.Thresholds = []Threshold{}
	add := func(name string, ok bool, format string, a ...any) {
		r.Thresholds = append(r.Thresholds, Threshold{Name: name, OK: ok, Detail: fmt.Sprintf(format, a...)})
	}
	var base map[string]Result
	if g.Baseline != nil {
		base = map[string]Result{}
		for _, e := range g.Baseline.Endpoints {
			base[e.Name] = e
		}
	}
	for _, e := range r.Endpoints {
		if g.MinSpeedup > 0 {
			add("min-speedup "+e.Name, e.Speedup >= g.MinSpeedup, "speedup %.1fx, want at least %.1fx", e.Speedup, g.MinSpeedup)
		}
		if g.MaxWarmP95 > 0 {
			limit := msf(g.MaxWarmP95)
			add("max-warm-p95 "+e.Name, e.Warm.P95 <= limit && e.Warm.Requests > e.Warm.Errors,
				"warm p95 %.2f ms, want at most %.2f ms", e.Warm.P95, limit)
		}
		if g.MaxErrorRate >= 0 {
			total := e.Warm.Requests + e.Cold.Samples
			failed := e.Warm.Errors + e.Cold.Errors
			rate := 0.0
			if total > 0 {
				rate = float64(failed) / float64(total)
			}
			add("max-error-rate "+e.Name, rate <= g.MaxErrorRate, "error rate %.4f (%d of %d), want at most %.4f", rate, failed, total, g.MaxErrorRate)
		}
		if base != nil {
			b, ok := base[e.Name]
			if !ok {
				continue // a new endpoint has nothing to regress from
			}
			grow := 1 + g.MaxRegression/100
			shrink := 1 - g.MaxRegression/100
			add("regression p95 "+e.Name, e.Warm.P95 <= b.Warm.P95*grow,
				"warm p95 %.2f ms vs baseline %.2f ms (%+.0f%%), allowed +%.0f%%", e.Warm.P95, b.Warm.P95, pct(e.Warm.P95, b.Warm.P95), g.MaxRegression)
			add("regression rps "+e.Name, e.Warm.RPS >= b.Warm.RPS*shrink,
				"warm rps %.0f vs baseline %.0f (%+.0f%%), allowed -%.0f%%", e.Warm.RPS, b.Warm.RPS, pct(e.Warm.RPS, b.Warm.RPS), g.MaxRegression)
		}
	}
	if m := r.Mix; m != nil {
		if g.MaxWarmP95 > 0 {
			limit := msf(g.MaxWarmP95)
			add("max-warm-p95 mix", m.Warm.P95 <= limit && m.Warm.Requests > m.Warm.Errors,
				"warm p95 %.2f ms, want at most %.2f ms", m.Warm.P95, limit)
		}
		if g.MaxErrorRate >= 0 {
			rate := 0.0
			if m.Warm.Requests > 0 {
				rate = float64(m.Warm.Errors) / float64(m.Warm.Requests)
			}
			add("max-error-rate mix", rate <= g.MaxErrorRate, "error rate %.4f (%d of %d), want at most %.4f", rate, m.Warm.Errors, m.Warm.Requests, g.MaxErrorRate)
		}
	}
	r.Passed = r.Complete
	for _, t := range r.Thresholds {
		r.Passed = r.Passed && t.OK
	}
}

func pct(v, base float64) float64 {
	if base == 0 {
		return math.Inf(1)
	}
	return (v/base - 1) * 100
}

// Breaches lists the names of failed thresholds.
func (r Report) Breaches() []string {
	var out []string
	for _, t := range r.Thresholds {
		if !t.OK {
			out = append(out, t.Name)
		}
	}
	return out
}

// ReadBaseline reads a previous --json report.
func ReadBaseline(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("baseline: not a bench report: %w", err)
	}
	if r.Schema != SchemaV1 {
		return nil, fmt.Errorf("baseline: schema %q, want %q", r.Schema, SchemaV1)
	}
	return &r, nil
}

// Markdown renders the report for a pull request or a CI step summary.
func (r Report) Markdown() string {
	var b strings.Builder
	verdict := "passed"
	if !r.Passed {
		verdict = "**failed**"
	}
	fmt.Fprintf(&b, "### cachectl bench: %s\n\n", verdict)
	fmt.Fprintf(&b, "API `%s`\n\n", r.API)
	b.WriteString("| endpoint | cold p50 | warm p50 | warm p95 | warm p99 | rps | speedup | errors | hit ratio | db queries cold → warm |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, e := range r.Endpoints {
		fmt.Fprintf(&b, "| %s | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.0f | %.1fx | %d | %s | %s → %s |\n",
			strings.ReplaceAll(e.Name, "|", `\|`), e.Cold.P50, e.Warm.P50, e.Warm.P95, e.Warm.P99, e.Warm.RPS, e.Speedup,
			e.Warm.Errors+e.Cold.Errors, ratioText(e.HitRatio), queriesText(e.Cold.DBQueries), queriesText(e.Warm.DBQueries))
	}
	if m := r.Mix; m != nil {
		fmt.Fprintf(&b, "| mix of %d | | %.2f ms | %.2f ms | %.2f ms | %.0f | | %d | %s | |\n",
			len(m.Picks), m.Warm.P50, m.Warm.P95, m.Warm.P99, m.Warm.RPS, m.Warm.Errors, ratioText(m.HitRatio))
	}
	if len(r.Thresholds) > 0 {
		b.WriteString("\n| gate | result | detail |\n|---|---|---|\n")
		for _, t := range r.Thresholds {
			mark := "ok"
			if !t.OK {
				mark = "**breached**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Name, mark, t.Detail)
		}
	}
	if !r.Complete {
		b.WriteString("\nThe run was interrupted: figures are partial.\n")
	}
	return b.String()
}

func ratioText(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func queriesText(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", v)
}
