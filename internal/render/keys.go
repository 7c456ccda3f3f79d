package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/keyspace"
)

// keysSample and keysGroup make up the `keys` JSON contract (DESIGN.md);
// fields are only ever added.
type keysSample struct {
	Key   string `json:"key"`
	TTLs  int64  `json:"ttl_s"` // -1: no expiry
	Bytes int64  `json:"bytes"`
}

type keysBig struct {
	Key   string `json:"key"`
	Bytes int64  `json:"bytes"`
}

type keysBucket struct {
	UpperS *float64 `json:"upper_s"` // -1: no expiry; null: beyond the last bound
	Count  int      `json:"count"`
}

// keysNode is one master's part of a group: the group's figures for the
// keys it holds.
type keysNode struct {
	Addr        string  `json:"addr"`
	ID          string  `json:"id"`
	Keys        int64   `json:"keys"`
	MemoryBytes int64   `json:"memory_bytes"`
	SlotShare   float64 `json:"slot_share"`
	keysTTL
	Exact map[string]bool `json:"exact"`
}

// keysTTL is the TTL health of a group, or of one master's part of it, and
// its biggest keys.
type keysTTL struct {
	TTLP50s      float64      `json:"ttl_p50_s"`
	TTLP90s      float64      `json:"ttl_p90_s"`
	NoTTL        int64        `json:"no_ttl"`
	ExpiringSoon float64      `json:"expiring_soon"`
	TTLHistogram []keysBucket `json:"ttl_histogram"`
	Biggest      []keysBig    `json:"biggest"`
}

func newKeysTTL(f keyspace.TTLFigures, biggest []keyspace.KeySample) keysTTL {
	return keysTTL{TTLP50s: f.TTLP50.Seconds(), TTLP90s: f.TTLP90.Seconds(), NoTTL: f.NoTTL,
		ExpiringSoon: f.ExpiringSoon, TTLHistogram: histogramJSON(f.TTLHistogram), Biggest: biggestJSON(biggest)}
}

type keysGroup struct {
	Keys           int64        `json:"keys"`
	MemoryBytesEst int64        `json:"memory_bytes_est"`
	AvgTTLs        float64      `json:"avg_ttl_s"`
	Samples        []keysSample `json:"samples"`

	MemoryBytes int64 `json:"memory_bytes"` // the same estimate as memory_bytes_est
	keysTTL
	BiggestEstimated bool              `json:"biggest_estimated"`
	Nodes            []keysNode        `json:"nodes,omitempty"`
	Skew             string            `json:"skew,omitempty"`
	Exact            map[string]bool   `json:"exact"`
	Source           map[string]string `json:"source"`
}

type keysSlot struct {
	Slot int   `json:"slot"`
	Keys int64 `json:"keys"`
}

type keysServerNode struct {
	Addr     string     `json:"addr"`
	Keys     int64      `json:"keys"`
	TopSlots []keysSlot `json:"top_slots"`
	Source   string     `json:"source"`
}

type keysSizes struct {
	DB   int              `json:"db"`
	Type string           `json:"type"`
	Bins map[string]int64 `json:"bins"` // lower bound in bytes or items -> keys
}

type keysServer struct {
	KeySizes       []keysSizes      `json:"key_sizes"`
	KeySizesSource string           `json:"key_sizes_source"`
	Nodes          []keysServerNode `json:"nodes,omitempty"`
}

// KeysReport is the JSON of `cachectl keys`.
type KeysReport struct {
	Op        string               `json:"op"`
	Groups    map[string]keysGroup `json:"groups"`
	TotalKeys int64                `json:"total_keys"`
	Server    *keysServer          `json:"server,omitempty"`
	Skew      []string             `json:"skew,omitempty"`
}

// groupSources says where each of a group's figures comes from: counts
// from SCAN, the rest from the sampled keys.
var groupSources = map[string]string{
	"keys": keyspace.SourceScan, "memory": "memory usage sample", "ttl": "pttl sample",
	"biggest": "memory usage while scanning",
}

