package audit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/redistest"
)

func entry(n int64) Entry {
	return Entry{Time: time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC), User: "oncall", Host: "box",
		Command: "clear", Redis: "redis://***@db:6379/1", Targets: []string{"products"},
		Counts: []int64{n}, Deleted: n, Complete: true, DurationMs: 12.5}
}

// Concurrent cachectl processes append whole lines: none is torn or lost.
func TestAppendKeepsEveryLineWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "cachectl", "audit.jsonl")
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if err := Append(path, entry(int64(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, bad, err := Read(path)
	if err != nil || bad != 0 || len(got) != 50 {
		t.Fatalf("read %d entries (%d bad, err %v), want 50 whole ones", len(got), bad, err)
	}
	seen := map[int64]bool{}
	for _, e := range got {
		seen[e.Deleted] = true
	}
	if len(seen) != 50 {
		t.Fatalf("%d distinct entries, want 50", len(seen))
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("trail mode %v (%v), want 0600: it names servers and targets", fi.Mode().Perm(), err)
	}
}

// A line torn by a crash is skipped and counted; the entries around it stay.
func TestReadSkipsATornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := Append(path, entry(1)); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"time":"2026-12-02T07:00:00Z","user":"on` + "\n")
	f.Close()
	if err := Append(path, entry(2)); err != nil {
		t.Fatal(err)
	}
	got, bad, err := Read(path)
	if err != nil || bad != 1 || len(got) != 2 || got[0].Deleted != 1 || got[1].Deleted != 2 {
		t.Fatalf("got %+v, bad %d, err %v; want entries 1 and 2 and one bad line", got, bad, err)
	}
}

func TestReadOfNoTrailIsEmpty(t *testing.T) {
	got, bad, err := Read(filepath.Join(t.TempDir(), "none.jsonl"))
	if err != nil || bad != 0 || len(got) != 0 {
		t.Fatalf("got %v %d %v, want an empty trail", got, bad, err)
	}
}

// The team stream holds the same line, and stays bounded.
func TestPublishToAStream(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	for i := range 3 {
		if err := Publish(ctx, c, "ecommerce:cachectl:audit", entry(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := c.XRange(ctx, "ecommerce:cachectl:audit", "-", "+").Result()
	if err != nil || len(msgs) != 3 {
		t.Fatalf("stream has %d entries (%v), want 3", len(msgs), err)
	}
	var e Entry
	if err := json.Unmarshal([]byte(msgs[2].Values["entry"].(string)), &e); err != nil || e.Deleted != 2 || !strings.Contains(e.Redis, "***") {
		t.Fatalf("last stream entry %+v (%v), want the third entry, redacted", e, err)
	}
}
