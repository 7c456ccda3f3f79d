package keyspace

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestMatchFollowsRedisGlob(t *testing.T) {
	tests := []struct {
		pattern, key string
		want         bool
	}{
		{"a*", "abc", true},
		{"a*", "b", false},
		{"a*c", "abbbc", true},
		{"a*c", "abbb", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a[bc]d", "acd", true},
		{"a[^bc]d", "acd", false},
		{"a[^bc]d", "axd", true},
		{"a[a-c]d", "abd", true},
		{"a[c-a]d", "abd", true},
		{"a[a-c]d", "axd", false},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{`a\?`, "a?", true},
		{`a\[b\]`, "a[b]", true},
		{`a\\`, `a\`, true},
		{`a\`, `a\`, true},
		{"a[", "a", false},
		{"a[b", "ab", true},
		{"**b", "ab", true},
		{"a*b*", "ab", true},
		{"Product:*", "product:1", false},
		{"p*:1", "product:1", true},
		{"x\xff*", "x\xff\x00y", true},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.key); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
	}
}

func TestEscapeGlobRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", `*?[]\`, "a*b", `x\y`, "[^a-z]", "new\nline"} {
		e := EscapeGlob(s)
		if !Match(e, s) {
			t.Errorf("EscapeGlob(%q) = %q does not match itself", s, e)
		}
		if lit, exact := LiteralPrefix(e); lit != s || !exact {
			t.Errorf("LiteralPrefix(%q) = %q, %v; want %q, true", e, lit, exact, s)
		}
		if s != "" && Match(e, s+"x") {
			t.Errorf("EscapeGlob(%q) = %q matches a longer key", s, e)
		}
	}
}

// FuzzTargetStaysInsideItsPrefix: whatever the prefix, pattern and key, a key a
// target accepts starts with the literal namespace, and SCAN's MATCH pattern
// finds every key the target accepts.
func FuzzTargetStaysInsideItsPrefix(f *testing.F) {
	f.Add("ecommerce", 1, "product:*", "ecommerce:1:product:1", int64(1))
	f.Add(`a*?[]\`, 2, "x[ab]?*", `a*?[]\:2:xa12`, int64(10))
	f.Add("", 0, `\*`, ":0:*", int64(3))
	f.Add("shop", 1, "*:*", "shop:1:product:1x", int64(1))
	f.Fuzz(func(t *testing.T, prefix string, version int, pattern, key string, id int64) {
		s := New(prefix, version)
		ns := s.Namespace()
		var targets []Target
		if p, err := s.Pattern(pattern); err == nil {
			targets = append(targets, p)
		} else if !errors.Is(err, ErrMatchAll) {
			t.Fatalf("Pattern(%q) refused: %v", pattern, err)
		}
		for _, name := range s.GroupNames() {
			g, err := s.Group(name)
			if err != nil {
				t.Fatal(err)
			}
			targets = append(targets, g)
		}
		if p, err := s.Product(id, id%2 == 0); err == nil {
			targets = append(targets, p)
			idKey := ns + "product:" + strconv.FormatInt(id, 10)
			if key != idKey && !strings.HasPrefix(key, idKey+":") && !strings.HasPrefix(key, ns+"products:") && p.Match(key) {
				t.Fatalf("product %d target %v accepts %q", id, p.Globs, key)
			}
		}
		for _, tg := range targets {
			if !tg.Match(key) {
				continue
			}
			if !strings.HasPrefix(key, ns) {
				t.Fatalf("target %v accepts %q outside namespace %q", tg.Globs, key, ns)
			}
			m, err := Selection{tg}.ScanMatch()
			if err != nil {
				t.Fatal(err)
			}
			if !Match(m, key) {
				t.Fatalf("SCAN MATCH %q misses %q accepted by %v", m, key, tg.Globs)
			}
			if lit, _ := LiteralPrefix(m); !strings.HasPrefix(lit, ns) {
				t.Fatalf("SCAN MATCH %q does not start with the namespace %q", m, ns)
			}
		}
	})
}
