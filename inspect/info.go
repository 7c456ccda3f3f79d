// Package inspect reads what a Redis server says about itself (INFO) and
// turns it into snapshots, rates and per-group figures.
package inspect

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// DefaultSection holds fields that come before any "# Section" header, as in
// the INFO of Redis before 2.6, which had no sections.
const DefaultSection = "default"

// Info is a parsed INFO reply. A field the server did not send is absent,
// never zero: every accessor says whether it found the field.
type Info struct {
	sections map[string]map[string]string
	order    []string // section names in the order the server sent them
}

// ParseInfo parses the text of INFO (any sections, any server that speaks the
// format: Redis from 2.x on, Valkey, KeyDB, Dragonfly, managed services). It
// never fails: it tolerates "\r\n" or "\n", blank lines, unknown sections and
// fields, values that contain colons, and skips lines it cannot read.
// Section names are lower-cased; field names are kept as sent.
func ParseInfo(text string) Info {
	in := Info{sections: map[string]map[string]string{}}
	section := DefaultSection
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if name, ok := strings.CutPrefix(line, "#"); ok {
			// "# Server"; some proxies send "#Server".
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				section = name
				in.addSection(name)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			continue
		}
		in.addSection(section)[k] = strings.TrimSpace(v)
	}
	return in
}

// addSection registers a section (a header with no fields, such as an empty
// "# Modules", still counts as sent) and returns its fields.
func (in *Info) addSection(name string) map[string]string {
	m, ok := in.sections[name]
	if !ok {
		m = map[string]string{}
		in.sections[name] = m
		in.order = append(in.order, name)
	}
	return m
}

// String renders the INFO text again: sections in the order they were sent,
// fields sorted, "\r\n" line ends. ParseInfo(in.String()) equals in.
func (in Info) String() string {
	var b strings.Builder
	for _, s := range in.order {
		b.WriteString("# " + s + "\r\n")
		m := in.sections[s]
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b.WriteString(k + ":" + m[k] + "\r\n")
		}
	}
	return b.String()
}

// Sections lists the section names in the order the server sent them.
func (in Info) Sections() []string { return slices.Clone(in.order) }

