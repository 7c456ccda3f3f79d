package bench

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/build"
)

// Fingerprint is what a run's figures depend on besides the code under
// test: two reports compare only when the fields Comparable checks agree.
type Fingerprint struct {
	Cachectl    string   `json:"cachectl"`
	Go          string   `json:"go"`
	Redis       string   `json:"redis"` // "" when unknown
	OS          string   `json:"os"`    // GOOS/GOARCH
	CPUs        int      `json:"cpus"`
	CPUModel    string   `json:"cpu_model"`
	LoadModel   string   `json:"load_model"`
	Concurrency int      `json:"concurrency"`
	Rate        float64  `json:"rate,omitempty"`
	Requests    int      `json:"requests"`
	Repeat      int      `json:"repeat"`
	Endpoints   []string `json:"endpoints"` // the dataset: "name /path?query", in order
	// Dataset is the catalog's size, where the API says it.
	Dataset *Dataset `json:"dataset,omitempty"`
}

// fingerprint takes the environment of a run of cfg over eps.
func fingerprint(ctx context.Context, cfg Config, eps []Endpoint) Fingerprint {
	fp := Fingerprint{
		Cachectl: build.Get().Version, Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		CPUs: runtime.NumCPU(), CPUModel: cpuModel(), LoadModel: Closed, Concurrency: cfg.Concurrency,
		Requests: cfg.Requests, Repeat: cfg.Repeat, Endpoints: []string{},
	}
	if cfg.Rate > 0 {
		fp.LoadModel, fp.Rate = Open, cfg.Rate
	}
	if cfg.Redis != nil {
		if text, err := cfg.Redis.Info(ctx, "server").Result(); err == nil {
			fp.Redis, _ = inspect.ParseInfo(text).Get("redis_version")
		}
	}
	for _, ep := range eps {
		path := ep.URL
		if u, err := url.Parse(ep.URL); err == nil {
			path = u.RequestURI()
		}
		fp.Endpoints = append(fp.Endpoints, ep.Name+" "+path)
	}
	return fp
}