// NewKeysReport is the JSON document of a survey; server, when not nil,
// adds what the server itself says of its keys.
func NewKeysReport(survey []keyspace.TargetSurvey, server *keyspace.ServerFigures) KeysReport {
	res := KeysReport{Op: "keys", Groups: map[string]keysGroup{}}
	for _, s := range survey {
		g := keysGroup{Keys: s.Keys, MemoryBytesEst: s.MemoryEst, AvgTTLs: s.AvgTTL.Seconds(), Samples: []keysSample{},
			MemoryBytes: s.MemoryEst, keysTTL: newKeysTTL(s.TTLFigures, s.Biggest),
			BiggestEstimated: !s.Exact["biggest"], Skew: s.Skew, Exact: s.Exact, Source: groupSources}
		for _, k := range s.Samples {
			ttl := int64(-1)
			if k.TTL >= 0 {
				ttl = int64(k.TTL / time.Second)
			}
			g.Samples = append(g.Samples, keysSample{Key: k.Key, TTLs: ttl, Bytes: k.Bytes})
		}
		for _, n := range s.Nodes {
			g.Nodes = append(g.Nodes, keysNode{Addr: n.Addr, ID: n.ID, Keys: n.Keys, MemoryBytes: n.MemoryEst, SlotShare: n.SlotShare,
				keysTTL: newKeysTTL(n.TTLFigures, n.Biggest), Exact: n.Exact})
		}
		if s.Skew != "" {
			res.Skew = append(res.Skew, s.Skew)
		}
		res.Groups[s.Name] = g
		res.TotalKeys += s.Keys
	}
	if server != nil {
		res.Server = newKeysServer(*server)
	}
	return res
}

func histogramJSON(h []keyspace.TTLBucket) []keysBucket {
	out := make([]keysBucket, 0, len(h))
	for _, b := range h {
		var up *float64
		if b.Upper != keyspace.TTLOver {
			v := b.Upper.Seconds()
			if b.Upper < 0 {
				v = -1
			}
			up = &v
		}
		out = append(out, keysBucket{UpperS: up, Count: b.Count})
	}
	return out
}

func biggestJSON(ks []keyspace.KeySample) []keysBig {
	out := make([]keysBig, 0, len(ks))
	for _, b := range ks {
		out = append(out, keysBig{Key: b.Key, Bytes: b.Bytes})
	}
	return out
}

func newKeysServer(f keyspace.ServerFigures) *keysServer {
	out := &keysServer{KeySizes: []keysSizes{}, KeySizesSource: f.KeySizesSource}
	for _, d := range f.KeySizes {
		ks := keysSizes{DB: d.DB, Type: d.Type, Bins: map[string]int64{}}
		for _, b := range d.Bins {
			ks.Bins[strconv.FormatInt(b.Min, 10)] = b.Count
		}
		out.KeySizes = append(out.KeySizes, ks)
	}
	for _, n := range f.Nodes {
		sn := keysServerNode{Addr: n.Addr, Keys: n.Keys, TopSlots: []keysSlot{}, Source: n.Source}
		for _, s := range n.TopSlots {
			sn.TopSlots = append(sn.TopSlots, keysSlot{Slot: s.Slot, Keys: s.Keys})
		}
		out.Nodes = append(out.Nodes, sn)
	}
	return out
}

// Keys prints a survey of the groups: JSON, a markdown table, or the table
// per group, to which a person also gets the biggest keys, the masters of a
// cluster and a few sample keys per group. Skew warnings go to stderr.
func Keys(ios *iostreams.IOStreams, fm output.Format, survey []keyspace.TargetSurvey, server *keyspace.ServerFigures) error {
	switch fm {
	case output.JSON:
		return output.WriteJSON(ios, NewKeysReport(survey, server))
	case output.Markdown:
		return keysTable(ios, survey, true).RenderMarkdown(ios.Out)
	}
	defer func() {
		for _, s := range survey {
			if s.Skew != "" {
				ios.Warnf("skew: %s", s.Skew)
			}
		}
	}()
	if err := keysTable(ios, survey, ios.IsStdoutTTY()).Render(); err != nil {
		return err
	}
	if !ios.IsStdoutTTY() {
		return nil
	}
	// Scripts use --json for the biggest keys, the nodes and the samples.
	if err := keysBiggest(ios, survey); err != nil {
		return err
	}
	if err := keysNodes(ios, survey); err != nil {
		return err
	}
	tp := output.NewTable(ios, "SAMPLE", "GROUP", "TTL", "SIZE")
	for _, s := range survey {
		for _, k := range s.Samples[:min(3, len(s.Samples))] {
			ttl := "none"
			if k.TTL >= 0 {
				ttl = k.TTL.Round(time.Second).String()
			}
			tp.AddRow(keysDisplay(k.Key), s.Name, ttl, format.Size(k.Bytes))
		}
	}
	fmt.Fprintln(ios.Out)
	return tp.Render()
}