// Section returns a copy of one section's fields; nil when absent.
func (in Info) Section(name string) map[string]string {
	m, ok := in.sections[strings.ToLower(name)]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Get returns a field from whichever section holds it (the first one sent,
// should two sections share a name), so callers need not know which section
// a server files it under.
func (in Info) Get(field string) (string, bool) {
	for _, s := range in.order {
		if v, ok := in.sections[s][field]; ok {
			return v, true
		}
	}
	return "", false
}

// Int returns a field as an integer; ok is false when absent or not an integer.
func (in Info) Int(field string) (int64, bool) {
	v, ok := in.Get(field)
	return integer(v, ok, true)
}

// Float returns a field as a number; ok is false when absent or not a finite number.
func (in Info) Float(field string) (float64, bool) { return finite(in.Get(field)) }

// integer parses v, when present, as an integer. Some servers print counters
// as floats ("12.0"): whole refuses those with a fraction, else they are
// truncated.
func integer(v string, present, whole bool) (int64, bool) {
	if !present {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, true
	}
	f, ok := finite(v, true)
	if !ok || (whole && f != math.Trunc(f)) || math.Abs(f) > 1<<62 {
		return 0, false
	}
	return int64(f), true
}

// finite parses v, when present, as a finite number.
func finite(v string, present bool) (float64, bool) {
	if !present {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// Bool reads 0/1 and yes/no flags such as cluster_enabled or loading.
func (in Info) Bool(field string) (value, ok bool) {
	v, ok := in.Get(field)
	if !ok {
		return false, false
	}
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		return true, true
	case "0", "no", "false", "off":
		return false, true
	}
	return false, false
}

// Version is the server's version: redis_version, or for a server that names
// itself in server_name (Valkey, Dragonfly) and sends its own
// NAME_version, that one, since redis_version is then a compatibility claim.
func (in Info) Version() (string, bool) {
	if name, ok := in.Get("server_name"); ok && name != "" && name != "redis" {
		if v, ok := in.Get(name + "_version"); ok {
			return v, true
		}
	}
	if v, ok := in.Get("dragonfly_version"); ok {
		return v, true
	}
	return in.Get("redis_version")
}

// Role is "master" or "slave"/"replica" as the server says it; "active-replica"
// on KeyDB.
func (in Info) Role() (string, bool) { return in.Get("role") }

// ClusterEnabled reports cluster_enabled; ok is false when the server did not say.
func (in Info) ClusterEnabled() (enabled, ok bool) { return in.Bool("cluster_enabled") }

// Pairs parses a "k1=v1,k2=v2" value such as a keyspace, cmdstat, errorstat
// or replica line. Items without '=' are skipped.
func Pairs(value string) map[string]string {
	out := map[string]string{}
	for item := range strings.SplitSeq(value, ",") {
		k, v, ok := strings.Cut(item, "=")
		if k = strings.TrimSpace(k); ok && k != "" {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func pairInt(p map[string]string, k string) (int64, bool) {
	v, ok := p[k]
	return integer(v, ok, false)
}

func pairFloat(p map[string]string, k string) (float64, bool) {
	v, ok := p[k]
	return finite(v, ok)
}

// DB is one line of the keyspace section: "db0:keys=1,expires=0,avg_ttl=0".
type DB struct {
	Index    int
	Keys     int64
	Expires  int64
	AvgTTLMs int64 // avg_ttl is in milliseconds
	// Other holds fields this package does not interpret (subexpiry in Redis 7.4, ...).
	Other map[string]string
}

// Keyspace returns the databases that hold keys, by index. Redis omits empty
// databases, so an empty map means an empty server, not a missing section.
func (in Info) Keyspace() map[int]DB {
	out := map[int]DB{}
	in.eachNumbered("db", func(idx int, p map[string]string) {
		keys, ok := pairInt(p, "keys")
		if !ok {
			return
		}
		db := DB{Index: idx, Keys: keys}
		db.Expires, _ = pairInt(p, "expires")
		db.AvgTTLMs, _ = pairInt(p, "avg_ttl")
		for _, known := range []string{"keys", "expires", "avg_ttl"} {
			delete(p, known)
		}
		if len(p) > 0 {
			db.Other = p
		}
		if _, dup := out[idx]; !dup {
			out[idx] = db
		}
	})
	return out
}

// CommandStat is one line of commandstats:
// "cmdstat_get:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0".
// Rejected and failed calls exist from Redis 7 on; older servers leave them 0.
type CommandStat struct {
	Calls         int64
	Usec          int64
	UsecPerCall   float64
	RejectedCalls int64
	FailedCalls   int64
}

// CommandStats returns commandstats by command name ("get", "client|list").
func (in Info) CommandStats() map[string]CommandStat {
	out := map[string]CommandStat{}
	in.eachPrefixed("cmdstat_", func(name string, p map[string]string) {
		calls, ok := pairInt(p, "calls")
		if !ok {
			return
		}
		c := CommandStat{Calls: calls}
		c.Usec, _ = pairInt(p, "usec")
		c.UsecPerCall, _ = pairFloat(p, "usec_per_call")
		c.RejectedCalls, _ = pairInt(p, "rejected_calls")
		c.FailedCalls, _ = pairInt(p, "failed_calls")
		out[name] = c
	})
	return out
}

// ErrorStats returns errorstats by error prefix ("ERR", "WRONGTYPE", "NOPERM").
func (in Info) ErrorStats() map[string]int64 {
	out := map[string]int64{}
	in.eachPrefixed("errorstat_", func(name string, p map[string]string) {
		if n, ok := pairInt(p, "count"); ok {
			out[name] = n
		}
	})
	return out
}

// Replica is one "slaveN:ip=...,port=...,state=online,offset=...,lag=0" line of
// a master's replication section.
type Replica struct {
	Addr   string // ip:port
	State  string
	Offset int64
	Lag    int64
}

// Replicas returns the replicas a master reports, in its order.
func (in Info) Replicas() []Replica {
	type indexed struct {
		i int
		r Replica
	}
	var list []indexed
	in.eachNumbered("slave", func(i int, p map[string]string) {
		r := Replica{State: p["state"]}
		if ip, port := p["ip"], p["port"]; ip != "" || port != "" {
			if strings.Contains(ip, ":") {
				ip = "[" + ip + "]"
			}
			r.Addr = ip + ":" + port
		}
		r.Offset, _ = pairInt(p, "offset")
		r.Lag, _ = pairInt(p, "lag")
		list = append(list, indexed{i, r})
	})
	slices.SortFunc(list, func(a, b indexed) int { return a.i - b.i })
	out := make([]Replica, len(list))
	for i, x := range list {
		out[i] = x.r
	}
	return out
}

func (in Info) eachPrefixed(prefix string, fn func(name string, p map[string]string)) {
	for _, s := range in.order {
		for k, v := range in.sections[s] {
			if name, ok := strings.CutPrefix(k, prefix); ok && name != "" {
				fn(name, Pairs(v))
			}
		}
	}
}

// eachNumbered calls fn with the number and the pairs of every field named
// prefix and a number: db0, slave1.
func (in Info) eachNumbered(prefix string, fn func(i int, p map[string]string)) {
	in.eachPrefixed(prefix, func(num string, p map[string]string) {
		if strings.Trim(num, "0123456789") != "" {
			return
		}
		if i, err := strconv.Atoi(num); err == nil {
			fn(i, p)
		}
	})
}
