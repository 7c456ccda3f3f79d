package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

// benchSmall keeps a run short: two endpoints, few pairs, a short load.
var benchSmall = []string{"--cold-samples", "3", "-n", "60", "-c", "2", "--only", "product_detail,categories"}

// benchWithEnv runs `cachectl bench` against c with env as the whole
// environment, and returns stdout and stderr.
func benchWithEnv(t *testing.T, c *testCatalog, env map[string]string, wantCode int, args ...string) (string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	args = append([]string{"bench", "--api", c.URL, "--redis", c.Redis.URL()}, append(slices.Clone(benchSmall), args...)...)
	if code := execute(context.Background(), ios, args, func(k string) string { return env[k] }); code != wantCode {
		t.Fatalf("%s: exit %d, want %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), code, wantCode, errOut, out)
	}
	return out.String(), errOut.String()
}

// readHistory reads a history file's lines.
func readHistory(t *testing.T, path string) []bench.HistoryEntry {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []bench.HistoryEntry
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e bench.HistoryEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("history line %d is not JSON: %v\n%s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, e)
	}
	return out
}

// --save-baseline NAME keeps the run's report in $XDG_DATA_HOME's
// baselines; --baseline NAME on the same server compares with it and finds
// no regression; each run appends a line to history.jsonl beside them. A
// run that fails is not saved over the baseline.
func TestBenchSavesANamedBaselineAndComparesWithIt(t *testing.T) {
	c := startCatalog(t, time.Millisecond, nil)
	data := t.TempDir()
	env := map[string]string{"HOME": t.TempDir(), "XDG_DATA_HOME": data}
	dir := filepath.Join(data, "cachectl", "baselines")

	out, _ := benchWithEnv(t, c, env, exitOK, "--json", "--repeat", "3", "--save-baseline", "main")
	saved, err := os.ReadFile(filepath.Join(dir, "main.json"))
	if err != nil {
		t.Fatalf("no baseline saved: %v", err)
	}
	var printed, kept bench.Report
	if err := json.Unmarshal([]byte(out), &printed); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(saved, &kept); err != nil {
		t.Fatalf("main.json is not a report: %v", err)
	}
	if kept.Schema != bench.SchemaV1 || len(kept.Endpoints) != 2 || kept.Endpoints[1].Warm.P50 != printed.Endpoints[1].Warm.P50 {
		t.Errorf("main.json is not the run's report:\n%s", saved)
	}
	if fp := kept.Fingerprint; fp == nil || fp.Dataset == nil || fp.Dataset.Products != 200 {
		t.Errorf("fingerprint %+v: want the dataset's 200 products", fp)
	}

	// The same server against its own baseline: compared, no regression.
	// (--max-regression 300: runs of 60 requests on a machine shared with
	// other work move their p50 by 2x; telling a real regression from that
	// noise is TestBaselineComparison's job, in bench.)
	out, _ = benchWithEnv(t, c, env, exitOK, "--json", "--repeat", "3", "--baseline", "main", "--max-regression", "300")
	var rep bench.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Comparison == nil || !rep.Comparison.Comparable || len(rep.Comparison.Comparisons) == 0 {
		t.Fatalf("comparison %+v: want one with the named baseline", rep.Comparison)
	}
	for _, x := range rep.Comparison.Comparisons {
		if x.Verdict == bench.Regressed || x.Repeats != [2]int{3, 3} {
			t.Errorf("%s %s: %s over %v repeats, want no regression over 3 and 3", x.Endpoint, x.Figure, x.Verdict, x.Repeats)
		}
	}

	// A failed run is named a failure and leaves the baseline as it was.
	_, errOut := benchWithEnv(t, c, env, exitFailed, "--save-baseline", "main", "--min-speedup", "1000")
	if !strings.Contains(errOut, "warning: baseline main not saved") {
		t.Errorf("stderr %q does not say the baseline was not saved", errOut)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "main.json")); !bytes.Equal(now, saved) {
		t.Error("a failed run replaced the baseline")
	}

	hist := readHistory(t, filepath.Join(dir, "history.jsonl"))
	if len(hist) != 3 {
		t.Fatalf("history has %d lines, want one per run (3)", len(hist))
	}
	first, second, third := hist[0], hist[1], hist[2]
	if first.SavedAs != "main" || first.Baseline != nil || !first.Passed || len(first.Endpoints) != 2 || first.Gates.Passed == 0 {
		t.Errorf("first line %+v: want the saved run", first)
	}
	if b := second.Baseline; b == nil || b.Name != "main" || b.Verdict == bench.Regressed || b.Verdict == bench.NotComparable {
		t.Errorf("second line's baseline %+v: want main, compared, no regression", b)
	}
	if e := second.Endpoints[0]; e.Name != "product_detail" || e.WarmP95 <= 0 || e.WarmRPS <= 0 || e.Verdict == "" {
		t.Errorf("second line's product_detail %+v: want its figures and verdict", e)
	}
	if third.SavedAs != "" || third.Passed || !slices.Contains(third.Gates.Breached, "min-speedup categories") {
		t.Errorf("third line %+v: want a failed run, not saved, naming its breached gate", third)
	}
	if !first.Time.Before(second.Time) || first.Fingerprint == nil || first.Fingerprint.Dataset == nil {
		t.Errorf("times %v, %v, fingerprint %+v", first.Time, second.Time, first.Fingerprint)
	}

	// --history FILE appends there, even with no named baseline.
	custom := filepath.Join(t.TempDir(), "runs.jsonl")
	benchWithEnv(t, c, env, exitOK, "--history", custom)
	if h := readHistory(t, custom); len(h) != 1 || h[0].Schema != bench.HistorySchemaV1 {
		t.Errorf("--history: %+v", h)
	}
	if len(readHistory(t, filepath.Join(dir, "history.jsonl"))) != 3 {
		t.Error("a run with --history FILE also wrote the baselines' history")
	}
}

