package render

import (
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/observe"
)

// TraceReport is the JSON of `cachectl trace`.
type TraceReport struct {
	Op        string      `json:"op"`
	API       string      `json:"api"`
	Prefix    string      `json:"prefix"`
	Mechanism string      `json:"mechanism"`
	Exact     bool        `json:"exact"`
	Degraded  *string     `json:"degraded"`
	URLs      []TracedURL `json:"urls"`
}

// TracedURL is one URL of a trace. What could not be measured is null.
type TracedURL struct {
	URL       string        `json:"url"`
	Status    *int          `json:"status"`
	LatencyMs *float64      `json:"latency_ms"`
	Cache     *string       `json:"cache"`   // as Redis showed it; null without a response
	XCache    *string       `json:"x_cache"` // as the API said it, null when it said nothing
	Agree     *bool         `json:"agree"`   // null without X-Cache
	Exact     bool          `json:"exact"`
	Reads     []TracedKey   `json:"reads"`
	Writes    []TracedKey   `json:"writes"`
	Deletes   []TracedKey   `json:"deletes"`
	Noise     observe.Noise `json:"noise"`
	Hits      int64         `json:"keyspace_hits"`
	Misses    int64         `json:"keyspace_misses"`
	Error     *string       `json:"error"`
	OtherDBs  []int         `json:"other_dbs,omitempty"`
}

// TracedKey is one key a URL used. TTLs are seconds: -1 no expiry, null
// unknown; ttl_after_s -2 means the key was gone right after the request.
type TracedKey struct {
	Key       string   `json:"key"`
	Logical   string   `json:"logical"`
	Cmd       string   `json:"cmd,omitempty"`
	Found     *bool    `json:"found,omitempty"`
	TTLS      *float64 `json:"ttl_s,omitempty"`
	TTLAfterS *float64 `json:"ttl_after_s,omitempty"`
}

// NewTraceReport shapes probes for output.
func NewTraceReport(api, prefix string, m observe.Mechanism, degraded string, probes []observe.Probe) TraceReport {
	r := TraceReport{Op: "trace", API: redact.URL(api), Prefix: prefix, Mechanism: string(m), Exact: true, URLs: []TracedURL{}}
	if degraded != "" {
		r.Degraded = &degraded
	}
	for _, p := range probes {
		u := tracedURL(p, prefix)
		r.Exact = r.Exact && u.Exact
		r.URLs = append(r.URLs, u)
	}
	return r
}

func tracedURL(p observe.Probe, prefix string) TracedURL {
	t := p.Trace
	u := TracedURL{URL: redact.URL(p.URL), Exact: t.Exact, Noise: t.Noise,
		Hits: t.Hits, Misses: t.Misses, Reads: []TracedKey{}, Writes: []TracedKey{}, Deletes: []TracedKey{}}
	if u.Noise.Keys == nil {
		u.Noise.Keys = []string{}
	}
	if r := p.Response; r != nil && r.Status > 0 {
		u.Status, u.LatencyMs, u.Cache = &r.Status, ptr(format.Millis(r.Latency)), ptr(string(t.State))
		if _, header, agree := p.Cache(); header != "" {
			u.XCache, u.Agree = &header, &agree
		}
	}
	u.OtherDBs = t.OtherDBs
	if p.Err != nil {
		u.Error = ptr(p.Err.Error()) // catalogapi errors name URLs redacted
	}
	for _, k := range t.Reads {
		found := k.Found
		u.Reads = append(u.Reads, TracedKey{Key: k.Key, Logical: observe.Logical(k.Key, prefix), Cmd: k.Cmd, Found: &found})
	}
	for _, k := range t.Writes {
		u.Writes = append(u.Writes, TracedKey{Key: k.Key, Logical: observe.Logical(k.Key, prefix), Cmd: k.Cmd,
			TTLS: ttlSeconds(k.TTL), TTLAfterS: ttlSeconds(k.TTLAfter)})
	}
	for _, k := range t.Deletes {
		u.Deletes = append(u.Deletes, TracedKey{Key: k.Key, Logical: observe.Logical(k.Key, prefix), Cmd: k.Cmd})
	}
	return u
}

func ptr[T any](v T) *T { return &v }

// ttlSeconds: 0 is unknown (null); -1 and -2 are Redis's own answers.
func ttlSeconds(d time.Duration) *float64 {
	switch {
	case d == 0:
		return nil
	case d < 0:
		return ptr(float64(d / time.Nanosecond))
	}
	return ptr(d.Seconds())
}

// Trace prints a trace: JSON, or a table with one row per key (TSV when
// piped), a URL without keys on a row of its own. How it was observed goes
// to stderr, with why a better mechanism did not run.
func Trace(ios *iostreams.IOStreams, fm output.Format, r TraceReport) error {
	if fm == output.JSON {
		return output.WriteJSON(ios, r)
	}
	how := "observed with " + r.Mechanism
	if !r.Exact {
		how += " (approximate)"
	}
	ios.Notef("%s, keys under %s", how, r.Prefix)
	if r.Degraded != nil {
		ios.Notef("%s", *r.Degraded)
	}
	tp := output.NewTable(ios, "URL", "STATUS", "LATENCY", "CACHE", "OP", "KEY", "TTL")
	for _, u := range r.URLs {
		status, latency, cache := "-", "-", "-"
		if u.Status != nil {
			status, latency, cache = strconv.Itoa(*u.Status), format.Ms(*u.LatencyMs), *u.Cache
		}
		if u.Agree != nil && !*u.Agree {
			cache += " (X-Cache: " + *u.XCache + ")"
		}
		rows := traceRows(u)
		if len(rows) == 0 {
			rows = [][3]string{{"-", "-", "-"}}
		}
		for i, row := range rows {
			if i > 0 && ios.IsStdoutTTY() {
				tp.AddRow("", "", "", "", row[0], row[1], row[2])
				continue
			}
			tp.AddRow(strings.TrimPrefix(u.URL, r.API), status, latency, cache, row[0], row[1], row[2])
		}
		if u.Error != nil {
			ios.Errorf("%s: %s", u.URL, *u.Error)
		}
		for _, db := range u.OtherDBs {
			ios.Warnf("%s used keys under %s in db %d, not in the db observed: point --redis at db %d", u.URL, r.Prefix, db, db)
		}
	}
	return tp.Render()
}

func traceRows(u TracedURL) [][3]string {
	var rows [][3]string
	for _, k := range u.Reads {
		op := "read"
		if k.Found != nil && !*k.Found {
			op = "read (absent)"
		}
		rows = append(rows, [3]string{op, k.Logical, "-"})
	}
	for _, k := range u.Writes {
		rows = append(rows, [3]string{"write", k.Logical, ttlCell(k.TTLS, k.TTLAfterS)})
	}
	for _, k := range u.Deletes {
		rows = append(rows, [3]string{"delete", k.Logical, "-"})
	}
	return rows
}

// ttlCell is the TTL the request set, or else what Redis held after it.
func ttlCell(set, after *float64) string {
	s := set
	if s == nil || (after != nil && *after == -2) {
		s = after
	}
	switch {
	case s == nil:
		return "unknown"
	case *s == -1:
		return "none"
	case *s == -2:
		return "gone"
	}
	return format.TTL(time.Duration(*s * float64(time.Second)))
}
