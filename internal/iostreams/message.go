package iostreams

import (
	"fmt"
	"strings"
)

// The prefixes of cachectl's messages on stderr, one voice for every
// command: lower case, no trailing period, one line each.
const (
	ErrorPrefix = "cachectl: "
	WarnPrefix  = "warning: "
	NotePrefix  = "note: "
	HintPrefix  = "hint: "
)

// Errorf prints "cachectl: …" on stderr: why a command failed.
func (s *IOStreams) Errorf(format string, a ...any) {
	s.message(ErrorPrefix, (*ColorScheme).Red, format, a...)
}

// Warnf prints "warning: …" on stderr: something the user should fix.
func (s *IOStreams) Warnf(format string, a ...any) {
	s.message(WarnPrefix, (*ColorScheme).Yellow, format, a...)
}

// Notef prints "note: …" on stderr: what cachectl decided on the user's behalf.
func (s *IOStreams) Notef(format string, a ...any) {
	s.message(NotePrefix, (*ColorScheme).Dim, format, a...)
}

// Hintf prints "hint: …" on stderr: what to try next.
func (s *IOStreams) Hintf(format string, a ...any) {
	s.message(HintPrefix, (*ColorScheme).Dim, format, a...)
}

func (s *IOStreams) message(prefix string, color func(*ColorScheme, string) string, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	fmt.Fprint(s.ErrOut, color(s.ErrColorScheme(), strings.TrimSuffix(prefix, " "))+" "+msg)
}
