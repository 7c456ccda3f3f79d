// Command top measures what `cachectl top` costs and how good its cheap
// group estimate is, with a large keyspace (issue 7, Performance):
//
//   - Redis CPU (used_cpu_sys + used_cpu_user) over a window with top running
//     versus the same window without it;
//   - top's own CPU over that window;
//   - the sampled estimate's error per group against an exact count, in
//     percentage points of the keyspace, and the time of each;
//
// It starts a private redis-server from PATH on a free port (or uses --redis,
// which it fills with keys: never point it at a server that matters) and
// prints figures; it asserts nothing. Run it with perf/top/run.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/redisproc"
	"github.com/cachectl/cachectl/keyspace"
)

func main() {
	keys := flag.Int("keys", 1_000_000, "keys to load")
	window := flag.Duration("window", 60*time.Second, "measurement window, without and then with top")
	interval := flag.Duration("interval", time.Second, "top --interval")
	cachectl := flag.String("cachectl", "", "path of the cachectl binary (required)")
	addr := flag.String("redis", "", "host:port of a throwaway redis-server (default: start a private one)")
	flag.Parse()
	if *cachectl == "" {
		log.Fatal("--cachectl is required (perf/top/run.sh builds it)")
	}
	ctx := context.Background()

	if *addr == "" {
		a, stop, err := startRedis()
		if err != nil {
			log.Fatal(err)
		}
		defer stop()
		*addr = a
	}
	c := redis.NewClient(&redis.Options{Addr: *addr, DisableIdentity: true, Protocol: 2})
	defer c.Close()

	fmt.Printf("redis %s, loading %d keys...\n", *addr, *keys)
	shares := load(ctx, c, *keys)
	size, _ := c.DBSize(ctx).Result()
	fmt.Printf("loaded: DBSIZE %d\n\n", size)

	base := cpuOver(ctx, c, *window, nil)
	fmt.Printf("redis CPU without top: %.3fs over %s (%.2f%% of a core)\n", base, *window, 100*base/window.Seconds())

	top := exec.Command(*cachectl, "top", "--interval", interval.String(), "--redis", "redis://"+*addr+"/0")
	top.Stdout, top.Stderr = nil, os.Stderr
	withTop := cpuOver(ctx, c, *window, top)
	fmt.Printf("redis CPU with top:    %.3fs over %s (%.2f%% of a core)\n", withTop, *window, 100*withTop/window.Seconds())
	fmt.Printf("added by top:          %.2f%% of a core (target < 1%%)\n", 100*(withTop-base)/window.Seconds())
	if top.ProcessState != nil {
		own := top.ProcessState.UserTime() + top.ProcessState.SystemTime()
		fmt.Printf("top's own CPU:         %s (%.2f%% of a core, target < 5%%)\n\n", own, 100*own.Seconds()/window.Seconds())
	}

	sel := selection()
	start := time.Now()
	exact, err := inspect.CountGroups(ctx, c, sel, 0)
	if err != nil {
		log.Fatal(err)
	}
	exactTook := time.Since(start)
	start = time.Now()
	est, err := inspect.EstimateGroups(ctx, c, sel, inspect.SampleOptions{})
	if err != nil {
		log.Fatal(err)
	}
	estTook := time.Since(start)
	fmt.Printf("exact recount (SCAN): %s; estimate (%d RANDOMKEY + DBSIZE): %s\n", exactTook.Round(time.Millisecond), est[0].Samples, estTook.Round(time.Millisecond))
	fmt.Printf("%-12s %10s %10s %10s %12s %14s\n", "group", "loaded", "exact", "estimate", "±margin", "error (pp)")
	for i, g := range est {
		errPP := 100 * math.Abs(float64(g.Keys-exact[i].Keys)) / float64(size)
		fmt.Printf("%-12s %10d %10d %10d %12d %14.3f\n", g.Name, shares[g.Name], exact[i].Keys, g.Keys, g.Margin, errPP)
	}
	fmt.Println("(target: error within ±2 percentage points)")
}

// mix is the share of each logical key family; the rest is outside the schema.
var mix = []struct {
	group, pattern string
	share          float64
}{
	{"products", "ecommerce:1:product:%d", 0.55},
	{"products", "ecommerce:1:products:list:%d", 0.10},
	{"categories", "ecommerce:1:category:%d", 0.15},
	{"colors", "ecommerce:1:product_colors:%d", 0.05},
	{"", "ecommerce:1:session:%d", 0.10},
	{"", "other:%d", 0.05},
}

func load(ctx context.Context, c *redis.Client, n int) map[string]int {
	shares := map[string]int{}
	for _, m := range mix {
		count := int(m.share * float64(n))
		shares[m.group] += count
		for lo := 0; lo < count; lo += 10000 {
			pipe := c.Pipeline()
			for i := lo; i < min(lo+10000, count); i++ {
				pipe.Set(ctx, fmt.Sprintf(m.pattern, i), "v", 0)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				log.Fatal(err)
			}
		}
	}
	return shares
}

func selection() keyspace.Selection {
	s := keyspace.New("ecommerce", 1)
	var sel keyspace.Selection
	for _, name := range []string{"products", "categories", "colors"} {
		t, _ := s.Group(name)
		sel = append(sel, t)
	}
	return sel
}

// cpuOver returns Redis's CPU seconds over d, with cmd running meanwhile
// when it is not nil (it is interrupted at the end and waited for).
func cpuOver(ctx context.Context, c *redis.Client, d time.Duration, cmd *exec.Cmd) float64 {
	before := redisCPU(ctx, c)
	if cmd != nil {
		if err := cmd.Start(); err != nil {
			log.Fatal(err)
		}
	}
	time.Sleep(d)
	if cmd != nil {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	return redisCPU(ctx, c) - before
}

func redisCPU(ctx context.Context, c *redis.Client) float64 {
	text, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		log.Fatal(err)
	}
	s := inspect.FromInfo(inspect.ParseInfo(text))
	return s.CPUSys + s.CPUUser
}

func startRedis() (addr string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "cachectl-perf-top")
	if err != nil {
		return "", nil, err
	}
	p, err := redisproc.Start(context.Background(), redisproc.Config{Dir: dir, LogLines: 5})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("starting redis-server: %w", err)
	}
	return p.Addr, func() { p.Stop(10 * time.Second); os.RemoveAll(dir) }, nil
}