// junitDoc is what a JUnit reader takes from bench's XML.
type junitDoc struct {
	Tests  int `xml:"tests,attr"`
	Suites []struct {
		Failures   int `xml:"failures,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string  `xml:"name,attr"`
			Classname string  `xml:"classname,attr"`
			Time      float64 `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// --format junit is a JUnit document: a testcase per endpoint, timed, and
// one per gate, a breached gate a <failure>, the fingerprint as
// properties. --report FILE.xml writes the same beside the JSON on stdout.
func TestBenchJUnitHasATestcasePerEndpointAndGate(t *testing.T) {
	c := startCatalog(t, time.Millisecond, nil)
	env := map[string]string{"HOME": t.TempDir()}
	report := filepath.Join(t.TempDir(), "bench.xml")
	out, _ := benchWithEnv(t, c, env, exitFailed, "--format", "junit", "--min-speedup", "1000")
	jsonOut, _ := benchWithEnv(t, c, env, exitFailed, "--json", "--min-speedup", "1000", "--report", report)
	if !json.Valid([]byte(jsonOut)) {
		t.Errorf("with --report bench.xml stdout is not the JSON report: %q", jsonOut)
	}
	file, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range [][]byte{[]byte(out), file} {
		var d junitDoc
		if err := xml.Unmarshal(doc, &d); err != nil || len(d.Suites) != 1 {
			t.Fatalf("not a JUnit document (%v):\n%s", err, doc)
		}
		s := d.Suites[0]
		got := map[string]bool{}
		for _, tc := range s.Cases {
			got[tc.Name] = true
			if tc.Classname != "cachectl.bench" {
				t.Errorf("%s: classname %q", tc.Name, tc.Classname)
			}
			isGate := strings.HasPrefix(tc.Name, "gate ")
			if !isGate && (tc.Time <= 0 || tc.Failure != nil) {
				t.Errorf("endpoint %s: time %v, failure %v: want its duration and no failure", tc.Name, tc.Time, tc.Failure)
			}
			wantFail := strings.HasPrefix(tc.Name, "gate min-speedup ")
			if (tc.Failure != nil) != wantFail || (wantFail && !strings.Contains(tc.Failure.Message, "want at least 1000.0x")) {
				t.Errorf("%s: failure %+v, want one for the breached speedup gates only", tc.Name, tc.Failure)
			}
		}
		want := []string{"product_detail", "categories", "gate min-speedup product_detail", "gate min-speedup categories",
			"gate max-error-rate product_detail", "gate max-error-rate categories"}
		for _, w := range want {
			if !got[w] {
				t.Errorf("no testcase %q in %v", w, got)
			}
		}
		if len(s.Cases) != len(want) || d.Tests != len(want) || s.Failures != 2 {
			t.Errorf("%d testcases (tests=%d), %d failures: want %d and 2", len(s.Cases), d.Tests, s.Failures, len(want))
		}
		props := map[string]string{}
		for _, p := range s.Properties {
			props[p.Name] = p.Value
		}
		if props["dataset.products"] != "200" || props["cpus"] == "" || props["load_model"] != "closed" || props["concurrency"] != "2" {
			t.Errorf("properties %v: want the fingerprint", props)
		}
	}
	// Where xmllint is installed, it reads the document too.
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		if out, err := exec.Command(xmllint, "--noout", report).CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, out)
		}
	}
}

