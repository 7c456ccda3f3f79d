// Package inspect reads what a Redis server says about itself (INFO) and
// turns it into snapshots, rates and per-group figures.
package inspect

import (
	"strconv"
	"strings"
)

// Info is a parsed INFO reply: section name (lower case) -> field -> raw value.
// A field that the server did not send is absent, never zero.
type Info map[string]map[string]string

// ParseInfo parses the text of INFO. It tolerates "\r\n" or "\n", unknown
// sections and fields, blank lines, and values that contain colons.
func ParseInfo(text string) Info {
	info := Info{}
	section := "default"
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			continue
		}
		if name, ok := strings.CutPrefix(line, "# "); ok {
			section = strings.ToLower(strings.TrimSpace(name))
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			continue
		}
		m := info[section]
		if m == nil {
			m = map[string]string{}
			info[section] = m
		}
		m[k] = v
	}
	return info
}

// Get returns a field from any section.
func (in Info) Get(field string) (string, bool) {
	for _, m := range in {
		if v, ok := m[field]; ok {
			return v, true
		}
	}
	return "", false
}

// Int returns a field as an integer; ok is false when absent or not a number.
func (in Info) Int(field string) (int64, bool) {
	v, ok := in.Get(field)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil
}
