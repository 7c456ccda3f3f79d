package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Styles holds every style the dashboard uses, in one place.
type Styles struct {
	Border        lipgloss.Style
	FocusedBorder lipgloss.Style
	Title         lipgloss.Style
	FocusedTitle  lipgloss.Style
	Label         lipgloss.Style
	Value         lipgloss.Style
	Good          lipgloss.Style
	Warn          lipgloss.Style
	Bad           lipgloss.Style
	Stale         lipgloss.Style
	Header        lipgloss.Style
	Spark         lipgloss.Style
	Help          lipgloss.Style
	// Selected is the row of the selected group.
	Selected lipgloss.Style
}

// DefaultStyles are the dashboard's colours for a terminal with a dark
// (isDark) or a light background; plain ones when noColor is set. Values
// are bright white only on a dark background: on a light one they are the
// terminal's black, and every other colour has a darker light variant.
func DefaultStyles(isDark, noColor bool) Styles {
	if noColor {
		bold := lipgloss.NewStyle().Bold(true)
		return Styles{
			FocusedBorder: bold, Title: bold, FocusedTitle: bold.Reverse(true),
			Bad: bold, Warn: bold, Header: bold, Stale: lipgloss.NewStyle().Faint(true),
			Selected: bold,
		}
	}
	ld, c := lipgloss.LightDark(isDark), lipgloss.Color
	fg := func(light, dark string) lipgloss.Style { return lipgloss.NewStyle().Foreground(ld(c(light), c(dark))) }
	return Styles{
		Border:        fg("7", "8"),
		FocusedBorder: fg("4", "12"),
		Title:         fg("4", "14").Bold(true),
		FocusedTitle:  fg("7", "0").Background(ld(c("4"), c("12"))).Bold(true),
		Label:         fg("8", "7"),
		Value:         fg("0", "15").Bold(true),
		Good:          fg("2", "10").Bold(true),
		Warn:          fg("130", "11").Bold(true),
		Bad:           fg("1", "9").Bold(true),
		Stale:         lipgloss.NewStyle().Faint(true),
		Header:        lipgloss.NewStyle().Bold(true),
		Spark:         fg("2", "10"),
		Help:          fg("8", "8"),
		Selected:      fg("4", "12").Bold(true),
	}
}

// frame draws a rounded box of exactly w×h cells around lines, with the
// title in the top border. Lines are cut or padded to fit.
func (s Styles) frame(title string, lines []string, w, h int, focused, stale bool) string {
	if w < 4 || h < 2 {
		return blank(w, h)
	}
	border, titleStyle := s.Border, s.Title
	if focused {
		border, titleStyle = s.FocusedBorder, s.FocusedTitle
	}
	inner := w - 2
	title = ansi.Truncate(" "+title+" ", max(inner-2, 0), "…")
	top := border.Render("╭─") + titleStyle.Render(title) +
		border.Render(strings.Repeat("─", max(inner-1-ansi.StringWidth(title), 0))+"╮")
	out := make([]string, 0, h)
	out = append(out, top)
	for i := range h - 2 {
		line := ""
		if i < len(lines) {
			line = fit(lines[i], inner)
		} else {
			line = strings.Repeat(" ", inner)
		}
		if stale {
			line = s.Stale.Render(ansi.Strip(line))
		}
		out = append(out, border.Render("│")+line+border.Render("│"))
	}
	out = append(out, border.Render("╰"+strings.Repeat("─", inner)+"╯"))
	return strings.Join(out, "\n")
}

// fit cuts or pads a styled line to exactly w cells.
func fit(line string, w int) string {
	if ansi.StringWidth(line) > w {
		line = ansi.Truncate(line, w, "…")
	}
	return line + strings.Repeat(" ", max(w-ansi.StringWidth(line), 0))
}

func blank(w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	row := strings.Repeat(" ", w)
	rows := make([]string, h)
	for i := range rows {
		rows[i] = row
	}
	return strings.Join(rows, "\n")
}
