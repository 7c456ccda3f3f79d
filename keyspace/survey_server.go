package keyspace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Where a server-wide figure came from.
const (
	SourceKeySizes  = "info keysizes"      // Redis 8
	SourceSlotStats = "cluster slot-stats" // Valkey 8, Redis 8.2
	SourceScan      = "scan"               // cachectl's own SCAN (older servers)
	SourceNone      = "unavailable"
)

// ServerFigures are what newer servers say of their keys without a SCAN:
// INFO keysizes' size histograms and CLUSTER SLOT-STATS' keys per slot.
// On servers without them, each figure says so in its Source.
type ServerFigures struct {
	// KeySizes is the sum over masters of INFO keysizes: per db and type,
	// how many keys fall in each power-of-two size bin (bytes for strings,
	// items for aggregates). Nil, with KeySizesSource SourceNone, where the
	// server has no such section.
	KeySizes       []KeySizeDistrib
	KeySizesSource string
	// Nodes are the masters of a cluster with their key count and busiest
	// slots; nil on a single server.
	Nodes []ServerNode
}

// KeySizeDistrib is one line of INFO keysizes, e.g. db0_distrib_strings_sizes.
type KeySizeDistrib struct {
	DB   int
	Type string // strings, lists, sets, zsets, hashes, …
	Bins []SizeBin
}

// SizeBin counts the keys whose size is at least Min and below twice Min.
type SizeBin struct {
	Min   int64
	Count int64
}

// ServerNode is one master's account of its keys.
type ServerNode struct {
	Addr string
	Keys int64 // DBSIZE
	// TopSlots are its slots with the most keys (CLUSTER SLOT-STATS ORDERBY
	// key-count); nil, with Source SourceScan, where the server lacks it.
	TopSlots []SlotStat
	Source   string
}

// SlotStat is one slot's key count.
type SlotStat struct {
	Slot int
	Keys int64
}

// topSlots is how many of each master's busiest slots ServerKeyFigures asks for.
const topSlots = 5

// ServerKeyFigures asks every master for INFO keysizes and, on a cluster,
// CLUSTER SLOT-STATS, in one round trip each. A server that has neither
// (Redis 7 and older) is not an error: the figures are labelled as missing.
func ServerKeyFigures(ctx context.Context, c redis.UniversalClient) (ServerFigures, error) {
	var (
		mu  sync.Mutex
		out = ServerFigures{KeySizesSource: SourceNone}
	)
	err := eachSurveyedMaster(ctx, c, func(ctx context.Context, node *redis.Client, m master) error {
		var info *redis.StringCmd
		var dbsize *redis.IntCmd
		var stats *redis.Cmd
		_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			info = p.Info(ctx, "keysizes")
			if m.Cluster {
				dbsize = p.DBSize(ctx)
				stats = p.Do(ctx, "CLUSTER", "SLOT-STATS", "ORDERBY", "key-count", "LIMIT", topSlots, "DESC")
			}
			return nil
		})
		var replyErr redis.Error
		if err != nil && !errors.As(err, &replyErr) {
			return fmt.Errorf("read key figures on %s: %w", m.Addr, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if text, err := info.Result(); err == nil {
			if d, ok := ParseKeySizes(text); ok {
				out.KeySizes = mergeKeySizes(out.KeySizes, d)
				out.KeySizesSource = SourceKeySizes
			}
		}
		if !m.Cluster {
			return nil
		}
		n := ServerNode{Addr: m.Addr, Keys: dbsize.Val(), Source: SourceScan}
		if reply, err := stats.Result(); err == nil {
			if top, err := ParseSlotStats(reply); err == nil {
				n.TopSlots, n.Source = top, SourceSlotStats
			}
		}
		out.Nodes = append(out.Nodes, n)
		return nil
	})
	if err != nil {
		return ServerFigures{}, err
	}
	slices.SortFunc(out.Nodes, func(a, b ServerNode) int { return strings.Compare(a.Addr, b.Addr) })
	return out, nil
}

