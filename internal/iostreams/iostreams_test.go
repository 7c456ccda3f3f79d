package iostreams

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestMessagesHaveOneVoice(t *testing.T) {
	ios, _, out, errOut := Test()
	ios.Warnf("a password on the command line is visible to %s", "others")
	ios.Notef("not verifying in Redis: %s", "NOPERM")
	ios.Hintf("see 'cachectl --help'\n")
	ios.Errorf("interrupted")
	want := "warning: a password on the command line is visible to others\n" +
		"note: not verifying in Redis: NOPERM\n" +
		"hint: see 'cachectl --help'\n" +
		"cachectl: interrupted\n"
	if got := errOut.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout got %q", out.String())
	}
}

func TestColorOnlyOnATerminalAndNotWithNoColor(t *testing.T) {
	ios, _, _, errOut := Test()
	ios.SetColorEnabled(true)
	if got := ios.ColorScheme().Red("x"); got != "x" {
		t.Errorf("stdout not a terminal: got %q", got)
	}
	ios.SetStdoutTTY(true)
	ios.SetStderrTTY(true)
	if got := ios.ColorScheme().Red("x"); !strings.Contains(got, "\x1b[") || !strings.Contains(got, "x") {
		t.Errorf("terminal: got %q, want ANSI colour", got)
	}
	ios.Warnf("w")
	if !strings.HasPrefix(errOut.String(), "\x1b[") || !strings.Contains(errOut.String(), "warning") {
		t.Errorf("stderr on a terminal: got %q", errOut.String())
	}
	ios.SetColorEnabled(false) // --no-color, NO_COLOR
	if got := ios.ColorScheme().Bold("x"); got != "x" {
		t.Errorf("--no-color: got %q", got)
	}
	if got := ios.ErrColorScheme().Yellow("x"); got != "x" {
		t.Errorf("--no-color on stderr: got %q", got)
	}
}

// Logs written while the dashboard is on screen come out after it.
func TestHeldLogs(t *testing.T) {
	var stderr bytes.Buffer
	h := &HeldWriter{W: &stderr}
	fmt.Fprintln(h, "before")
	h.Hold()
	fmt.Fprintln(h, "during")
	if stderr.String() != "before\n" {
		t.Errorf("while held, stderr got %q", stderr.String())
	}
	h.Release()
	fmt.Fprintln(h, "after")
	if stderr.String() != "before\nduring\nafter\n" {
		t.Errorf("stderr %q", stderr.String())
	}
}
