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
}

// DefaultStyles are the dashboard's colours; plain ones when noColor is set.
func DefaultStyles(noColor bool) Styles {
	if noColor {
		bold := lipgloss.NewStyle().Bold(true)
		return Styles{
			FocusedBorder: bold, Title: bold, FocusedTitle: bold.Reverse(true),
			Bad: bold, Warn: bold, Header: bold, Stale: lipgloss.NewStyle().Faint(true),
		}
	}
	c := lipgloss.Color
	return Styles{
		Border:        lipgloss.NewStyle().Foreground(c("8")),
		FocusedBorder: lipgloss.NewStyle().Foreground(c("12")),
		Title:         lipgloss.NewStyle().Foreground(c("14")).Bold(true),
		FocusedTitle:  lipgloss.NewStyle().Foreground(c("0")).Background(c("12")).Bold(true),
		Label:         lipgloss.NewStyle().Foreground(c("7")),
		Value:         lipgloss.NewStyle().Foreground(c("15")).Bold(true),
		Good:          lipgloss.NewStyle().Foreground(c("10")).Bold(true),
		Warn:          lipgloss.NewStyle().Foreground(c("11")).Bold(true),
		Bad:           lipgloss.NewStyle().Foreground(c("9")).Bold(true),
		Stale:         lipgloss.NewStyle().Faint(true),
		Header:        lipgloss.NewStyle().Bold(true),
		Spark:         lipgloss.NewStyle().Foreground(c("10")),
		Help:          lipgloss.NewStyle().Foreground(c("8")),
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
