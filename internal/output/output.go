// Package output renders command results: an aligned table for a person, tab-separated
// text or compact JSON for a pipe, and markdown for reports.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
)

// Format is how a command prints its result.
type Format string

const (
	Table    Format = "table"
	JSON     Format = "json"
	Markdown Format = "markdown"
	// JUnit is a JUnit XML document, for CI test reports; bench alone
	// writes it, and every other command refuses it.
	JUnit Format = "junit"
)

// ParseFormat accepts table, json, markdown and junit.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Table, JSON, Markdown, JUnit:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (use table, json or markdown; junit for bench)", s)
}

// WriteJSON writes v as one JSON document: indented for a person, one compact
// line when piped. HTML characters are not escaped (keys may contain them).
func WriteJSON(ios *iostreams.IOStreams, v any) error {
	enc := json.NewEncoder(ios.Out)
	enc.SetEscapeHTML(false)
	if ios.IsStdoutTTY() {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}

// TablePrinter collects rows and prints them aligned on a terminal, or as
// tab-separated lines (header first) when piped.
type TablePrinter struct {
	ios    *iostreams.IOStreams
	header []string
	rows   [][]string
}

// NewTable returns a printer for ios with the given column names.
func NewTable(ios *iostreams.IOStreams, header ...string) *TablePrinter {
	return &TablePrinter{ios: ios, header: header}
}

// AddRow adds one row; missing cells print empty.
func (t *TablePrinter) AddRow(cells ...string) {
	t.rows = append(t.rows, cells)
}

// Render writes the table to the streams' stdout.
func (t *TablePrinter) Render() error {
	if t.ios.IsStdoutTTY() {
		return t.renderAligned(t.ios.Out)
	}
	return t.renderTSV(t.ios.Out)
}

// RenderMarkdown writes the table as a GitHub-flavoured markdown table.
func (t *TablePrinter) RenderMarkdown(w io.Writer) error {
	var b strings.Builder
	row := func(cells []string) {
		b.WriteString("|")
		for i := range t.header {
			b.WriteString(" " + strings.ReplaceAll(cell(cells, i), "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	row(t.header)
	b.WriteString("|")
	for range t.header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		row(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *TablePrinter) renderTSV(w io.Writer) error {
	var b strings.Builder
	line := func(cells []string) {
		n := max(len(cells), len(t.header))
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte('\t')
			}
			// Keep one record per line whatever the data holds.
			b.WriteString(strings.NewReplacer("\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(cell(cells, i)))
		}
		b.WriteByte('\n')
	}
	if len(t.header) > 0 {
		line(t.header)
	}
	for _, r := range t.rows {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *TablePrinter) renderAligned(w io.Writer) error {
	n := len(t.header)
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	widths := make([]int, n)
	measure := func(cells []string) {
		for i := range widths {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell(cells, i)))
		}
	}
	measure(t.header)
	for _, r := range t.rows {
		measure(r)
	}
	var b strings.Builder
	line := func(cells []string, style func(string) string) {
		var l strings.Builder
		for i := range widths {
			c := cell(cells, i)
			if i < n-1 {
				c += strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2)
			}
			l.WriteString(c)
		}
		b.WriteString(style(strings.TrimRight(l.String(), " ")) + "\n")
	}
	if len(t.header) > 0 {
		line(t.header, t.headerStyle)
	}
	for _, r := range t.rows {
		line(r, func(s string) string { return s })
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *TablePrinter) headerStyle(s string) string {
	return t.ios.ColorScheme().Bold(s)
}

func cell(cells []string, i int) string {
	if i < len(cells) {
		return cells[i]
	}
	return ""
}

// Bytes prints a size in binary units the way free -h does: 1023B, 1.5K, 12M, 3.0G.
//
// It is format.Bytes, kept here for the tables that print sizes.
func Bytes(n int64) string { return format.Bytes(n) }
