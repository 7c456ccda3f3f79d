package output

import (
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/iostreams"
)

func TestTableOnTerminalIsAligned(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	ios.SetStdoutTTY(true)
	tp := NewTable(ios, "GROUP", "KEYS")
	tp.AddRow("products", "12")
	tp.AddRow("colors", "1")
	if err := tp.Render(); err != nil {
		t.Fatal(err)
	}
	want := "GROUP     KEYS\nproducts  12\ncolors    1\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestTablePipedIsTabSeparatedOneRecordPerLine(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	tp := NewTable(ios, "KEY", "TTL")
	tp.AddRow("ecommerce:1:a\tb\nc", "60")
	if err := tp.Render(); err != nil {
		t.Fatal(err)
	}
	want := "KEY\tTTL\n" + `ecommerce:1:a\tb\nc` + "\t60\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestMarkdownEscapesPipes(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	tp := NewTable(ios, "name", "p95")
	tp.AddRow("a|b", "1.2")
	var b strings.Builder
	if err := tp.RenderMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	want := "| name | p95 |\n|---|---|\n| a\\|b | 1.2 |\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
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
	for _, s := range []string{"table", "JSON", "markdown"} {
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
