package render

import (
	"strings"
	"testing"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
)

func benchSample() bench.Report {
	return bench.Report{Schema: bench.SchemaV1, API: "http://api", Complete: true, Endpoints: []bench.Result{
		{Name: "product_detail",
			Cold:       bench.Serial{Samples: 3, P50: 4.5, DBQueries: 2},
			WarmSerial: bench.Serial{Samples: 3, P50: 0.5, Errors: 1},
			Warm:       bench.Warm{Requests: 50, Concurrency: 4, Percentiles: bench.Percentiles{P50: 0.75, P95: 1.25, P99: 2}, RPS: 1234.4, Errors: 2, DBQueries: 0},
			Speedup:    9, HitRatio: 1,
			Histogram: []bench.Bucket{{UpToMs: 1, Count: 40}, {UpToMs: 2, Count: 10}}},
		{Name: "recommendations", Skipped: "HTTP 404 at the first request: the API has no such route", Optional: true},
	}}
}

// The table and its short form are one design: the short form keeps the
// columns that say what the cache buys.
func TestBenchTableAndSummary(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	rep := benchSample()
	rep.Thresholds = []bench.Threshold{{Name: "min-speedup product_detail", OK: false, Detail: "9.0x < 10.0x"}}
	if err := Bench(ios, output.Table, rep); err != nil {
		t.Fatal(err)
	}
	want := "ENDPOINT\tCOLD P50\tWARM P50\tSPEEDUP\tLOAD P50\tLOAD P95\tLOAD P99\tLOAD RPS\tERRORS\tHIT RATIO\tDB Q COLD→WARM\n" +
		"product_detail\t4.50ms\t0.50ms\t9.0x\t0.75ms\t1.25ms\t2.00ms\t1234\t3\t1.00\t2.0→0.0\n" +
		"recommendations\tskipped\t-\t-\t-\t-\t-\t-\t-\t-\t-\n" +
		"cold, warm: 3 pairs one request at a time, speedup = cold p50 / warm p50; load: 50 requests at -c 4, closed loop\n" +
		"BREACHED  min-speedup product_detail: 9.0x < 10.0x\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}

	out.Reset()
	if err := BenchSummary(ios, benchSample()); err != nil {
		t.Fatal(err)
	}
	want = "ENDPOINT\tCOLD P50\tWARM P50\tSPEEDUP\tLOAD RPS\tHIT RATIO\tDB Q COLD→WARM\n" +
		"product_detail\t4.50ms\t0.50ms\t9.0x\t1234\t1.00\t2.0→0.0\n" +
		"recommendations\tskipped\t-\t-\t-\t-\t-\n"
	if out.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", out, want)
	}
}

// An open loop's table says so, and shows the latency from when each
// request was due beside the latency from when it was sent, and the figures
// by cache state.
func TestBenchTableNamesTheOpenLoop(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	rep := benchSample()
	w := &rep.Endpoints[0].Warm
	w.LoadModel, w.Rate, w.Connections = bench.Open, 200, 12
	w.Percentiles = bench.Percentiles{P50: 0.5, P99: 950, P999: 995}
	w.Uncorrected = &bench.Percentiles{P50: 0.5, P99: 3.5, P999: 8}
	w.ByCache = map[string]bench.CacheFigures{"HIT": {Requests: 48, RPS: 192, Percentiles: bench.Percentiles{P50: 0.5, P95: 1, P99: 2}},
		"MISS": {Requests: 2, RPS: 8, Percentiles: bench.Percentiles{P50: 4, P95: 4, P99: 4}}}
	if err := Bench(ios, output.Table, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"load: 50 requests at 200/s, open loop (latency from when each was due)\n",
		"product_detail open loop at 200/s: p50 0.50, p99 950.00, p99.9 995.00 ms from when due; 0.50, 3.50, 8.00 ms from when sent (uncorrected); 12 connections\n",
		"product_detail by cache state: HIT 48 (192/s, p50 0.50, p95 1.00, p99 2.00 ms), MISS 2 (8/s, p50 4.00, p95 4.00, p99 4.00 ms)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// On a terminal each measured endpoint gets a histogram of its latencies under load.
func TestBenchHistogramOnATerminal(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	ios.SetStdoutTTY(true)
	if err := Bench(ios, output.Table, benchSample()); err != nil {
		t.Fatal(err)
	}
	want := "\nproduct_detail latency under load (50 requests at -c 4, closed loop)\n" +
		"      1.00ms [    40] " + strings.Repeat("■", 40) + "\n" +
		"      2.00ms [    10] " + strings.Repeat("■", 10) + "\n"
	if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "recommendations latency") {
		t.Errorf("output lacks the histogram of product_detail alone:\n%s", out)
	}
}

func TestBenchSkippedWarnsOnce(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	BenchSkipped(ios, benchSample())
	want := "warning: skipped recommendations: HTTP 404 at the first request: the API has no such route\n" +
		"hint: --only or --endpoints pick the endpoints this API has\n"
	if errOut.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}
}
