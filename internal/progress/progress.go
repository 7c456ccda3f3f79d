// Package progress draws cachectl's one kind of progress: a status line on
// stderr, redrawn in place while a long job runs and erased when it ends,
// with an optional bar.
//
// The line (its throttle, the \r and erase, staying off a pipe) is this
// package's: clear, warm and bench each compose one line of their own
// figures, where schollz/progressbar would own the whole line (its own rate
// and ETA layout, a total known up front, where clear's is an estimate) and
// be a new dependency. The bar is bubbles' progress (already the
// dashboard's library), drawn without its animation through ViewAs.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"charm.land/bubbles/v2/progress"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cachectl/cachectl/internal/iostreams"
)

// eraseLine returns the cursor to the start of the line and clears it.
const eraseLine = "\r\x1b[K"

// Status is one status line on stderr. A nil *Status, and the one New
// returns when stderr is not a terminal, draws nothing, so callers never
// test for a terminal themselves. Its methods are safe for concurrent use.
type Status struct {
	w     io.Writer
	color bool
	every time.Duration

	mu    sync.Mutex
	last  time.Time
	drawn bool
}

// New returns the status line of ios's stderr, redrawn at most once per
// every (0: on every update); nil when stderr is not a terminal.
func New(ios *iostreams.IOStreams, every time.Duration) *Status {
	if !ios.IsStderrTTY() {
		return nil
	}
	return &Status{w: ios.ErrOut, color: ios.ErrColorEnabled(), every: every}
}

// Active reports whether the line is drawn at all.
func (s *Status) Active() bool { return s != nil }

// Update redraws the line with text, unless it was drawn less than the
// interval ago.
func (s *Status) Update(text string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.drawn && now.Sub(s.last) < s.every {
		return
	}
	s.last = now
	s.drawn = true
	fmt.Fprint(s.w, eraseLine+text)
}

// Updatef is Update with a format.
func (s *Status) Updatef(format string, a ...any) {
	if s == nil {
		return
	}
	s.Update(fmt.Sprintf(format, a...))
}

// Clear erases the line (before other output, and when the job ends); the
// next Update draws it again.
func (s *Status) Clear() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn {
		fmt.Fprint(s.w, eraseLine)
		s.drawn = false
	}
}

// Bar draws done of total as a bar width cells wide between brackets,
// "[=====     ]", green when stderr has colour.
func (s *Status) Bar(done, total, width int) string {
	bar := progress.New(progress.WithWidth(width), progress.WithoutPercentage(),
		progress.WithFillCharacters('=', ' '), progress.WithColors(lipgloss.Green))
	bar.EmptyColor = lipgloss.NoColor{}
	filled := min(max(width*done/max(total, 1), 0), width) // whole cells, rounded down: full only when done
	view := bar.ViewAs(float64(filled) / float64(max(width, 1)))
	if s == nil || !s.color {
		view = ansi.Strip(view)
	}
	return "[" + view + "]"
}
