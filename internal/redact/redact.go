// Package redact keeps secrets out of what cachectl prints.
package redact

import "strings"

// URL returns rawURL with its credentials replaced by ***, for printing:
// redis://user:***@host:6379/0, or redis://***@host:6379/0 when there is no
// user name. It works on the text, not on a parsed URL, so that a malformed
// URL (no scheme, a password with / or # in it) is redacted all the same:
// everything before the last @ after the scheme is credentials.
func URL(rawURL string) string {
	at := strings.LastIndex(rawURL, "@")
	if at < 0 {
		return rawURL
	}
	prefix, userinfo := "", rawURL[:at]
	if i := strings.Index(userinfo, "://"); i >= 0 {
		prefix, userinfo = userinfo[:i+3], userinfo[i+3:]
	}
	user, _, hasPass := strings.Cut(userinfo, ":")
	if !hasPass || user == "" || strings.ContainsAny(user, "/?#[]") {
		// A lone user part may be a password (redis-cli reads it so).
		return prefix + "***" + rawURL[at:]
	}
	return prefix + user + ":***" + rawURL[at:]
}
