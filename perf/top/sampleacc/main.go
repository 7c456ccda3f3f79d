// Command sampleacc measures how close `cachectl top`'s sampled hit rate
// per group comes to the truth, and what the sampling costs Redis (issue
// 18, Accuracy). Against a catalog API that sends X-Cache (the Django
// fixture with CATALOG_CACHE_HEADER=1) it replays rounds of requests whose
// hit ratio per group is set by the mix:
//
//   - products: -products distinct detail pages per round;
//   - categories: every category's detail page -category-repeat times;
//   - colors: the colors list -colors times.
//
// A share of each group's requests (-product-miss, -category-miss,
// -color-miss) clears its key just before it is sent, so misses are spread
// evenly through time rather than bunched at the start of a round.
//
// The truth per group is what the app said it did (X-Cache) over the
// phase; a products-only phase checks it against INFO keyspace_hits and
// keyspace_misses. The same load runs under `cachectl top --json`,
// alternately with --no-sample (the baseline) and with sampling, -pairs
// times; the added Redis CPU is the difference in used_cpu_sys +
// used_cpu_user per request (Redis's idle rate taken off), at the sampled
// phases' request rate. Run it with perf/top/sample-accuracy.sh.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

type request struct {
	group string
	url   string
	clear string // the key to clear just before, making it a miss; "" for none
}

type driver struct {
	api      string
	http     *http.Client
	rdb      *redis.Client
	schema   keyspace.Schema
	products []int64
	cats     []int64
	c        int

	miss           map[string]float64
	categoryRepeat int
	colors         int
	rng            *rand.Rand
}

// tally is X-Cache per group.
type tally map[string]*[2]int64 // hits, misses

func (t tally) add(o tally) {
	for g, v := range o {
		if t[g] == nil {
			t[g] = &[2]int64{}
		}
		t[g][0] += v[0]
		t[g][1] += v[1]
	}
}

