package iostreams

import (
	"charm.land/lipgloss/v2"
)

// ColorScheme styles text for one stream. When colour is off (NO_COLOR,
// --no-color, TERM=dumb, or the stream is not a terminal) every method
// returns its argument unchanged, so callers never test for colour
// themselves. The colours are the terminal's own ANSI palette, which the
// user's theme already makes readable on a light or a dark background.
type ColorScheme struct {
	enabled bool
}

var (
	csBold   = lipgloss.NewStyle().Bold(true)
	csDim    = lipgloss.NewStyle().Faint(true)
	csGreen  = lipgloss.NewStyle().Foreground(lipgloss.Green)
	csRed    = lipgloss.NewStyle().Foreground(lipgloss.Red)
	csYellow = lipgloss.NewStyle().Foreground(lipgloss.Yellow)
)

// NewColorScheme returns a scheme that colours when enabled is true.
func NewColorScheme(enabled bool) *ColorScheme { return &ColorScheme{enabled: enabled} }

// ColorScheme is the scheme for stdout.
func (s *IOStreams) ColorScheme() *ColorScheme { return NewColorScheme(s.ColorEnabled()) }

// ErrColorScheme is the scheme for stderr (messages, progress).
func (s *IOStreams) ErrColorScheme() *ColorScheme { return NewColorScheme(s.ErrColorEnabled()) }

// Enabled reports whether the scheme colours at all.
func (c *ColorScheme) Enabled() bool { return c.enabled }

func (c *ColorScheme) style(st lipgloss.Style, t string) string {
	if !c.enabled || t == "" {
		return t
	}
	return st.Render(t)
}

func (c *ColorScheme) Bold(t string) string   { return c.style(csBold, t) }
func (c *ColorScheme) Dim(t string) string    { return c.style(csDim, t) }
func (c *ColorScheme) Green(t string) string  { return c.style(csGreen, t) }
func (c *ColorScheme) Red(t string) string    { return c.style(csRed, t) }
func (c *ColorScheme) Yellow(t string) string { return c.style(csYellow, t) }