// ParseKeySizes reads the "# Keysizes" section of INFO (Redis 8):
//
//	db0_distrib_strings_sizes:2=1,4=3,1K=2
//
// It reports false when the text has no such section, as older servers
// answer INFO keysizes with nothing.
func ParseKeySizes(text string) ([]KeySizeDistrib, bool) {
	var out []KeySizeDistrib
	found := false
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if strings.EqualFold(line, "# Keysizes") {
			found = true
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "db") {
			continue
		}
		dbPart, rest, ok := strings.Cut(name[2:], "_distrib_")
		db, err := strconv.Atoi(dbPart)
		if !ok || err != nil {
			continue
		}
		typ := strings.TrimSuffix(strings.TrimSuffix(rest, "_sizes"), "_items")
		d := KeySizeDistrib{DB: db, Type: typ}
		for bin := range strings.SplitSeq(value, ",") {
			lo, count, ok := strings.Cut(bin, "=")
			if !ok {
				continue
			}
			min, err1 := parsePow2(lo)
			n, err2 := strconv.ParseInt(count, 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			d.Bins = append(d.Bins, SizeBin{Min: min, Count: n})
		}
		out = append(out, d)
		found = true
	}
	return out, found
}

// parsePow2 reads a bin's lower bound: 0, 1, 512, 1K, 2M, 4G, 8T, 16P, 1E.
func parsePow2(s string) (int64, error) {
	mult := int64(1)
	if n := len(s); n > 0 {
		if i := strings.IndexByte("KMGTPE", s[n-1]); i >= 0 {
			mult = 1 << (10 * (i + 1))
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size bin %q", s)
	}
	return v * mult, nil
}

func mergeKeySizes(into, add []KeySizeDistrib) []KeySizeDistrib {
	for _, d := range add {
		i := slices.IndexFunc(into, func(x KeySizeDistrib) bool { return x.DB == d.DB && x.Type == d.Type })
		if i < 0 {
			into = append(into, KeySizeDistrib{DB: d.DB, Type: d.Type, Bins: slices.Clone(d.Bins)})
			continue
		}
		for _, b := range d.Bins {
			j := slices.IndexFunc(into[i].Bins, func(x SizeBin) bool { return x.Min == b.Min })
			if j < 0 {
				into[i].Bins = append(into[i].Bins, b)
			} else {
				into[i].Bins[j].Count += b.Count
			}
		}
		slices.SortFunc(into[i].Bins, func(a, b SizeBin) int { return int(a.Min - b.Min) })
	}
	return into
}

// ParseSlotStats reads the reply of CLUSTER SLOT-STATS: one entry per slot,
// its number and its statistics as name/value pairs (a RESP2 array, or a
// map under RESP3):
//
//  1. 1) (integer) 12426
//  2. 1) "key-count"
//  2. (integer) 45
func ParseSlotStats(reply any) ([]SlotStat, error) {
	rows, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("slot-stats: want an array, got %T", reply)
	}
	var out []SlotStat
	for _, r := range rows {
		pair, ok := r.([]any)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("slot-stats: want [slot, stats], got %v", r)
		}
		slot, ok := pair[0].(int64)
		if !ok {
			return nil, fmt.Errorf("slot-stats: slot %v is not an integer", pair[0])
		}
		st := SlotStat{Slot: int(slot)}
		switch fields := pair[1].(type) {
		case []any:
			for i := 0; i+1 < len(fields); i += 2 {
				if name, _ := fields[i].(string); strings.EqualFold(name, "key-count") {
					st.Keys, _ = fields[i+1].(int64)
				}
			}
		case map[any]any:
			for k, v := range fields {
				if name, _ := k.(string); strings.EqualFold(name, "key-count") {
					st.Keys, _ = v.(int64)
				}
			}
		default:
			return nil, fmt.Errorf("slot-stats: stats of slot %d are %T", slot, pair[1])
		}
		out = append(out, st)
	}
	return out, nil
}
