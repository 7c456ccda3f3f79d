package keyspace

import (
	"context"
	"os"
	"testing"

	"github.com/cachectl/cachectl/internal/redistest"
)

func TestParseKeySizesOfRedis8(t *testing.T) {
	// INFO keysizes in the shape Redis 8 documents and sends (CRLF lines):
	// a line per db and type, power-of-two bins with K..E suffixes.
	text, err := os.ReadFile("testdata/info-keysizes-redis8.txt")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := ParseKeySizes(string(text))
	if !ok || len(d) != 6 {
		t.Fatalf("parsed %d lines (found %v), want 6", len(d), ok)
	}
	str := d[0]
	if str.DB != 0 || str.Type != "strings" || len(str.Bins) != 31 || str.Bins[0].Min != 2 || str.Bins[9].Min != 1024 || str.Bins[30].Min != 2<<30 {
		t.Errorf("strings: %+v", str)
	}
	lists := d[1]
	if lists.Type != "lists" || lists.Bins[len(lists.Bins)-1].Min != 4<<60 {
		t.Errorf("lists end at %+v, want 4E", lists.Bins[len(lists.Bins)-1])
	}
	if d[5].DB != 1 || d[5].Bins[0] != (SizeBin{Min: 8, Count: 3}) {
		t.Errorf("db1: %+v", d[5])
	}
	if _, ok := ParseKeySizes(""); ok {
		t.Error("an empty answer (Redis 7) has no keysizes section")
	}
}

func TestParseSlotStatsReply(t *testing.T) {
	// CLUSTER SLOT-STATS ORDERBY key-count LIMIT 2 DESC, in the shape its documentation
	// shows it, in RESP2 (arrays) and RESP3 (a map per slot).
	resp2 := []any{
		[]any{int64(12426), []any{"key-count", int64(45)}},
		[]any{int64(13902), []any{"key-count", int64(20), "cpu-usec", int64(3)}},
	}
	got, err := ParseSlotStats(resp2)
	if err != nil || len(got) != 2 || got[0] != (SlotStat{12426, 45}) || got[1] != (SlotStat{13902, 20}) {
		t.Fatalf("resp2: %+v, %v", got, err)
	}
	resp3 := []any{[]any{int64(7), map[any]any{"key-count": int64(9), "network-bytes-in": int64(1)}}}
	if got, err := ParseSlotStats(resp3); err != nil || got[0] != (SlotStat{7, 9}) {
		t.Fatalf("resp3: %+v, %v", got, err)
	}
	if _, err := ParseSlotStats("ERR"); err == nil {
		t.Error("a string reply is an error")
	}
}

func TestServerKeyFiguresDegradeOnRedis7(t *testing.T) {
	// This machine's Redis 7 has neither INFO keysizes nor CLUSTER SLOT-STATS:
	// the figures say where they come from instead of failing.
	c := redistest.Start(t).Client(t)
	ctx := context.Background()
	c.Set(ctx, "ecommerce:1:product:1", "v", 0)
	f, err := ServerKeyFigures(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if f.KeySizesSource != SourceNone || f.KeySizes != nil || f.Nodes != nil {
		t.Errorf("single Redis 7: %+v, want key sizes unavailable and no nodes", f)
	}

	cl := redistest.StartCluster(t, 2, 0)
	cc := cl.Client(t)
	for _, k := range []string{"a", "b", "c", "d"} {
		cc.Set(ctx, k, "v", 0)
	}
	f, err = ServerKeyFigures(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	var keys int64
	for _, n := range f.Nodes {
		keys += n.Keys
		if n.Source != SourceScan || n.TopSlots != nil {
			t.Errorf("node %+v: without SLOT-STATS the per-node figure is cachectl's own", n)
		}
	}
	if len(f.Nodes) != 2 || keys != 4 {
		t.Errorf("nodes %+v: want 2 masters holding 4 keys", f.Nodes)
	}
}
