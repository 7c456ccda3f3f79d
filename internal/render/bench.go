package render

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/progress"
)

// Bench writes a bench report in format: JSON, markdown, or the table with
// the phases, histograms (on a terminal) and gates.
func Bench(ios *iostreams.IOStreams, format output.Format, rep bench.Report) error {
	switch format {
	case output.JSON:
		return output.WriteJSON(ios, rep)
	case output.Markdown:
		_, err := io.WriteString(ios.Out, rep.Markdown())
		return err
	case output.JUnit:
		return BenchJUnit(ios.Out, rep)
	}
	if err := benchTable(ios, rep, benchColumns); err != nil {
		return err
	}
	benchNotes(ios, rep)
	return nil
}

// BenchSummary is the short form of bench's table, what the cache buys per
// endpoint: the same design with fewer columns, as the demo shows it.
func BenchSummary(ios *iostreams.IOStreams, rep bench.Report) error {
	var cols []benchColumn
	for _, c := range benchColumns {
		if c.summary {
			cols = append(cols, c)
		}
	}
	return benchTable(ios, rep, cols)
}

// BenchSkipped names on stderr the optional endpoints that were not measured.
func BenchSkipped(ios *iostreams.IOStreams, rep bench.Report) {
	skipped := map[string]string{}
	for _, e := range rep.Endpoints {
		if e.Skipped != "" && e.Optional {
			skipped[e.Name] = e.Skipped
		}
	}
	if rep.Mix != nil {
		maps.Copy(skipped, rep.Mix.Skipped)
	}
	for _, name := range slices.Sorted(maps.Keys(skipped)) {
		ios.Warnf("skipped %s: %s", name, skipped[name])
	}
	if len(skipped) > 0 {
		ios.Hintf("--only or --endpoints pick the endpoints this API has")
	}
}

// BenchProgress shows what bench is doing in a status line on a terminal's
// stderr; done erases it. Both do nothing when no person watches stderr.
func BenchProgress(ios *iostreams.IOStreams, quiet bool) (update func(string), done func()) {
	if quiet {
		return nil, func() {}
	}
	st := progress.New(ios, 100*time.Millisecond)
	if !st.Active() {
		return nil, func() {}
	}
	return st.Update, st.Clear
}

// benchColumn is one column of the bench table: its cell for an endpoint
// and for a mix (nil: "-"); summary columns make the short form.
type benchColumn struct {
	header   string
	endpoint func(bench.Result) string
	mix      func(*bench.Mix) string
	summary  bool
}

var benchColumns = []benchColumn{
	{"COLD P50", func(e bench.Result) string { return benchMs(e.Cold.P50) }, nil, true},
	{"WARM P50", func(e bench.Result) string { return benchMs(e.WarmSerial.P50) }, nil, true},
	{"SPEEDUP", func(e bench.Result) string { return strconv.FormatFloat(e.Speedup, 'f', 1, 64) + "x" }, nil, true},
	{"LOAD P50", func(e bench.Result) string { return benchMs(e.Warm.P50) }, func(m *bench.Mix) string { return benchMs(m.Warm.P50) }, false},
	{"LOAD P95", func(e bench.Result) string { return benchMs(e.Warm.P95) }, func(m *bench.Mix) string { return benchMs(m.Warm.P95) }, false},
	{"LOAD P99", func(e bench.Result) string { return benchMs(e.Warm.P99) }, func(m *bench.Mix) string { return benchMs(m.Warm.P99) }, false},
	{"LOAD RPS", func(e bench.Result) string { return benchRPS(e.Warm.RPS) }, func(m *bench.Mix) string { return benchRPS(m.Warm.RPS) }, true},
	{"ERRORS", func(e bench.Result) string { return strconv.Itoa(e.Warm.Errors + e.Cold.Errors + e.WarmSerial.Errors) },
		func(m *bench.Mix) string { return strconv.Itoa(m.Warm.Errors) }, false},
	{"HIT RATIO", func(e bench.Result) string { return benchOrNA(e.HitRatio, 2) }, func(m *bench.Mix) string { return benchOrNA(m.HitRatio, 2) }, true},
	{"DB Q COLD→WARM", func(e bench.Result) string {
		return benchOrNA(e.Cold.DBQueries, 1) + "→" + benchOrNA(e.Warm.DBQueries, 1)
	}, nil, true},
}