func main() {
	api := flag.String("api", "", "catalog API base URL (required)")
	redisURL := flag.String("redis", "", "the API's Redis, with its database (required)")
	cachectl := flag.String("cachectl", "", "path of the cachectl binary (required)")
	duration := flag.Duration("duration", 2*time.Minute, "each phase's load (baseline, then sampled)")
	nProducts := flag.Int("products", 100, "product detail pages per round")
	productMiss := flag.Float64("product-miss", 0.2, "share of product requests that clear their key first")
	categoryMiss := flag.Float64("category-miss", 0.4, "share of category requests that clear their key first")
	colorMiss := flag.Float64("color-miss", 0.05, "share of colors requests that clear their key first")
	categoryRepeat := flag.Int("category-repeat", 4, "requests of each category per round")
	colors := flag.Int("colors", 20, "colors list requests per round")
	pairs := flag.Int("pairs", 2, "baseline and sampled phases, alternately")
	concurrency := flag.Int("c", 6, "concurrent requests")
	flag.Parse()
	if *api == "" || *redisURL == "" || *cachectl == "" {
		log.Fatal("--api, --redis and --cachectl are required (perf/top/sample-accuracy.sh sets them)")
	}
	opt, err := redis.ParseURL(*redisURL)
	if err != nil {
		log.Fatal(err)
	}
	opt.ClientName = "perf-sampleacc"
	d := &driver{api: *api, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}},
		rdb: redis.NewClient(opt), schema: keyspace.New("ecommerce", 1), c: *concurrency,
		miss:           map[string]float64{"products": *productMiss, "categories": *categoryMiss, "colors": *colorMiss},
		categoryRepeat: *categoryRepeat, colors: *colors, rng: rand.New(rand.NewPCG(1, 2))}
	ctx := context.Background()
	if err := d.discover(ctx, *nProducts); err != nil {
		log.Fatal(err)
	}
	d.warm(ctx)

	hits, misses, xc := d.productsOnly(ctx, 10)
	fmt.Printf("truth check, products only (10 rounds): X-Cache %.4f (%d lookups), INFO keyspace %.4f (%d lookups)\n",
		ratio(xc[0], xc[0]+xc[1]), xc[0]+xc[1], ratio(hits, hits+misses), hits+misses)

	idle := d.idleRate(ctx, 5*time.Second)
	var base, samp phaseResult
	for range *pairs {
		base.add(d.phase(ctx, *cachectl, *redisURL, *duration, false))
		samp.add(d.phase(ctx, *cachectl, *redisURL, *duration, true))
	}

	fmt.Printf("\nload: %d products, %d categories ×%d, colors ×%d per round; -c %d; %d × %s per mode\n",
		len(d.products), len(d.cats), d.categoryRepeat, d.colors, d.c, *pairs, *duration)
	fmt.Printf("sampling: %.0f ms every %.0f ms, %d windows, %.0f commands/s seen", samp.windowMs, samp.periodMs, samp.windows, samp.cmdsPerSec)
	if samp.widened != "" {
		fmt.Printf(" (%s)", samp.widened)
	}
	fmt.Println()
	fmt.Printf("\n%-12s %9s %9s %9s %9s %9s %8s %s\n", "group", "truth", "lookups", "sampled", "estimate", "±95%", "error", "within ±3 pts")
	for _, g := range []string{"products", "categories", "colors"} {
		t := samp.truth[g]
		if t == nil {
			continue
		}
		truth := ratio(t[0], t[0]+t[1])
		e := samp.est[g]
		if e == nil || e[0]+e[1] == 0 {
			fmt.Printf("%-12s %9.4f %9d %9s\n", g, truth, t[0]+t[1], "none")
			continue
		}
		n := int64(math.Round(e[0] + e[1]))
		est := e[0] / (e[0] + e[1])
		lo, hi := observe.Wilson(int64(math.Round(e[0])), n)
		errPts := 100 * (est - truth)
		fmt.Printf("%-12s %9.4f %9d %9d %9.4f %8.1f%% %+7.2f %v (interval %s)\n", g, truth, t[0]+t[1], n, est,
			100*math.Max(est-lo, hi-est), errPts, math.Abs(errPts) <= 3, within(truth, lo, hi))
	}
	// Redis CPU per request in each mode, idle rate off, at the sampled rate.
	perReq := func(p phaseResult) float64 { return (p.cpu - idle*p.elapsed.Seconds()) / float64(p.requests) }
	rate := float64(samp.requests) / samp.elapsed.Seconds()
	added := (perReq(samp) - perReq(base)) * rate
	fmt.Printf("\nredis cpu (share of one core): idle %.4f; baseline %.4f at %.0f req/s; sampled %.4f at %.0f req/s\n", idle,
		base.cpu/base.elapsed.Seconds(), float64(base.requests)/base.elapsed.Seconds(), samp.cpu/samp.elapsed.Seconds(), rate)
	fmt.Printf("added by sampling: %.2f%% of a core (per request %.1f µs vs %.1f µs); as the sampler measured it: %.2f%%; budget 2%%; load average %s\n",
		100*added, 1e6*perReq(samp), 1e6*perReq(base), 100*samp.sampledCPU/float64(max(samp.phases, 1)), loadavg())
}

// idleRate is Redis's CPU rate with nothing running.
func (d *driver) idleRate(ctx context.Context, dur time.Duration) float64 {
	c0 := d.cpu(ctx)
	time.Sleep(dur)
	return (d.cpu(ctx) - c0) / dur.Seconds()
}

func within(v, lo, hi float64) string {
	if v >= lo && v <= hi {
		return "holds the truth"
	}
	return "misses the truth"
}

func ratio(a, n int64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(a) / float64(n)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	var one string
	fmt.Sscan(string(b), &one)
	return one
}

