package output

import (
	"testing"

	"github.com/cachectl/cachectl/internal/iostreams"
)

func TestTable(t *testing.T) {
	tests := []struct {
		name     string
		tty      bool
		markdown bool // RenderMarkdown instead of Render
		rows     [][]string
		want     string
	}{
		{name: "OnTerminalIsAligned", tty: true,
			rows: [][]string{{"GROUP", "KEYS"}, {"products", "12"}, {"colors", "1"}},
			want: "GROUP     KEYS\nproducts  12\ncolors    1\n"},
		{name: "PipedIsTabSeparatedOneRecordPerLine",
			rows: [][]string{{"KEY", "TTL"}, {"ecommerce:1:a\tb\nc", "60"}},
			want: "KEY\tTTL\n" + `ecommerce:1:a\tb\nc` + "\t60\n"},
		{name: "MarkdownEscapesPipes", markdown: true,
			rows: [][]string{{"name", "p95"}, {"a|b", "1.2"}},
			want: "| name | p95 |\n|---|---|\n| a\\|b | 1.2 |\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			ios.SetStdoutTTY(tt.tty)
			tp := NewTable(ios, tt.rows[0]...)
			for _, r := range tt.rows[1:] {
				tp.AddRow(r...)
			}
			render := tp.Render
			if tt.markdown {
				render = func() error { return tp.RenderMarkdown(out) }
			}
			if err := render(); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestJSONCompactWhenPipedIndentedOnTerminal(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	if err := WriteJSON(ios, map[string]any{"op": "ping", "key": "<a&b>"}); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != `{"key":"<a&b>","op":"ping"}`+"\n" {
		t.Errorf("piped JSON = %q", got)
	}
	out.Reset()
	ios.SetStdoutTTY(true)
	if err := WriteJSON(ios, map[string]any{"op": "ping"}); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "{\n  \"op\": \"ping\"\n}\n" {
		t.Errorf("terminal JSON = %q", got)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"table", "JSON", "markdown", "junit"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("ParseFormat(yaml) succeeded")
	}
}

func TestBytes(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0B"}, {1023, "1023B"}, {1536, "1.5K"}, {12 << 20, "12M"}, {3 << 30, "3.0G"}} {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
