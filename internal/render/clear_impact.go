package render

import (
	"fmt"
	"time"

	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/keyspace"
)

// impactPace is a pace in the `impact` object of a JSON result.
type impactPace struct {
	Count   int64   `json:"count"`
	Batch   int     `json:"batch"`
	PauseMs float64 `json:"pause_ms"`
}

// ImpactReport is the `impact` object of a paced job's JSON result.
type ImpactReport struct {
	BudgetMs      float64    `json:"budget_ms"`
	IdleP99Ms     float64    `json:"idle_p99_ms"`
	ObservedP99Ms float64    `json:"observed_p99_ms"`
	AddedP99Ms    float64    `json:"added_p99_ms"`
	KeysPerS      float64    `json:"keys_per_s"`
	Adjustments   int        `json:"adjustments"`
	Probes        int        `json:"probes"`
	Slowest       impactPace `json:"slowest"`
	Final         impactPace `json:"final"`
}

func impactReport(i *keyspace.Impact) *ImpactReport {
	if i == nil {
		return nil
	}
	pace := func(p keyspace.Pace) impactPace { return impactPace{p.Count, p.Batch, format.Millis(p.Pause)} }
	return &ImpactReport{
		BudgetMs: format.Millis(i.Budget), IdleP99Ms: format.Millis(i.IdleP99),
		ObservedP99Ms: format.Millis(i.ObservedP99), AddedP99Ms: format.Millis(i.AddedP99),
		KeysPerS: i.Rate, Adjustments: i.Adjustments, Probes: i.Probes,
		Slowest: pace(i.Slowest), Final: pace(i.Final),
	}
}

// ImpactLine is a paced job's impact for a person:
// "impact: +0.4 ms p99 (budget 1 ms), 52k keys/s".
func ImpactLine(i keyspace.Impact) string {
	return fmt.Sprintf("impact: +%s p99 (budget %s), %s keys/s", ms(i.AddedP99), ms(i.Budget), format.Count(i.Rate))
}

func ms(d time.Duration) string { return format.Ms(format.Millis(d)) }