func keysBiggest(ios *iostreams.IOStreams, survey []keyspace.TargetSurvey) error {
	tp := output.NewTable(ios, "BIGGEST (EST.)", "GROUP", "SIZE")
	rows := 0
	for _, s := range survey {
		for _, k := range s.Biggest {
			tp.AddRow(keysDisplay(k.Key), s.Name, format.Size(k.Bytes))
			rows++
		}
	}
	if rows == 0 {
		return nil
	}
	fmt.Fprintln(ios.Out)
	return tp.Render()
}

func keysNodes(ios *iostreams.IOStreams, survey []keyspace.TargetSurvey) error {
	tp := output.NewTable(ios, "NODE", "GROUP", "KEYS", "MEMORY (EST.)", "TTL P50/P90", "NO TTL", "SLOTS")
	rows := 0
	for _, s := range survey {
		for _, n := range s.Nodes {
			pct := "-"
			if n.TTLSamples > 0 {
				pct = format.TTL(n.TTLP50) + "/" + format.TTL(n.TTLP90)
			}
			tp.AddRow(n.Addr, s.Name, strconv.FormatInt(n.Keys, 10), format.Size(n.MemoryEst), pct,
				keysApprox(n.NoTTL, n.Exact["no_ttl"]), format.Percent(n.SlotShare))
			rows++
		}
	}
	if rows == 0 {
		return nil
	}
	fmt.Fprintln(ios.Out)
	return tp.Render()
}

// keysTable is the per-group table: human units for a person, raw numbers for a pipe.
func keysTable(ios *iostreams.IOStreams, survey []keyspace.TargetSurvey, human bool) *output.TablePrinter {
	var tp *output.TablePrinter
	if human {
		tp = output.NewTable(ios, "GROUP", "KEYS", "MEMORY (EST.)", "AVG TTL", "TTL P50/P90", "NO TTL", "SOON")
	} else {
		tp = output.NewTable(ios, "group", "keys", "memory_bytes_est", "avg_ttl_s", "ttl_p50_s", "ttl_p90_s", "no_ttl", "expiring_soon")
	}
	var keys, mem int64
	for _, s := range survey {
		keys += s.Keys
		if s.MemoryEst < 0 || mem < 0 {
			mem = -1 // one unknown size makes the total unknown
		} else {
			mem += s.MemoryEst
		}
		if human {
			ttl := "-"
			if s.TTLSamples > 0 {
				ttl = s.AvgTTL.Round(time.Second).String()
			}
			pct, soon := "-", "-"
			if s.TTLSamples > 0 {
				pct = format.TTL(s.TTLP50) + "/" + format.TTL(s.TTLP90)
			}
			if len(s.Samples) > 0 {
				soon = format.Percent(s.ExpiringSoon)
			}
			tp.AddRow(s.Name, strconv.FormatInt(s.Keys, 10), format.Size(s.MemoryEst), ttl, pct, keysApprox(s.NoTTL, s.Exact["no_ttl"]), soon)
		} else {
			tp.AddRow(s.Name, strconv.FormatInt(s.Keys, 10), strconv.FormatInt(s.MemoryEst, 10),
				strconv.FormatFloat(s.AvgTTL.Seconds(), 'f', 1, 64),
				strconv.FormatFloat(s.TTLP50.Seconds(), 'f', 1, 64), strconv.FormatFloat(s.TTLP90.Seconds(), 'f', 1, 64),
				strconv.FormatInt(s.NoTTL, 10), strconv.FormatFloat(s.ExpiringSoon, 'f', 4, 64))
		}
	}
	if human {
		tp.AddRow("total", strconv.FormatInt(keys, 10), format.Size(mem), "", "", "", "")
	}
	return tp
}

// keysDisplay shows a key as is when it is printable UTF-8, quoted with
// escapes otherwise, so a binary key cannot garble the terminal.
func keysDisplay(k string) string {
	if utf8.ValidString(k) && strings.IndexFunc(k, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return k
	}
	return strconv.Quote(k)
}

// keysApprox marks an estimated count with "~".
func keysApprox(n int64, exact bool) string {
	if exact {
		return strconv.FormatInt(n, 10)
	}
	return "~" + strconv.FormatInt(n, 10)
}