func benchTable(ios *iostreams.IOStreams, rep bench.Report, cols []benchColumn) error {
	header := []string{"ENDPOINT"}
	for _, c := range cols {
		header = append(header, c.header)
	}
	tp := output.NewTable(ios, header...)
	for _, e := range rep.Endpoints {
		row := []string{e.Name}
		for i, c := range cols {
			switch {
			case e.Skipped == "":
				row = append(row, c.endpoint(e))
			case i == 0:
				row = append(row, "skipped")
			default:
				row = append(row, "-")
			}
		}
		tp.AddRow(row...)
	}
	if m := rep.Mix; m != nil {
		row := []string{fmt.Sprintf("mix of %d", len(m.Picks))}
		for _, c := range cols {
			cell := "-"
			if c.mix != nil {
				cell = c.mix(m)
			}
			row = append(row, cell)
		}
		tp.AddRow(row...)
	}
	return tp.Render()
}

// benchNotes follow the table: what the phases were, the mix's requests,
// the histograms on a terminal, and the gates.
func benchNotes(ios *iostreams.IOStreams, rep bench.Report) {
	if p := rep.Phases(); p != "" {
		fmt.Fprintln(ios.Out, p)
	}
	if m := rep.Mix; m != nil {
		var parts []string
		for _, n := range slices.Sorted(maps.Keys(m.Picks)) {
			parts = append(parts, fmt.Sprintf("%s %d (weight %d)", n, m.Picks[n], m.Weights[n]))
		}
		fmt.Fprintf(ios.Out, "mix requests: %s\n", strings.Join(parts, ", "))
	}
	for _, e := range rep.Endpoints {
		if e.Skipped == "" {
			for _, d := range e.Warm.Details() {
				fmt.Fprintf(ios.Out, "%s %s\n", e.Name, d)
			}
		}
	}
	if m := rep.Mix; m != nil {
		for _, d := range m.Warm.Details() {
			fmt.Fprintf(ios.Out, "mix %s\n", d)
		}
	}
	benchStampede(ios, rep)
	if ios.IsStdoutTTY() {
		for _, e := range rep.Endpoints {
			if e.Skipped == "" {
				fmt.Fprintf(ios.Out, "\n%s latency under load (%s)\n%s", e.Name, e.Warm.Model(), benchHistogram(e.Histogram, 40))
			}
		}
	}
	cs := ios.ColorScheme()
	for _, t := range rep.Thresholds {
		mark := cs.Green("ok      ")
		if !t.OK {
			mark = cs.Red("BREACHED")
		}
		fmt.Fprintf(ios.Out, "%s  %s: %s\n", mark, t.Name, t.Detail)
	}
}

func benchHistogram(b []bench.Bucket, width int) string {
	peak := 0
	for _, x := range b {
		peak = max(peak, x.Count)
	}
	var s strings.Builder
	for _, x := range b {
		bar := 0
		if peak > 0 {
			bar = x.Count * width / peak
		}
		fmt.Fprintf(&s, "  %8.2fms [%6d] %s\n", x.UpToMs, x.Count, strings.Repeat("■", bar))
	}
	return s.String()
}

func benchMs(v float64) string  { return strconv.FormatFloat(v, 'f', 2, 64) + "ms" }
func benchRPS(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

// benchOrNA is v with prec decimals, or n/a for the -1 of a figure the server does not give.
func benchOrNA(v float64, prec int) string {
	if v < 0 {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// BenchOutputs are where a bench report goes: the screen in Format (none
// for a table with Quiet), ReportFile if set, and StepSummary (a CI job's
// step summary file) if set.
type BenchOutputs struct {
	Format      output.Format
	Quiet       bool
	ReportFile  string
	StepSummary string
}

// Write writes rep to each of the outputs, the files first.
func (o BenchOutputs) Write(ios *iostreams.IOStreams, rep bench.Report) error {
	if o.ReportFile != "" {
		if err := BenchReportFile(o.ReportFile, o.Format, rep); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	if o.StepSummary != "" {
		if err := BenchStepSummary(o.StepSummary, rep); err != nil {
			return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	if o.Quiet && o.Format == output.Table {
		return nil
	}
	return Bench(ios, o.Format, rep)
}

// BenchReportFile writes rep to the file at path, in the format its
// extension names (.json, .md, .xml: JUnit), else in fm.
func BenchReportFile(path string, fm output.Format, rep bench.Report) error {
	switch {
	case strings.HasSuffix(path, ".json"):
		fm = output.JSON
	case strings.HasSuffix(path, ".md"):
		fm = output.Markdown
	case strings.HasSuffix(path, ".xml"):
		fm = output.JUnit
	}
	return benchWriteFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666, func(w io.Writer) error {
		return Bench(&iostreams.IOStreams{Out: w}, fm, rep)
	})
}

// BenchStepSummary appends rep's markdown to the file at path (a CI job's
// step summary).
func BenchStepSummary(path string, rep bench.Report) error {
	return benchWriteFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644, func(w io.Writer) error {
		_, err := io.WriteString(w, rep.Markdown()+"\n")
		return err
	})
}

func benchWriteFile(path string, flag int, perm os.FileMode, write func(io.Writer) error) error {
	fh, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return err
	}
	err = write(fh)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}
