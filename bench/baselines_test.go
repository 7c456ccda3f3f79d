package bench_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/option"
)

// Runs that append to one history at the same time (a CI matrix on one
// runner) each leave whole lines: 8 writers of 50 lines each, every line a
// JSON entry, none lost, none mixed with another.
func TestHistoryLinesOfConcurrentRunsNeverMix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	// An entry long enough that a torn write would show: 40 endpoints.
	rep := bench.Report{Schema: bench.SchemaV1, API: "http://api", Passed: true, Complete: true}
	for i := range 40 {
		rep.Endpoints = append(rep.Endpoints, bench.Result{Name: fmt.Sprintf("endpoint-%02d", i)})
	}
	const writers, lines = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				if err := bench.AppendHistory(path, bench.NewHistoryEntry(rep, time.Now(), "", fmt.Sprintf("w%d-%d", w, i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e bench.HistoryEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || len(e.Endpoints) != 40 {
			t.Fatalf("line %d is not a whole entry (%v): %.200s", len(seen)+1, err, sc.Bytes())
		}
		seen[e.SavedAs] = true
	}
	if len(seen) != writers*lines {
		t.Errorf("%d distinct lines, want %d", len(seen), writers*lines)
	}
}

// Saving replaces a baseline whole and leaves no temporary file behind; the
// names listed are the baselines saved, and a missing one is a usage error
// that lists them.
func TestBaselinesSaveListAndLoad(t *testing.T) {
	b := bench.Baselines{Dir: filepath.Join(t.TempDir(), "deep", "baselines")}
	if err := b.Save("main", bench.Report{Schema: bench.SchemaV1, API: "http://one"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Save("main", bench.Report{Schema: bench.SchemaV1, API: "http://two"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Save("v1.2_rc-1", bench.Report{Schema: bench.SchemaV1}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(b.Dir)
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	if strings.Join(files, " ") != "main.json v1.2_rc-1.json" {
		t.Errorf("directory holds %v, want the two baselines and nothing else", files)
	}
	rep, err := b.Open("main")
	if err != nil || rep.API != "http://two" {
		t.Errorf("Open(main) = %+v, %v: want the second save", rep, err)
	}
	_, err = b.Open("nope")
	if !errors.As(err, new(*option.Error)) || !strings.HasSuffix(err.Error(), "(saved: main, v1.2_rc-1)") {
		t.Errorf("Open(nope) = %v: want a usage error listing main and v1.2_rc-1", err)
	}
	for _, name := range []string{"", "a/b", "../x", ".x", "x y", "main.json", "é"} {
		if err := b.Save(name, bench.Report{}); !errors.As(err, new(*option.Error)) {
			t.Errorf("Save(%q) = %v, want a usage error", name, err)
		}
	}
	for ref, file := range map[string]bool{"main": false, "v1.2": false, "base.json": true, "dir/main": true, "./main": true} {
		if bench.IsBaselineFile(ref) != file {
			t.Errorf("IsBaselineFile(%q) = %v", ref, !file)
		}
	}
}