// A baseline taken on a catalog of another size is not compared: the gate
// baseline fails and says why.
func TestBenchBaselineOfAnotherCatalogSizeIsNotComparable(t *testing.T) {
	big := startCatalog(t, 0, nil)
	rs := redistest.Start(t)
	small := &testCatalog{Redis: rs, Schema: keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)}
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{Redis: rs.ClientOptions(), Store: catalog.StoreConfig{SeedProducts: 50},
		Schema: small.Schema, RedisTimeout: 2 * time.Second})
	small.URL = api.URL.String()
	env := map[string]string{"HOME": t.TempDir(), "CACHECTL_BASELINE_DIR": t.TempDir()}

	benchWithEnv(t, big, env, exitOK, "--save-baseline", "big")
	out, errOut := benchWithEnv(t, small, env, exitFailed, "--json", "--baseline", "big")
	var rep bench.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if c := rep.Comparison; c == nil || c.Comparable || !strings.Contains(c.Note, "not comparable: dataset 50 products, baseline 200") {
		t.Errorf("comparison %+v: want not comparable for the dataset", c)
	}
	if !strings.Contains(errOut, "bench failed: baseline") {
		t.Errorf("stderr %q does not name the baseline gate", errOut)
	}
	hist := readHistory(t, filepath.Join(env["CACHECTL_BASELINE_DIR"], "history.jsonl"))
	if len(hist) != 2 || hist[1].Baseline == nil || hist[1].Baseline.Verdict != bench.NotComparable {
		t.Errorf("history %+v: want the second run not comparable", hist)
	}
}

// Against the Django fixture: the fingerprint counts its products from
// DRF's page, a run saved by name compares with the next one, and the
// JUnit report has a testcase per built-in endpoint the app serves.
func TestBenchNamedBaselineAgainstDjango(t *testing.T) {
	d := startDjangoBench(t, djangotest.Options{})
	dir := t.TempDir()
	small := []string{"--cold-samples", "3", "-n", "30", "-c", "2", "--repeat", "3", "--only", "product_detail,categories", "--baseline-dir", dir}
	rep, _ := d.bench(t, exitOK, append(small, "--save-baseline", "django")...)
	fp, _ := rep["fingerprint"].(map[string]any)
	if got := num(t, fp, "dataset", "products"); got != djangotest.DefaultProducts {
		t.Errorf("dataset.products = %v, want the fixture's %d", got, djangotest.DefaultProducts)
	}
	// The second run may be slower: gunicorn's sync workers on a machine
	// shared with other work swing by 2x from run to run. Whatever its
	// verdict, it was compared, and only a regression gate may fail.
	xmlFile := filepath.Join(t.TempDir(), "bench.xml")
	ios, _, out, errOut := iostreams.Test()
	args := append(append([]string{"bench", "--json"}, d.args...), append(small, "--baseline", "django", "--report", xmlFile)...)
	if code := runCLI(t, ios, args...); code != exitOK && code != exitFailed {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	rep = decodeReport(t, out.Bytes())
	if c, _ := rep["comparison"].(map[string]any); c == nil || c["comparable"] != true {
		t.Errorf("comparison %v: want the Django run compared with its named baseline", rep["comparison"])
	}
	breached := 0
	for _, th := range rep["thresholds"].([]any) {
		if m := th.(map[string]any); m["ok"] != true {
			breached++
			if name, _ := m["name"].(string); !strings.HasPrefix(name, "regression ") {
				t.Errorf("gate %s breached: %v", name, m["detail"])
			}
		}
	}
	var doc junitDoc
	data, _ := os.ReadFile(xmlFile)
	if err := xml.Unmarshal(data, &doc); err != nil || len(doc.Suites) != 1 || doc.Suites[0].Failures != breached {
		t.Fatalf("JUnit report (%v), want %d failures:\n%s", err, breached, data)
	}
	if h := readHistory(t, filepath.Join(dir, "history.jsonl")); len(h) != 2 || h[1].Baseline == nil || h[1].Baseline.Name != "django" {
		t.Errorf("history %+v: want both runs, the second against django", h)
	}
}
