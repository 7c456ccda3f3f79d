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

// keysSample and keysGroup make up the `keys` JSON contract (DESIGN.md).
type keysSample struct {
	Key   string `json:"key"`
	TTLs  int64  `json:"ttl_s"` // -1: no expiry
	Bytes int64  `json:"bytes"`
}

type keysGroup struct {
	Keys           int64        `json:"keys"`
	MemoryBytesEst int64        `json:"memory_bytes_est"`
	AvgTTLs        float64      `json:"avg_ttl_s"`
	Samples        []keysSample `json:"samples"`
}

// KeysReport is the JSON of `cachectl keys`.
type KeysReport struct {
	Op        string               `json:"op"`
	Groups    map[string]keysGroup `json:"groups"`
	TotalKeys int64                `json:"total_keys"`
}

// NewKeysReport is the JSON document of a survey.
func NewKeysReport(survey []keyspace.TargetSurvey) KeysReport {
	res := KeysReport{Op: "keys", Groups: map[string]keysGroup{}}
	for _, s := range survey {
		g := keysGroup{Keys: s.Keys, MemoryBytesEst: s.MemoryEst, AvgTTLs: s.AvgTTL.Seconds(), Samples: []keysSample{}}
		for _, k := range s.Samples {
			ttl := int64(-1)
			if k.TTL >= 0 {
				ttl = int64(k.TTL / time.Second)
			}
			g.Samples = append(g.Samples, keysSample{Key: k.Key, TTLs: ttl, Bytes: k.Bytes})
		}
		res.Groups[s.Name] = g
		res.TotalKeys += s.Keys
	}
	return res
}

// Keys prints a survey of the groups: JSON, a markdown table, or the table
// per group, to which a person also gets a few sample keys per group.
func Keys(ios *iostreams.IOStreams, fm output.Format, survey []keyspace.TargetSurvey) error {
	switch fm {
	case output.JSON:
		return output.WriteJSON(ios, NewKeysReport(survey))
	case output.Markdown:
		return keysTable(ios, survey, true).RenderMarkdown(ios.Out)
	}
	if err := keysTable(ios, survey, ios.IsStdoutTTY()).Render(); err != nil {
		return err
	}
	if !ios.IsStdoutTTY() {
		return nil
	}
	// Scripts use --json for the samples.
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

// keysTable is the per-group table: human units for a person, raw numbers for a pipe.
func keysTable(ios *iostreams.IOStreams, survey []keyspace.TargetSurvey, human bool) *output.TablePrinter {
	var tp *output.TablePrinter
	if human {
		tp = output.NewTable(ios, "GROUP", "KEYS", "MEMORY (EST.)", "AVG TTL")
	} else {
		tp = output.NewTable(ios, "group", "keys", "memory_bytes_est", "avg_ttl_s")
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
			tp.AddRow(s.Name, strconv.FormatInt(s.Keys, 10), format.Size(s.MemoryEst), ttl)
		} else {
			tp.AddRow(s.Name, strconv.FormatInt(s.Keys, 10), strconv.FormatInt(s.MemoryEst, 10),
				strconv.FormatFloat(s.AvgTTL.Seconds(), 'f', 1, 64))
		}
	}
	if human {
		tp.AddRow("total", strconv.FormatInt(keys, 10), format.Size(mem), "")
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
