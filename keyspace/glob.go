package keyspace

import "strings"

// globMeta are the bytes that Redis's glob matcher (stringmatchlen) treats specially.
const globMeta = `*?[]\`

// EscapeGlob makes s match itself literally in a Redis MATCH pattern.
func EscapeGlob(s string) string {
	if !strings.ContainsAny(s, globMeta) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(globMeta, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// LiteralPrefix returns the unescaped bytes a key must start with to match pattern,
// and whether the whole pattern is literal (it then matches exactly that one key).
func LiteralPrefix(pattern string) (prefix string, exact bool) {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*', '?', '[':
			return b.String(), false
		case '\\':
			if i+1 < len(pattern) {
				i++
				b.WriteByte(pattern[i])
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// Match reports whether key matches the Redis glob pattern, byte for byte as
// Redis's stringmatchlen does (case-sensitive, `\` escapes, `[^a-z]` classes).
// cachectl checks every key SCAN returns with it before acting on the key.
func Match(pattern, key string) bool {
	return match(pattern, key, 0)
}

func match(p, s string, depth int) bool {
	if depth > 1000 {
		return false // Redis bails out on pathological nesting the same way
	}
	for len(p) > 0 && (len(s) > 0 || p[0] == '*') {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if match(p[1:], s, depth+1) {
					return true
				}
				s = s[1:]
			}
			return match(p[1:], s, depth+1)
		case '?':
			s = s[1:]
			p = p[1:]
			continue
		case '[':
			var ok bool
			p, ok = matchClass(p[1:], s[0])
			if !ok {
				return false
			}
			s = s[1:]
			continue
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
		}
		if p[0] != s[0] {
			return false
		}
		p = p[1:]
		s = s[1:]
	}
	for len(p) > 0 && p[0] == '*' {
		p = p[1:]
	}
	return len(p) == 0 && len(s) == 0
}

// matchClass matches c against the class that starts right after '[' in p and
// returns the pattern after the class. An unterminated class ends at the end of
// the pattern, as in Redis.
func matchClass(p string, c byte) (rest string, ok bool) {
	not := len(p) > 0 && p[0] == '^'
	if not {
		p = p[1:]
	}
	found := false
	for {
		if len(p) == 0 {
			break
		}
		if p[0] == '\\' && len(p) >= 2 {
			p = p[1:]
			if p[0] == c {
				found = true
			}
		} else if p[0] == ']' {
			break
		} else if len(p) >= 3 && p[1] == '-' {
			lo, hi := p[0], p[2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if c >= lo && c <= hi {
				found = true
			}
			p = p[2:]
		} else if p[0] == c {
			found = true
		}
		p = p[1:]
	}
	if len(p) > 0 {
		p = p[1:] // the closing ']'
	}
	if not {
		found = !found
	}
	return p, found
}
