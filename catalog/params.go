package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the query parameters.
const (
	defaultPageSize = 20
	maxPageSize     = 100
	defaultLimit    = 10
	maxLimit        = 50 // top_sellers and new_arrivals cache this many
	maxSearchRunes  = 100
	maxIDDigits     = 12 // ids beyond 10^12 are refused before they reach SQL or a key
	maxPriceCents   = 100_000_000
	maxPage         = 1_000_000
)

// apiError is an error with the HTTP status it should be answered with.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, a...)}
}

// paramKind validates one query parameter and returns its canonical form.
type paramKind func(name, v string) (string, error)

// quote shows a user's value in an error, shortened and with control
// characters escaped.
func quote(v string) string {
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return strconv.Quote(v)
}

// parseID accepts a positive decimal integer without sign, spaces or leading zeros.
func parseID(v string) (int64, bool) {
	if v == "" || len(v) > maxIDDigits || v[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

func idParam(name, v string) (string, error) {
	if _, ok := parseID(v); !ok {
		return "", badRequest("%s must be a positive integer id, not %s", name, quote(v))
	}
	return v, nil
}

// positive accepts 1..(a few million) and clamps to max.
func positive(max int) paramKind {
	return func(name, v string) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || len(v) > 9 || strings.TrimLeft(v, "0123456789") != "" {
			return "", badRequest("%s must be a positive integer, not %s", name, quote(v))
		}
		return strconv.Itoa(min(n, max)), nil
	}
}

// pageNumber accepts 1..maxPage; unlike sizes, a page number is never clamped.
func pageNumber(name, v string) (string, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage || strings.TrimLeft(v, "0123456789") != "" {
		return "", badRequest("%s must be an integer from 1 to %d, not %s", name, maxPage, quote(v))
	}
	return strconv.Itoa(n), nil
}

func priceParam(name, v string) (string, error) {
	m, ok := parsePrice(v)
	if !ok {
		return "", badRequest("%s must be a price like 19.99, not %s", name, quote(v))
	}
	return m.String(), nil
}

// parsePrice accepts digits with at most two decimals, up to maxPriceCents.
func parsePrice(v string) (Money, bool) {
	whole, frac, hasDot := strings.Cut(v, ".")
	if whole == "" || len(whole) > 7 || hasDot && (frac == "" || len(frac) > 2) {
		return 0, false
	}
	if strings.TrimLeft(whole, "0123456789") != "" || strings.TrimLeft(frac, "0123456789") != "" {
		return 0, false
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	frac += strings.Repeat("0", 2-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	cents := w*100 + f
	if cents > maxPriceCents {
		return 0, false
	}
	return Money(cents), true
}

func orderingParam(name, v string) (string, error) {
	if _, ok := orderings[v]; !ok {
		keys := make([]string, 0, len(orderings))
		for k := range orderings {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return "", badRequest("%s must be one of %s, not %s", name, strings.Join(keys, ", "), quote(v))
	}
	return v, nil
}

func searchParam(name, v string) (string, error) {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxSearchRunes {
		return "", badRequest("%s must be valid text of at most %d characters", name, maxSearchRunes)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", badRequest("%s must not contain control characters", name)
	}
	return v, nil
}

// params is a validated, canonical query: every accepted parameter once, with
// defaults filled in, so equivalent queries compare (and hash) equal.
type params map[string]string

// parseParams validates a raw query against the accepted parameters. Unknown,
// repeated, empty or malformed parameters are refused: each distinct valid
// query is one cache key, and nothing else may become one.
func parseParams(rawQuery string, accepted map[string]paramKind, defaults params) (params, error) {
	if strings.ContainsAny(rawQuery, "\r\n") {
		return nil, badRequest("the query must not contain line breaks")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("malformed query string")
	}
	out := params{}
	for name, vals := range q {
		kind, ok := accepted[name]
		if !ok {
			return nil, badRequest("unknown parameter %s", quote(name))
		}
		if len(vals) > 1 {
			return nil, badRequest("parameter %s is repeated", quote(name))
		}
		if vals[0] == "" {
			return nil, badRequest("parameter %s is empty", quote(name))
		}
		if strings.ContainsAny(vals[0], "\r\n") {
			return nil, badRequest("parameter %s must not contain line breaks", quote(name))
		}
		if out[name], err = kind(name, vals[0]); err != nil {
			return nil, err
		}
	}
	for k, v := range defaults {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out, nil
}

// encode is the canonical text of p: names sorted, values escaped.
func (p params) encode() string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p[k]))
	}
	return b.String()
}

// hash is the {hash} of a key: the first 128 bits of SHA-256 of the canonical
// query, in hex. The same query in any parameter order gives the same hash.
func (p params) hash() string {
	sum := sha256.Sum256([]byte(p.encode()))
	return hex.EncodeToString(sum[:16])
}

func (p params) int(name string) int {
	n, _ := strconv.Atoi(p[name])
	return n
}

func (p params) id(name string) int64 {
	n, _ := strconv.ParseInt(p[name], 10, 64)
	return n
}

var (
	listParams = map[string]paramKind{
		"category": idParam, "color": idParam,
		"min_price": priceParam, "max_price": priceParam,
		"search": searchParam, "ordering": orderingParam,
		"page": pageNumber, "page_size": positive(maxPageSize),
	}
	listDefaults = params{"page": "1", "page_size": strconv.Itoa(defaultPageSize), "ordering": "id"}

	limitParams   = map[string]paramKind{"limit": positive(maxLimit)}
	limitDefaults = params{"limit": strconv.Itoa(defaultLimit)}
)

// listQuery turns validated list parameters into a store query.
func listQuery(p params) (ListQuery, error) {
	lq := ListQuery{
		Category: p.id("category"), Color: p.id("color"),
		Search: p["search"], Ordering: p["ordering"],
		Page: p.int("page"), PageSize: p.int("page_size"),
	}
	if v, ok := p["min_price"]; ok {
		m, _ := parsePrice(v)
		lq.MinPrice = &m
	}
	if v, ok := p["max_price"]; ok {
		m, _ := parsePrice(v)
		lq.MaxPrice = &m
	}
	if lq.MinPrice != nil && lq.MaxPrice != nil && *lq.MinPrice > *lq.MaxPrice {
		return lq, badRequest("min_price must not be above max_price")
	}
	return lq, nil
}
