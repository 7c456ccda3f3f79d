package observe

import (
	"errors"
	"strconv"
	"strings"
)

// line is one command as MONITOR shows it:
//
//	1700000000.123456 [1 127.0.0.1:54321] "SET" "k" "v" "PX" "900000"
//
// Client is the client's address, "lua" for a command a script ran, or
// "unix:/path" for a socket.
type line struct {
	DB     int
	Client string
	Args   []string
}

var errLine = errors.New("not a MONITOR line")

// parseLine reads one MONITOR line (without the leading '+' and the CRLF).
// Arguments are unquoted as Redis quotes them (sdscatrepr: \" \\ \n \r \t
// \a \b and \xHH).
func parseLine(s string) (line, error) {
	var l line
	open := strings.IndexByte(s, '[')
	end := strings.Index(s, "] \"") // an IPv6 client is [::1]:port
	if open < 0 || end < open {
		return l, errLine
	}
	db, client, ok := strings.Cut(s[open+1:end], " ")
	if !ok {
		return l, errLine
	}
	n, err := strconv.Atoi(db)
	if err != nil {
		return l, errLine
	}
	l.DB, l.Client = n, client
	rest := s[end+1:]
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		if rest[0] != '"' {
			return l, errLine
		}
		arg, n, err := unquote(rest)
		if err != nil {
			return l, err
		}
		l.Args = append(l.Args, arg)
		rest = rest[n:]
	}
	if len(l.Args) == 0 {
		return l, errLine
	}
	return l, nil
}

// unquote reads the quoted string at the start of s and returns it and the
// number of bytes it took.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'x':
			if i+2 >= len(s) {
				return "", 0, errLine
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", 0, errLine
			}
			b.WriteByte(byte(v))
			i += 2
		default: // \" and \\ and anything else: the character itself
			b.WriteByte(s[i])
		}
	}
	return "", 0, errLine
}