// cpuModel is the CPU's model name where the system says it ("" elsewhere).
func cpuModel() string {
	fh, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Comparable says why figures taken under base cannot be compared with
// those under f; "" when they can. Versions of cachectl, Go and Redis may
// differ (comparing them is a reason to run a baseline), the machine and
// the load may not. Endpoints are matched by name, so the dataset differs
// only where an endpoint of both has another path, or where both know the
// catalog's size and it differs.
func (f Fingerprint) Comparable(base *Fingerprint) string {
	if base == nil {
		return "the baseline has no fingerprint (written before fingerprints): save a new one"
	}
	var why []string
	diff := func(what string, a, b any) {
		if a != b {
			why = append(why, fmt.Sprintf("%s %v, baseline %v", what, a, b))
		}
	}
	diff("cpus", f.CPUs, base.CPUs)
	diff("cpu model", f.CPUModel, base.CPUModel)
	diff("os", f.OS, base.OS)
	diff("load model", f.LoadModel, base.LoadModel)
	if f.LoadModel == Open {
		diff("rate", f.Rate, base.Rate)
	} else {
		diff("concurrency", f.Concurrency, base.Concurrency)
	}
	if f.Dataset != nil && base.Dataset != nil && *f.Dataset != *base.Dataset {
		why = append(why, fmt.Sprintf("dataset %d products, baseline %d", f.Dataset.Products, base.Dataset.Products))
	}
	paths := map[string]string{}
	for _, e := range base.Endpoints {
		name, path, _ := strings.Cut(e, " ")
		paths[name] = path
	}
	for _, e := range f.Endpoints {
		name, path, _ := strings.Cut(e, " ")
		if p, ok := paths[name]; ok && p != path {
			why = append(why, fmt.Sprintf("endpoint %s is %s, baseline %s", name, path, p))
		}
	}
	return strings.Join(why, "; ")
}

// Verdicts of a comparison with a baseline.
const (
	Regressed = "regressed"
	Improved  = "improved"
	NoChange  = "no change"
)

// Comparison is one figure of one endpoint against the baseline.
type Comparison struct {
	Endpoint string  `json:"endpoint"`
	Figure   string  `json:"figure"` // "p95_ms" or "rps"
	Verdict  string  `json:"verdict"`
	Current  float64 `json:"current"`  // median over the repeats
	Baseline float64 `json:"baseline"` // median over the baseline's repeats
	// Ratio is how much worse the current figure is (current/baseline for
	// a latency, baseline/current for a rate): 1.25 is 25% worse. Low and
	// High bound it, a 95% bootstrap interval over the repeats; both are 0
	// when a side has fewer than 2 repeats.
	Ratio   float64 `json:"ratio"`
	Low     float64 `json:"low"`
	High    float64 `json:"high"`
	Repeats [2]int  `json:"repeats"` // current, baseline
}

// bootstrapRounds is how many resamples the interval takes: enough for
// the 2.5% and 97.5% points to settle to the third digit.
const bootstrapRounds = 4000

// compare decides whether cur (per-repeat values) is worse than base by
// more than tolerance (0.2: 20%). worse says whether higher values are worse.
//
// The test: the ratio of the medians of the two sides' repeats, with a 95%
// percentile-bootstrap interval from resampling each side's repeats with
// replacement. The repeat, not the request, is the unit: requests of one
// run share its machine's state (CPU frequency, neighbours, caches), so a
// test on per-request samples calls two runs of the same code different
// whenever they ran on a different minute, and cries wolf. A regression is
// a ratio beyond the tolerance whose whole interval lies above 1 (the
// difference is both large enough to matter and not noise); an
// improvement the mirror image. With one repeat on a side there is no
// interval and the tolerance alone decides, as a fixed percentage did.
//
// A tail figure (strict: the p95) is noisier from run to run than a
// median or a rate (one neighbour's burst moves it), so it regresses only
// when its whole interval lies beyond the tolerance.
func compare(cur, base []float64, worse func(cur, base float64) float64, tolerance float64, strict bool) Comparison {
	c := Comparison{Current: median(cur), Baseline: median(base), Repeats: [2]int{len(cur), len(base)}}
	c.Ratio = worse(c.Current, c.Baseline)
	significant, better := true, true
	if len(cur) >= 2 && len(base) >= 2 {
		rng := rand.New(rand.NewPCG(1, 2)) // fixed: the same reports give the same verdict
		ratios := make([]float64, bootstrapRounds)
		a, b := make([]float64, len(cur)), make([]float64, len(base))
		for i := range ratios {
			for j := range a {
				a[j] = cur[rng.IntN(len(cur))]
			}
			for j := range b {
				b[j] = base[rng.IntN(len(base))]
			}
			ratios[i] = worse(median(a), median(b))
		}
		slices.Sort(ratios)
		c.Low, c.High = ratios[bootstrapRounds*25/1000], ratios[bootstrapRounds*975/1000-1]
		up, down := 1.0, 1.0
		if strict {
			up, down = 1+tolerance, 1-tolerance
		}
		significant, better = c.Low > up, c.High < down
	}
	switch {
	case c.Ratio > 1+tolerance && significant:
		c.Verdict = Regressed
	case c.Ratio < 1-tolerance && better:
		c.Verdict = Improved
	default:
		c.Verdict = NoChange
	}
	return c
}

func higherWorse(cur, base float64) float64 { return ratio(cur, base) }
func lowerWorse(cur, base float64) float64  { return ratio(base, cur) }

func ratio(a, b float64) float64 {
	switch {
	case b > 0:
		return a / b
	case a > 0:
		return 1e9 // from nothing to something: as bad as it gets
	}
	return 1
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// Detail says a comparison in one line.
func (c Comparison) Detail(tolerance float64) string {
	interval := "one repeat: no interval, the tolerance alone decides"
	if c.Low > 0 || c.High > 0 {
		interval = fmt.Sprintf("95%% interval %.2f–%.2f over %d and %d repeats", c.Low, c.High, c.Repeats[0], c.Repeats[1])
	}
	return fmt.Sprintf("%s %s vs baseline %s: %.2fx as bad (%s): %s, allowed %.0f%% worse",
		c.Figure, trim(c.Current), trim(c.Baseline), c.Ratio, interval, c.Verdict, tolerance*100)
}

func trim(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
