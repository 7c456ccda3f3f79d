package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// HistorySchemaV1 names the shape of a history line; fields may be added,
// never renamed.
const HistorySchemaV1 = "cachectl.bench.history/v1"

// HistoryEntry is one run in a history file (JSON Lines): when it ran, in
// which environment, the key figures of each endpoint, its gates and its
// verdict against a baseline. A line is the run's summary; the report
// itself is what --report or --save-baseline keeps.
type HistoryEntry struct {
	Schema      string           `json:"schema"`
	Time        time.Time        `json:"time"`
	API         string           `json:"api"`
	Fingerprint *Fingerprint     `json:"fingerprint,omitempty"`
	Endpoints   []HistoryFigures `json:"endpoints"`
	Gates       HistoryGates     `json:"gates"`
	Passed      bool             `json:"passed"`
	Complete    bool             `json:"complete"`
	// Baseline is the comparison with --baseline, when one was given.
	Baseline *HistoryBaseline `json:"baseline,omitempty"`
	// SavedAs names the baseline this run was saved as (--save-baseline).
	SavedAs string `json:"saved_as,omitempty"`
}

// HistoryFigures are an endpoint's key figures, named as in the report:
// cold and warm_serial are the pairs, warm the load phase.
type HistoryFigures struct {
	Name          string  `json:"name"`
	Skipped       string  `json:"skipped,omitempty"`
	DurationMs    float64 `json:"duration_ms"`
	ColdP50       float64 `json:"cold_p50_ms"`
	WarmSerialP50 float64 `json:"warm_serial_p50_ms"`
	Speedup       float64 `json:"speedup"`
	WarmP50       float64 `json:"warm_p50_ms"`
	WarmP95       float64 `json:"warm_p95_ms"`
	WarmP99       float64 `json:"warm_p99_ms"`
	WarmRPS       float64 `json:"warm_rps"`
	Errors        int     `json:"errors"`
	HitRatio      float64 `json:"hit_ratio"`
	// Verdict is the endpoint's against the baseline: the worst of its
	// figures' (regressed, improved, no change).
	Verdict string `json:"verdict,omitempty"`
}

// HistoryGates counts a run's gates and names those breached.
type HistoryGates struct {
	Passed   int      `json:"passed"`
	Failed   int      `json:"failed"`
	Breached []string `json:"breached,omitempty"`
}

// HistoryBaseline is a run's verdict against its baseline: the worst of
// every figure's, or "not comparable" with the reason.
type HistoryBaseline struct {
	Name    string `json:"name"` // the baseline's name, or its file
	Verdict string `json:"verdict"`
	Note    string `json:"note,omitempty"`
}

// NotComparable is a history's verdict against a baseline taken in another
// environment.
const NotComparable = "not comparable"

// NewHistoryEntry summarises rep, which ran at now; baseline names what
// --baseline read ("" for none), savedAs the baseline it was saved as.
func NewHistoryEntry(rep Report, now time.Time, baseline, savedAs string) HistoryEntry {
	h := HistoryEntry{Schema: HistorySchemaV1, Time: now.UTC(), API: rep.API, Fingerprint: rep.Fingerprint,
		Endpoints: []HistoryFigures{}, Passed: rep.Passed, Complete: rep.Complete, SavedAs: savedAs}
	verdicts := map[string][]Comparison{}
	if c := rep.Comparison; c != nil {
		for _, x := range c.Comparisons {
			verdicts[x.Endpoint] = append(verdicts[x.Endpoint], x)
		}
		h.Baseline = &HistoryBaseline{Name: baseline, Verdict: worst(c.Comparisons), Note: c.Note}
		if !c.Comparable {
			h.Baseline.Verdict = NotComparable
		}
	}
	for _, e := range rep.Endpoints {
		f := HistoryFigures{Name: e.Name, Skipped: e.Skipped, DurationMs: e.DurationMs, ColdP50: e.Cold.P50,
			WarmSerialP50: e.WarmSerial.P50, Speedup: e.Speedup, WarmP50: e.Warm.P50, WarmP95: e.Warm.P95,
			WarmP99: e.Warm.P99, WarmRPS: e.Warm.RPS, Errors: e.Cold.Errors + e.WarmSerial.Errors + e.Warm.Errors,
			HitRatio: e.HitRatio}
		if cs, ok := verdicts[e.Name]; ok {
			f.Verdict = worst(cs)
		}
		h.Endpoints = append(h.Endpoints, f)
	}
	if m := rep.Mix; m != nil {
		h.Endpoints = append(h.Endpoints, HistoryFigures{Name: "mix", WarmP50: m.Warm.P50, WarmP95: m.Warm.P95,
			WarmP99: m.Warm.P99, WarmRPS: m.Warm.RPS, Errors: m.Warm.Errors, HitRatio: m.HitRatio})
	}
	for _, t := range rep.Thresholds {
		if t.OK {
			h.Gates.Passed++
		} else {
			h.Gates.Failed++
			h.Gates.Breached = append(h.Gates.Breached, t.Name)
		}
	}
	return h
}

// worst is the worst verdict of cs: regressed, else improved, else no change.
func worst(cs []Comparison) string {
	v := NoChange
	for _, c := range cs {
		switch {
		case c.Verdict == Regressed:
			return Regressed
		case c.Verdict == Improved:
			v = Improved
		}
	}
	return v
}

// AppendHistory appends e to the history file at path as one JSON line,
// creating the file if needed. The line goes in one write to a file opened
// with O_APPEND, so runs that append at the same time never mix their lines.
func AppendHistory(path string, e HistoryEntry) error {
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil { // one line, ending in \n
		return err
	}
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	_, err = fh.Write(line.Bytes())
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("history %s: %w", path, err)
	}
	return nil
}
