package render

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cachectl/cachectl/check"
	"github.com/cachectl/cachectl/internal/iostreams"
)

// CheckPrinter shows each step of check as it ends: a mark, the name, the
// reason and the time on a terminal; tab-separated fields when piped.
type CheckPrinter struct {
	ios    *iostreams.IOStreams
	on     bool
	tty    bool
	header bool
	start  time.Time
}

// NewCheckPrinter prints to ios's stdout; one that is not on prints nothing
// (JSON, --quiet).
func NewCheckPrinter(ios *iostreams.IOStreams, on bool) *CheckPrinter {
	return &CheckPrinter{ios: ios, on: on, tty: ios.IsStdoutTTY(), start: time.Now()}
}

const (
	checkGreen  = "\x1b[32m"
	checkRed    = "\x1b[31m"
	checkYellow = "\x1b[33m"
	checkDim    = "\x1b[2m"
	checkReset  = "\x1b[0m"
)

func (p *CheckPrinter) color(code, s string) string {
	if !p.ios.ColorEnabled() {
		return s
	}
	return code + s + checkReset
}

// Step prints one step.
func (p *CheckPrinter) Step(s check.Step) {
	if !p.on {
		return
	}
	if !p.tty {
		p.stepPiped(p.ios.Out, s)
		return
	}
	mark := p.color(checkGreen, "✓")
	switch {
	case s.Skipped:
		mark = p.color(checkYellow, "-")
	case !s.OK:
		mark = p.color(checkRed, "✗")
	}
	fmt.Fprintf(p.ios.Out, "%s %-24s %s %s\n", mark, s.Name, s.Detail, p.color(checkDim, "("+checkHumanMs(s.DurationMs)+")"))
}

func (p *CheckPrinter) stepPiped(w io.Writer, s check.Step) {
	if !p.header {
		fmt.Fprintln(w, "status\tstep\tduration_ms\tdetail")
		p.header = true
	}
	status := "ok"
	switch {
	case s.Skipped:
		status = "skip"
	case !s.OK:
		status = "FAIL"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", status, s.Name, strconv.FormatFloat(s.DurationMs, 'f', 1, 64), s.Detail)
}

// Summary prints the verdict on a terminal: how many steps, how many
// failed, how long it took.
func (p *CheckPrinter) Summary(rep check.Report) {
	if !p.on || !p.tty || len(rep.Steps) == 0 {
		return
	}
	took := time.Since(p.start).Round(10 * time.Millisecond)
	if rep.Passed {
		fmt.Fprintf(p.ios.Out, "\n%s: %d steps in %s\n", p.color(checkGreen, "check passed"), len(rep.Steps), took)
		return
	}
	fmt.Fprintf(p.ios.Out, "\n%s: %d of %d steps failed in %s\n", p.color(checkRed, "check failed"), rep.Failed(), len(rep.Steps), took)
}

func checkHumanMs(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}
