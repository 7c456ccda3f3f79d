package render

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cachectl/cachectl/check"
	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
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

// Step prints one step.
func (p *CheckPrinter) Step(s check.Step) {
	if !p.on {
		return
	}
	if !p.tty {
		p.stepPiped(p.ios.Out, s)
		return
	}
	cs := p.ios.ColorScheme()
	mark := cs.Green("✓")
	switch {
	case s.Skipped:
		mark = cs.Yellow("-")
	case !s.OK:
		mark = cs.Red("✗")
	}
	fmt.Fprintf(p.ios.Out, "%s %-24s %s %s\n", mark, s.Name, s.Detail, cs.Dim("("+format.Ms(s.DurationMs)+")"))
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

// End ends the checklist: its report as JSON on stdout when json, else
// the summary.
func (p *CheckPrinter) End(json bool, rep check.Report) error {
	if json {
		return output.WriteJSON(p.ios, rep)
	}
	p.Summary(rep)
	return nil
}

// Summary prints the verdict on a terminal: how many steps, how many
// failed, how long it took.
func (p *CheckPrinter) Summary(rep check.Report) {
	if !p.on || !p.tty || len(rep.Steps) == 0 {
		return
	}
	cs := p.ios.ColorScheme()
	took := time.Since(p.start).Round(10 * time.Millisecond)
	if rep.Passed {
		fmt.Fprintf(p.ios.Out, "\n%s: %d steps in %s\n", cs.Green("check passed"), len(rep.Steps), took)
		return
	}
	fmt.Fprintf(p.ios.Out, "\n%s: %d of %d steps failed in %s\n", cs.Red("check failed"), rep.Failed(), len(rep.Steps), took)
}
