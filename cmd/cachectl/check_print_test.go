package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/check"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
)

var printSteps = []check.Step{
	{Name: "connect", OK: true, Detail: "PONG in 0.20 ms", DurationMs: 1.25},
	{Name: "warm", OK: false, Detail: "3 keys not in Redis", DurationMs: 1500},
	{Name: "stats", OK: true, Skipped: true, Detail: "INFO is not permitted", DurationMs: 0.5},
}

// On a terminal: a mark, the step, the reason and the time, then a verdict
// that counts the failures; exit 1 names the first failed step.
func TestCheckOutputOnATerminal(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	ios.SetStdoutTTY(true)
	opts := &checkOptions{common: common{IO: ios, Format: output.Table}}
	pr := newCheckPrinter(opts)
	rep := check.Report{Op: "check"}
	for _, s := range printSteps {
		rep.Steps = append(rep.Steps, s)
		pr.Step(s)
	}
	err := finishCheck(opts, pr, rep, nil)
	got := out.String()
	for _, want := range []string{
		"✓ connect                  PONG in 0.20 ms (1.2 ms)\n",
		"✗ warm                     3 keys not in Redis (1.50 s)\n",
		"- stats                    INFO is not permitted (0.5 ms)\n",
		"\ncheck failed: 1 of 3 steps failed in ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\x1b[") {
		t.Errorf("colour without a colour terminal:\n%q", got)
	}
	if err == nil || err.Error() != "check failed at step warm: 3 keys not in Redis" {
		t.Errorf("error = %v", err)
	}
	if exitCode(t.Context(), err) != exitFailed {
		t.Errorf("exit %d, want 1", exitCode(t.Context(), err))
	}
}

// Piped: tab-separated, one header, a stable status word; no verdict line.
func TestCheckOutputPiped(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	opts := &checkOptions{common: common{IO: ios, Format: output.Table}}
	pr := newCheckPrinter(opts)
	rep := check.Report{Op: "check", Steps: printSteps[:1], Passed: true}
	pr.Step(printSteps[0])
	pr.Step(printSteps[2])
	if err := finishCheck(opts, pr, rep, nil); err != nil {
		t.Fatal(err)
	}
	want := "status\tstep\tduration_ms\tdetail\nok\tconnect\t1.2\tPONG in 0.20 ms\nskip\tstats\t0.5\tINFO is not permitted\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// A fatal error (Redis gone) still prints the report, and keeps its own exit code.
func TestCheckJSONWhenItCannotGoOn(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	opts := &checkOptions{common: common{IO: ios, Format: output.JSON}}
	rep := check.Report{Op: "check", API: "http://api", Steps: []check.Step{{Name: "connect", Detail: "cannot reach redis", DurationMs: 2}}}
	gone := errors.New("gone")
	if err := finishCheck(opts, newCheckPrinter(opts), rep, gone); err != gone {
		t.Errorf("error = %v", err)
	}
	want := `{"op":"check","api":"http://api","redis":"","steps":[{"name":"connect","ok":false,"detail":"cannot reach redis","duration_ms":2}],"passed":false}` + "\n"
	if out.String() != want {
		t.Errorf("got %s want %s", out.String(), want)
	}
}
