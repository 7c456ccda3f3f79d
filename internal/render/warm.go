package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/progress"
	"github.com/cachectl/cachectl/warm"
)

// Warm writes a warm round's report as a table (a headline first on a
// terminal), and each URL that finally failed on stderr.
func Warm(ios *iostreams.IOStreams, r *warm.RoundReport) error {
	if ios.IsStdoutTTY() {
		fmt.Fprintf(ios.Out, "warmed %d URLs of %s in %.2f s\n", r.URLs, r.API, r.DurationMs/1000)
	}
	tp := output.NewTable(ios)
	tp.AddRow("ok", strconv.Itoa(r.OK))
	tp.AddRow("failed", strconv.Itoa(r.Failed))
	if r.Skipped > 0 {
		tp.AddRow("skipped", strconv.Itoa(r.Skipped))
	}
	tp.AddRow("cached now (MISS)", warm.Count(r.Misses))
	tp.AddRow("already cached (HIT)", warm.Count(r.Hits))
	if r.Unknown > 0 {
		tp.AddRow("cache state unknown", strconv.Itoa(r.Unknown))
	}
	tp.AddRow("retries", strconv.Itoa(r.Retries))
	if !ios.IsStdoutTTY() {
		tp.AddRow("duration_ms", strconv.FormatFloat(r.DurationMs, 'f', 1, 64))
	}
	if r.Verify.Checked {
		tp.AddRow("keys before", strconv.FormatInt(r.Verify.KeysBefore, 10))
		tp.AddRow("keys after", strconv.FormatInt(r.Verify.KeysAfter, 10))
		missing := "none"
		if len(r.Verify.Missing) > 0 {
			missing = strings.Join(r.Verify.Missing, " ")
		}
		tp.AddRow("missing keys", missing)
		if r.Observed != nil {
			tp.AddRow("observed with", observedWith(r.Observed))
		}
		if c := r.Verify.Coverage; c != nil {
			tp.AddRow("coverage", fmt.Sprintf("%d/%d (%s)", c.Covered, c.Planned, format.Percent(c.Ratio)))
		}
	}
	if err := tp.Render(); err != nil {
		return err
	}
	WarmObserved(ios, r.Observed)
	for _, res := range r.Results {
		if !res.OK() {
			fmt.Fprintf(ios.ErrOut, "%s %s: %s (%d attempts)\n", ios.ErrColorScheme().Red("failed:"), res.URL, res.Error, res.Attempts)
		}
	}
	return nil
}

// WarmReport writes a round's report: JSON (after the observed notes on
// stderr, unless quiet), else the table, which quiet leaves out.
func WarmReport(ios *iostreams.IOStreams, fm output.Format, quiet bool, r *warm.RoundReport) error {
	switch {
	case fm == output.JSON:
		if !quiet {
			WarmObserved(ios, r.Observed)
		}
		return output.WriteJSON(ios, r)
	case quiet:
		return nil
	}
	return Warm(ios, r)
}

// WarmObserved says on stderr what a user should know of how requests
// were observed in Redis: a mechanism that fell back, or one that failed.
// The ordinary case (MONITOR, or the API's own headers) is in the JSON and
// the table, not on stderr.
func WarmObserved(ios *iostreams.IOStreams, o *warm.Observed) {
	if o == nil {
		return
	}
	if o.Degraded != "" {
		ios.Notef("HIT/MISS and keys observed in Redis with %s: %s", o.Mechanism, o.Degraded)
	}
	if o.Error != "" {
		ios.Warnf("observing stopped working: %s", o.Error)
	}
}

// WarmRoundLine is one round of a schedule: its time, number and news.
func WarmRoundLine(ios *iostreams.IOStreams, at time.Time, round int, news string) {
	fmt.Fprintf(ios.Out, "%s round %d: %s\n", at.Format(time.RFC3339), round, news)
}

// WarmRounds is warm.Every's onRound: one line per round, its summary
// (none with quiet) or the first line of its error.
func WarmRounds(ios *iostreams.IOStreams, quiet bool) func(n int, rep *warm.RoundReport, err error) {
	return func(n int, rep *warm.RoundReport, err error) {
		switch {
		case err != nil:
			msg, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
			WarmRoundLine(ios, time.Now(), n, msg)
		case !quiet:
			WarmRoundLine(ios, time.Now(), n, rep.Summary())
		}
	}
}

// WarmWarnings prints a plan's warnings on stderr unless they are the ones
// printed last: a schedule says them once.
func WarmWarnings(ios *iostreams.IOStreams, warnings, last []string) {
	if slices.Equal(warnings, last) {
		return
	}
	for _, w := range warnings {
		ios.Warnf("%s", w)
	}
}

// WarmProgress shows a status line with a bar on a terminal's stderr
// (Bar), and with Verbose one line per URL on stdout as each ends.
type WarmProgress struct {
	IO      *iostreams.IOStreams
	Bar     bool
	Verbose bool
	// Warned, when set, holds the plan warnings printed last: the first
	// plan's are printed unless they are the same (a schedule says them
	// once), and kept there. Nil prints none.
	Warned *[]string

	status        *progress.Status
	total, n, bad int
	start         time.Time
}

// Plan is told each plan before it runs: its requests join the total.
func (p *WarmProgress) Plan(pl warm.Plan) {
	if p.start.IsZero() {
		p.start = time.Now()
		if p.Warned != nil {
			WarmWarnings(p.IO, pl.Warnings, *p.Warned)
			*p.Warned = pl.Warnings
		}
		if p.Bar {
			// Every result redraws: the last one, n of n, stays until Done.
			p.status = progress.New(p.IO, 0)
		}
	}
	p.total += len(pl.Requests)
}

// Add is told each result as its request ends.
func (p *WarmProgress) Add(r warm.Result) {
	p.n++
	if !r.OK() {
		p.bad++
	}
	if p.Verbose {
		p.status.Clear()
		fmt.Fprintln(p.IO.Out, warmResultLine(r))
	}
	if p.status.Active() {
		rate := float64(p.n) / max(time.Since(p.start).Seconds(), 1e-3)
		p.status.Updatef("%s %d/%d  %.0f req/s  %d failed", p.status.Bar(p.n, p.total, 30), p.n, p.total, rate, p.bad)
	}
}

// Done erases the status line.
func (p *WarmProgress) Done() { p.status.Clear() }

// warmResultLine is one URL's outcome: status, cache, latency, attempts, URL, error.
func warmResultLine(r warm.Result) string {
	status := strconv.Itoa(r.Status)
	if r.Status == 0 {
		status = "---"
	}
	cache := r.Cache
	if cache == "" {
		cache = "-"
	}
	line := fmt.Sprintf("%s\t%s\t%.1fms\t%d\t%s", status, cache, r.LatencyMs, r.Attempts, r.URL)
	if r.Error != "" {
		line += "\t" + r.Error
	}
	return line
}

func observedWith(o *warm.Observed) string {
	if o.Headers {
		return "the API's X-Cache and X-Cache-Key headers"
	}
	return o.Mechanism
}
