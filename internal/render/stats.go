// Package render prints command results for a person or a pipe: one file
// per command, on top of iostreams, output and format. It computes
// nothing; it is handed results and writes them.
package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
)

// StatsResult is the `stats` JSON contract of DESIGN.md §4.
type StatsResult struct {
	Op             string                `json:"op"`
	Addr           string                `json:"addr"`
	Version        string                `json:"version"`
	Role           string                `json:"role"`
	Cluster        bool                  `json:"cluster"`
	UptimeS        int64                 `json:"uptime_s"`
	Clients        int64                 `json:"clients"`
	Memory         StatsMemory           `json:"memory"`
	KeyspaceHits   int64                 `json:"keyspace_hits"`
	KeyspaceMisses int64                 `json:"keyspace_misses"`
	HitRate        float64               `json:"hit_rate"`
	EvictedKeys    int64                 `json:"evicted_keys"`
	ExpiredKeys    int64                 `json:"expired_keys"`
	OpsPerSec      float64               `json:"ops_per_sec"`
	DBs            map[string]StatsDB    `json:"dbs"`
	Groups         map[string]StatsGroup `json:"groups,omitempty"`
}

// StatsMemory is the memory part of StatsResult, in bytes.
type StatsMemory struct {
	Used          int64   `json:"used"`
	Peak          int64   `json:"peak"`
	Max           int64   `json:"max"`
	Policy        string  `json:"policy"`
	Fragmentation float64 `json:"fragmentation"`
}

// StatsDB is one database of StatsResult.
type StatsDB struct {
	Keys     int64 `json:"keys"`
	Expires  int64 `json:"expires"`
	AvgTTLMs int64 `json:"avg_ttl_ms"`
}

// StatsGroup is one group of StatsResult.
type StatsGroup struct {
	Keys int64 `json:"keys"`
}

// StatsOf is the result of one reading of the server at addr (redacted).
func StatsOf(addr string, cluster bool, rep inspect.Report) StatsResult {
	s := rep.Snapshot
	res := StatsResult{
		Op: "stats", Addr: addr, Version: s.Version, Role: s.Role,
		Cluster: cluster || s.Cluster, UptimeS: s.UptimeS, Clients: s.Clients,
		Memory: StatsMemory{
			Used: s.Memory.Used, Peak: s.Memory.Peak, Max: s.Memory.Max,
			Policy: s.Memory.Policy, Fragmentation: s.Memory.Fragmentation,
		},
		KeyspaceHits: s.Hits, KeyspaceMisses: s.Misses,
		EvictedKeys: s.Evicted, ExpiredKeys: s.Expired, OpsPerSec: s.OpsPerSec,
		DBs: map[string]StatsDB{},
	}
	res.HitRate, _ = s.HitRate()
	for idx, db := range s.DBs {
		res.DBs["db"+strconv.Itoa(idx)] = StatsDB{Keys: db.Keys, Expires: db.Expires, AvgTTLMs: db.AvgTTLMs}
	}
	if rep.Groups != nil {
		res.Groups = map[string]StatsGroup{}
		for _, g := range rep.Groups {
			res.Groups[g.Name] = StatsGroup{Keys: g.Keys}
		}
	}
	return res
}

// Stats prints res as JSON, as a labelled list for a person, or as stable
// "name<TAB>value" lines with raw numbers when piped.
func Stats(ios *iostreams.IOStreams, fm output.Format, res StatsResult) error {
	if fm == output.JSON {
		return output.WriteJSON(ios, res)
	}
	if !ios.IsStdoutTTY() {
		return statsPiped(ios, res)
	}
	return statsHuman(ios, res)
}

// statsDBNames sorts db2 before db10.
func statsDBNames(res StatsResult) []string {
	names := make([]string, 0, len(res.DBs))
	for name := range res.DBs {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		x, _ := strconv.Atoi(strings.TrimPrefix(a, "db"))
		y, _ := strconv.Atoi(strings.TrimPrefix(b, "db"))
		return x - y
	})
	return names
}