// discover reads the categories' ids from the API and takes products 1..n.
func (d *driver) discover(ctx context.Context, n int) error {
	resp, err := d.http.Get(d.api + "/api/categories/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var cats []struct {
		ID int64 `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cats); err != nil {
		return fmt.Errorf("the category list: %w", err)
	}
	for _, c := range cats {
		d.cats = append(d.cats, c.ID)
	}
	for i := range n {
		d.products = append(d.products, int64(i+1))
	}
	return nil
}

func (d *driver) warm(ctx context.Context) {
	var reqs []request
	for _, id := range d.products {
		reqs = append(reqs, request{group: "products", url: fmt.Sprintf("%s/api/products/%d/", d.api, id)})
	}
	for _, id := range d.cats {
		reqs = append(reqs, request{group: "categories", url: fmt.Sprintf("%s/api/categories/%d/", d.api, id)})
	}
	reqs = append(reqs, request{group: "colors", url: d.api + "/api/colors/"})
	d.run(ctx, reqs)
}

// round sends its requests, shuffled; each group's share clears its key first.
func (d *driver) round(ctx context.Context, productsOnly bool) tally {
	var reqs []request
	for _, id := range d.products {
		reqs = append(reqs, request{"products", fmt.Sprintf("%s/api/products/%d/", d.api, id), d.schema.Key(keyspace.ProductKey(id))})
	}
	if !productsOnly {
		for _, id := range d.cats {
			for range d.categoryRepeat {
				reqs = append(reqs, request{"categories", fmt.Sprintf("%s/api/categories/%d/", d.api, id), d.schema.Key(keyspace.CategoryKey(id))})
			}
		}
		for range d.colors {
			reqs = append(reqs, request{"colors", d.api + "/api/colors/", d.schema.Key(keyspace.KeyColors)})
		}
	}
	// Exactly the share of each group clears, chosen at random.
	byGroup := map[string][]int{}
	for i, r := range reqs {
		byGroup[r.group] = append(byGroup[r.group], i)
	}
	for g, idx := range byGroup {
		d.rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		n := int(math.Round(d.miss[g] * float64(len(idx))))
		for j, i := range idx {
			if j >= n {
				reqs[i].clear = ""
			}
		}
	}
	d.rng.Shuffle(len(reqs), func(a, b int) { reqs[a], reqs[b] = reqs[b], reqs[a] })
	return d.run(ctx, reqs)
}

// run sends reqs over d.c connections and tallies X-Cache.
func (d *driver) run(ctx context.Context, reqs []request) tally {
	next := make(chan request)
	var mu sync.Mutex
	t := tally{}
	var wg sync.WaitGroup
	for range d.c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				if r.clear != "" {
					if err := d.rdb.Unlink(ctx, r.clear).Err(); err != nil {
						log.Fatal(err)
					}
				}
				resp, err := d.http.Get(r.url)
				if err != nil {
					log.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					log.Fatalf("GET %s: %s", r.url, resp.Status)
				}
				mu.Lock()
				if t[r.group] == nil {
					t[r.group] = &[2]int64{}
				}
				switch resp.Header.Get("X-Cache") {
				case "HIT":
					t[r.group][0]++
				case "MISS":
					t[r.group][1]++
				default:
					log.Fatalf("GET %s: no X-Cache header (start the app with CATALOG_CACHE_HEADER=1)", r.url)
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range reqs {
		next <- r
	}
	close(next)
	wg.Wait()
	return t
}

func (d *driver) counters(ctx context.Context) (hits, misses int64) {
	text, err := d.rdb.Info(ctx, "stats").Result()
	if err != nil {
		log.Fatal(err)
	}
	info := inspect.ParseInfo(text)
	hits, _ = info.Int("keyspace_hits")
	misses, _ = info.Int("keyspace_misses")
	return hits, misses
}

func (d *driver) cpu(ctx context.Context) float64 {
	text, err := d.rdb.Info(ctx, "cpu").Result()
	if err != nil {
		log.Fatal(err)
	}
	info := inspect.ParseInfo(text)
	s, _ := info.Float("used_cpu_sys")
	u, _ := info.Float("used_cpu_user")
	return s + u
}

// productsOnly runs rounds of products alone and returns INFO's hit and
// miss deltas beside X-Cache's.
func (d *driver) productsOnly(ctx context.Context, rounds int) (hits, misses int64, xc [2]int64) {
	h0, m0 := d.counters(ctx)
	for range rounds {
		t := d.round(ctx, true)
		xc[0] += t["products"][0]
		xc[1] += t["products"][1]
	}
	h1, m1 := d.counters(ctx)
	return h1 - h0, m1 - m0, xc
}

// topLine is what the report reads of `cachectl top --json`'s lines.
type topLine struct {
	Groups map[string]struct {
		HitRate *float64 `json:"hit_rate"`
		Lo      *float64 `json:"hit_rate_lo"`
		Hi      *float64 `json:"hit_rate_hi"`
		Lookups float64  `json:"lookups"`
	} `json:"groups"`
	Sample *struct {
		WindowMs       float64  `json:"window_ms"`
		PeriodMs       float64  `json:"period_ms"`
		Windows        int      `json:"windows"`
		AddedCPU       *float64 `json:"added_cpu"`
		CommandsPerSec float64  `json:"commands_per_sec"`
		Widened        string   `json:"widened"`
	} `json:"sample"`
}

type phaseResult struct {
	truth    tally
	requests int64
	cpu      float64
	elapsed  time.Duration
	last     topLine
	// summed over phases: the estimates' hits and misses per group, and
	// the sampling's own figures
	est                            map[string]*[2]float64
	windows, phases                int
	windowMs, periodMs, cmdsPerSec float64
	sampledCPU                     float64
	widened                        string
}

func (p *phaseResult) add(o phaseResult) {
	if p.truth == nil {
		p.truth, p.est = tally{}, map[string]*[2]float64{}
	}
	p.truth.add(o.truth)
	p.requests += o.requests
	p.cpu += o.cpu
	p.elapsed += o.elapsed
	p.phases++
	for g, e := range o.last.Groups {
		if e.HitRate == nil {
			continue
		}
		if p.est[g] == nil {
			p.est[g] = &[2]float64{}
		}
		p.est[g][0] += *e.HitRate * e.Lookups
		p.est[g][1] += (1 - *e.HitRate) * e.Lookups
	}
	if s := o.last.Sample; s != nil {
		p.windows += s.Windows
		p.windowMs, p.periodMs = s.WindowMs, s.PeriodMs
		p.cmdsPerSec = s.CommandsPerSec
		if s.AddedCPU != nil {
			p.sampledCPU += *s.AddedCPU
		}
		if s.Widened != "" {
			p.widened = s.Widened
		}
	}
}

// phase runs the load for dur under `cachectl top --json` (sampling or
// not) and returns the truth, Redis's CPU and top's last line.
func (d *driver) phase(ctx context.Context, bin, redisURL string, dur time.Duration, sample bool) phaseResult {
	args := []string{"top", "--json", "--interval", "1s", "--redis", redisURL, "--api", d.api}
	if !sample {
		args = append(args, "--no-sample")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = io.Discard // "interrupted" when it is stopped
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	<-lines // top is up (and, sampling, its first window has run)
	res := phaseResult{truth: tally{}}
	c0, t0 := d.cpu(ctx), time.Now()
	for time.Since(t0) < dur {
		res.truth.add(d.round(ctx, false))
	}
	res.cpu, res.elapsed = d.cpu(ctx)-c0, time.Since(t0)
	for _, v := range res.truth {
		res.requests += v[0] + v[1]
	}
	// One more line after the load, so the last window is in it.
	time.Sleep(1500 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	var last string
	for l := range lines {
		last = l
	}
	_ = cmd.Wait()
	if err := json.Unmarshal([]byte(last), &res.last); err != nil {
		log.Fatalf("top's last line %q: %v", last, err)
	}
	return res
}
