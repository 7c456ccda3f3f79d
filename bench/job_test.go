package bench

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/option/optiontest"
)

func validJob() Job {
	return Job{Config: Config{ColdSamples: 3, Requests: 10, Concurrency: 2, Repeat: 1, Timeout: time.Second}, Gates: Gates{MaxRegression: 20}}
}

func TestJobValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Job)
		want string // "" for valid
	}{
		{"defaults", func(*Job) {}, ""},
		{"repeat", func(j *Job) { j.Repeat = MaxRepeat + 1 }, "--repeat from 1 to 100"},
		{"mix repeats", func(j *Job) { j.Mix, j.Repeat = true, 2 }, "without --mix"},
		{"regression alone", func(j *Job) { j.RegressionSet = true }, "--max-regression goes with --baseline"},
		{"regression with baseline", func(j *Job) { j.RegressionSet, j.BaselineRef = true, "main" }, ""},
		{"mix per endpoint", func(j *Job) { j.Mix, j.MinSpeedup = true, 2 }, "which --mix does not measure"},
		{"stampede writes alone", func(j *Job) { j.MaxStampedeWrites = 1 }, "--max-stampede-writes goes with --stampede"},
		{"baseline name", func(j *Job) { j.SaveBaseline = "main.json" }, "without .json"},
		{"gates", func(j *Job) { j.MaxErrorRate = 2 }, "--max-error-rate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			tc.edit(&j)
			optiontest.Want(t, j.Validate(), tc.want)
		})
	}
}

func TestJobSuiteReadsEndpointsGatesAndBaseline(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "endpoints.yaml")
	spec := "- name: colors\n  url: /api/colors/\n- name: categories\n  url: /api/categories/\n"
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	api, _ := url.Parse("http://127.0.0.1:1")
	j := validJob()
	j.EndpointsFile, j.Only, j.P95, j.Mix = file, []string{"colors"}, []string{"40ms", "HIT=5ms"}, true
	s, err := j.Suite(context.Background(), api)
	if err != nil {
		t.Fatalf("Suite: %v", err)
	}
	if len(s.Endpoints) != 1 || s.Endpoints[0].Name != "colors" || !s.Mix || s.API != api {
		t.Errorf("Suite = %+v, want colors only, mixed, against %s", s, api)
	}
	if s.Gates.MaxWarmP95.Milliseconds() != 40 || s.Gates.MaxWarmP95ByCache["HIT"].Milliseconds() != 5 {
		t.Errorf("gates = %+v, want 40ms and HIT=5ms", s.Gates)
	}

	for name, edit := range map[string]func(*Job){
		"p95":      func(j *Job) { j.P95 = []string{"soon"} },
		"only":     func(j *Job) { j.Only = []string{"nope"} },
		"baseline": func(j *Job) { j.BaselineRef = "missing" },
		"file":     func(j *Job) { j.EndpointsFile = filepath.Join(dir, "none.yaml") },
	} {
		j := validJob()
		j.EndpointsFile, j.BaselineDir = file, dir
		edit(&j)
		if _, err := j.Suite(context.Background(), api); !errors.As(err, new(*option.Error)) {
			t.Errorf("%s: Suite = %v, want an *option.Error", name, err)
		}
	}
}

func TestJobKeeper(t *testing.T) {
	j := Job{BaselineRef: "main", SaveBaseline: "next", BaselineDir: "/b", History: "/h.jsonl"}
	want := Keeper{Baselines: Baselines{Dir: "/b"}, SaveAs: "next", Baseline: "main", History: "/h.jsonl"}
	if got := j.Keeper(); got != want {
		t.Errorf("Keeper = %+v, want %+v", got, want)
	}
}
