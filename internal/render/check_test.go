package render

import (
	"strings"
	"testing"

	"github.com/cachectl/cachectl/check"
	"github.com/cachectl/cachectl/internal/iostreams"
)

// On a colour terminal the marks and the verdict are coloured, and only
// they: with NO_COLOR (or --no-color) the same text, without escapes.
func TestCheckPrinterColour(t *testing.T) {
	steps := []check.Step{
		{Name: "connect", OK: true, Detail: "PONG", DurationMs: 1.25},
		{Name: "warm", Detail: "3 keys not in Redis", DurationMs: 1500},
	}
	show := func(colour bool) string {
		ios, _, out, _ := iostreams.Test()
		ios.SetStdoutTTY(true)
		ios.SetColorEnabled(colour)
		p := NewCheckPrinter(ios, true)
		for _, s := range steps {
			p.Step(s)
		}
		p.Summary(check.Report{Steps: steps})
		return out.String()
	}
	plain, coloured := show(false), show(true)
	if strings.Contains(plain, "\x1b[") || !strings.Contains(plain, "✗ warm                     3 keys not in Redis (1.50 s)\n") {
		t.Errorf("without colour:\n%q", plain)
	}
	if !strings.Contains(coloured, "\x1b[") || !strings.Contains(coloured, "connect                  PONG") {
		t.Errorf("with colour:\n%q", coloured)
	}
	if !strings.Contains(plain, "check failed: 1 of 2 steps failed in ") {
		t.Errorf("no verdict:\n%s", plain)
	}
}
