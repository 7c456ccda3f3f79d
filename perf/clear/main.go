// Command clearperf is the helper of perf/clear/run.sh: it loads the
// benchmark keyspace, runs the reference floor (a minimal pipelined SCAN +
// UNLINK loop) and a SCAN-only pass, and probes GET latency while a clear runs.
// It exists only for that comparison.
//
//	clearperf load ADDR TOTAL MATCHING   django-redis shaped keys, ~500 B values, TTL 600-3600 s
//	clearperf floor ADDR PATTERN         SCAN COUNT 1000 + UNLINK of each page, one pass
//	clearperf scan ADDR PATTERN          SCAN COUNT 1000 only, one pass
//	clearperf probe ADDR OUTFILE         GET every 1 ms until SIGTERM, then write p50/p99/max in ms
package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/keyspace"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: clearperf load|floor|scan|probe ADDR ARGS...")
		os.Exit(2)
	}
	c := redis.NewClient(&redis.Options{Addr: os.Args[2], Protocol: 2, ReadTimeout: 10 * time.Second})
	defer c.Close()
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "load":
		total, _ := strconv.Atoi(os.Args[3])
		matching, _ := strconv.Atoi(os.Args[4])
		err = load(ctx, c, total, matching)
	case "floor":
		err = floor(ctx, c, os.Args[3], true)
	case "scan":
		err = floor(ctx, c, os.Args[3], false)
	case "probe":
		err = probe(ctx, c, os.Args[3])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clearperf:", err)
		os.Exit(1)
	}
}

// load writes total keys, of which matching are in the products group and
// the rest are categories, colors and sessions under the same prefix.
func load(ctx context.Context, c *redis.Client, total, matching int) error {
	value := strings.Repeat("v", 500)
	// The products group's keys, and look-alikes of other groups under the
	// same prefix that a products clear must leave.
	products := []func(int64) string{
		keyspace.ProductKey, keyspace.ProductVariantsKey, keyspace.ProductVariantListKey, keyspace.ProductRecommendationsKey,
		func(i int64) string { return keyspace.ProductListKey(fmt.Sprintf("%x", i)) },
	}
	others := []func(int64) string{
		keyspace.CategoryKey,
		func(i int64) string { return fmt.Sprintf("%s:%d", keyspace.KeyCategories, i) },
		func(i int64) string { return fmt.Sprintf("%s:%d", keyspace.KeyColors, i) },
		func(i int64) string { return fmt.Sprintf("session:%x", i) },
	}
	p := c.Pipeline()
	for i := 0; i < total; i++ {
		var k string
		if i < matching {
			k = products[i%len(products)](int64(i))
		} else {
			k = others[i%len(others)](int64(i))
		}
		p.Set(ctx, "ecommerce:1:"+k, value, time.Duration(600+rand.IntN(3000))*time.Second)
		if p.Len() == 2000 {
			if _, err := p.Exec(ctx); err != nil {
				return err
			}
		}
	}
	_, err := p.Exec(ctx)
	return err
}

// floor is the least work a correct clear can do: one SCAN pass, each
// page's keys unlinked in the same round trip's pipeline.
func floor(ctx context.Context, c *redis.Client, pattern string, unlink bool) error {
	var cursor uint64
	var deleted int64
	for {
		keys, next, err := c.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return err
		}
		if unlink && len(keys) > 0 {
			n, err := c.Unlink(ctx, keys...).Result()
			if err != nil {
				return err
			}
			deleted += n
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	fmt.Fprintln(os.Stderr, "deleted", deleted)
	return nil
}

// probe measures what other clients feel: one GET every millisecond.
func probe(ctx context.Context, c *redis.Client, out string) error {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	var lat []time.Duration
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-stop:
			break loop
		case <-tick.C:
			start := time.Now()
			c.Get(ctx, "ecommerce:1:probe")
			lat = append(lat, time.Since(start))
		}
	}
	if len(lat) == 0 {
		return os.WriteFile(out, []byte("0 0 0\n"), 0o644)
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
	return os.WriteFile(out, fmt.Appendf(nil, "%.2f %.2f %.2f\n", q(0.5), q(0.99), q(1)), 0o644)
}