func statsGroupNames(res StatsResult) []string {
	names := make([]string, 0, len(res.Groups))
	for name := range res.Groups {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func statsPiped(ios *iostreams.IOStreams, res StatsResult) error {
	tp := output.NewTable(ios)
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	fl := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	tp.AddRow("addr", res.Addr)
	tp.AddRow("version", res.Version)
	tp.AddRow("role", res.Role)
	tp.AddRow("cluster", strconv.FormatBool(res.Cluster))
	tp.AddRow("uptime_s", i(res.UptimeS))
	tp.AddRow("clients", i(res.Clients))
	tp.AddRow("memory_used", i(res.Memory.Used))
	tp.AddRow("memory_peak", i(res.Memory.Peak))
	tp.AddRow("memory_max", i(res.Memory.Max))
	tp.AddRow("memory_policy", res.Memory.Policy)
	tp.AddRow("memory_fragmentation", fl(res.Memory.Fragmentation))
	tp.AddRow("keyspace_hits", i(res.KeyspaceHits))
	tp.AddRow("keyspace_misses", i(res.KeyspaceMisses))
	tp.AddRow("hit_rate", fl(res.HitRate))
	tp.AddRow("evicted_keys", i(res.EvictedKeys))
	tp.AddRow("expired_keys", i(res.ExpiredKeys))
	tp.AddRow("ops_per_sec", fl(res.OpsPerSec))
	for _, name := range statsDBNames(res) {
		db := res.DBs[name]
		tp.AddRow(name+".keys", i(db.Keys))
		tp.AddRow(name+".expires", i(db.Expires))
		tp.AddRow(name+".avg_ttl_ms", i(db.AvgTTLMs))
	}
	for _, name := range statsGroupNames(res) {
		tp.AddRow("group."+name+".keys", i(res.Groups[name].Keys))
	}
	return tp.Render()
}

func statsHuman(ios *iostreams.IOStreams, res StatsResult) error {
	mode := "standalone"
	if res.Cluster {
		mode = "cluster"
	}
	fmt.Fprintf(ios.Out, "%s  version %s  %s  %s  up %s\n\n", res.Addr, res.Version, res.Role, mode, format.Uptime(res.UptimeS))
	maxMem := "no limit"
	if res.Memory.Max > 0 {
		maxMem = format.Bytes(res.Memory.Max) + " max"
	}
	hitRate := "no lookups yet"
	if res.KeyspaceHits+res.KeyspaceMisses > 0 {
		hitRate = fmt.Sprintf("%s  (%d hits, %d misses)", format.Percent(res.HitRate), res.KeyspaceHits, res.KeyspaceMisses)
	}
	tp := output.NewTable(ios)
	tp.AddRow("clients", strconv.FormatInt(res.Clients, 10))
	tp.AddRow("memory", fmt.Sprintf("%s used, %s peak, %s, policy %s, fragmentation %.2f",
		format.Bytes(res.Memory.Used), format.Bytes(res.Memory.Peak), maxMem, res.Memory.Policy, res.Memory.Fragmentation))
	tp.AddRow("hit rate", hitRate)
	tp.AddRow("evicted keys", strconv.FormatInt(res.EvictedKeys, 10))
	tp.AddRow("expired keys", strconv.FormatInt(res.ExpiredKeys, 10))
	tp.AddRow("ops/s", strconv.FormatFloat(res.OpsPerSec, 'f', -1, 64))
	if err := tp.Render(); err != nil {
		return err
	}
	fmt.Fprintln(ios.Out)
	dbNames := statsDBNames(res)
	dbs := output.NewTable(ios, "DB", "KEYS", "EXPIRES", "AVG TTL")
	for _, name := range dbNames {
		db := res.DBs[name]
		dbs.AddRow(name, strconv.FormatInt(db.Keys, 10), strconv.FormatInt(db.Expires, 10),
			(time.Duration(db.AvgTTLMs) * time.Millisecond).Round(time.Second).String())
	}
	if len(dbNames) == 0 {
		dbs.AddRow("(no keys)")
	}
	if err := dbs.Render(); err != nil {
		return err
	}
	groupNames := statsGroupNames(res)
	if len(groupNames) == 0 {
		return nil
	}
	fmt.Fprintln(ios.Out)
	groups := output.NewTable(ios, "GROUP", "KEYS")
	for _, name := range groupNames {
		groups.AddRow(name, strconv.FormatInt(res.Groups[name].Keys, 10))
	}
	return groups.Render()
}
