package keyspace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
)

// seedWithTTL writes every key with its own name as value and a one-hour TTL,
// so survivors can be checked for both.
func seedWithTTL(t testing.TB, c redis.UniversalClient, keys []string) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < len(keys); i += 1000 {
		p := c.Pipeline()
		for _, k := range keys[i:min(i+1000, len(keys))] {
			p.Set(ctx, k, "value of "+k, time.Hour)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// productKeys names product:0 … product:n-1 under s.
func productKeys(s Schema, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = s.Key(fmt.Sprintf("product:%d", i))
	}
	return keys
}

// allKeys lists every key on every master, sorted.
func allKeys(t *testing.T, c redis.UniversalClient) []string {
	t.Helper()
	var mu sync.Mutex
	var out []string
	err := ForEachMaster(context.Background(), c, func(ctx context.Context, node *redis.Client) error {
		return ScanNode(ctx, node, "*", 1000, func(keys []string) error {
			mu.Lock()
			out = append(out, keys...)
			mu.Unlock()
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// checkSurvivors asserts that exactly want is left and that each survivor
// still has its value and its TTL: a clear must not touch what it leaves.
func checkSurvivors(t *testing.T, c redis.UniversalClient, want []string) {
	t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if got := allKeys(t, c); !slices.Equal(got, want) {
		t.Fatalf("keys left:\n  %q\nwant:\n  %q", got, want)
	}
	ctx := context.Background()
	for _, k := range want {
		v, err := c.Get(ctx, k).Result()
		if err != nil || v != "value of "+k {
			t.Errorf("survivor %q: value %q, %v", k, v, err)
		}
		if ttl := c.PTTL(ctx, k).Val(); ttl < 59*time.Minute {
			t.Errorf("survivor %q: TTL %s, want about 1h", k, ttl)
		}
	}
}

func without(all, gone []string) []string {
	return slices.DeleteFunc(slices.Clone(all), func(k string) bool { return slices.Contains(gone, k) })
}

// faultAt is a Clear progress callback that runs fault once, as soon as n
// keys are deleted.
func faultAt(n int64, fault func()) func(Progress) {
	var once sync.Once
	return func(p Progress) {
		if p.Deleted >= n {
			once.Do(fault)
		}
	}
}

// must unwraps a schema constructor's result, failing the test on error.
func must(t testing.TB) func(Target, error) Target {
	return func(tg Target, err error) Target {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
}

func TestClearDeletesExactlyTheTarget(t *testing.T) {
	// The on-call traps: look-alike keys and sessions under the same prefix
	// must survive, with their values and TTLs.
	s, c := onRedis(t)
	ns := s.Namespace()
	productGroup := []string{
		ns + "product:1", ns + "product:1:variants", ns + "product:1:variants:list", ns + "product:1:recommendations",
		ns + "product:10", ns + "product:10:variants", ns + "product:1x",
		ns + "products:list:9f86d081", ns + "products:filters:2c26b46b", ns + "products:top_sellers",
		ns + "products:new_arrivals", ns + "products:personalized:ab12",
	}
	product1 := []string{ns + "product:1", ns + "product:1:variants", ns + "product:1:variants:list", ns + "product:1:recommendations"}
	listings := []string{ns + "products:list:9f86d081", ns + "products:filters:2c26b46b", ns + "products:top_sellers",
		ns + "products:new_arrivals", ns + "products:personalized:ab12"}
	categories := []string{ns + "categories:all", ns + "category:7"}
	colors := []string{ns + "product_colors:all"}

	products := must(t)(s.Group(GroupProducts))
	id1 := must(t)(s.Product(1, false))
	id1Cascade := must(t)(s.Product(1, true))
	id10 := must(t)(s.Product(10, false))
	all := must(t)(s.Group(GroupAll))
	pattern := must(t)(s.Pattern("products:list:*"))

	cases := []struct {
		name string
		sel  Selection
		gone []string
	}{
		{"products", Selection{products}, productGroup},
		{"product id 1 spares product:10 and product:1x", Selection{id1}, product1},
		{"product id 1 with cascade", Selection{id1Cascade}, append(slices.Clone(product1), listings...)},
		{"two ids in one pass", Selection{id1, id10}, append(slices.Clone(product1), ns+"product:10", ns+"product:10:variants")},
		{"colors", Selection{must(t)(s.Group(GroupColors))}, colors},
		{"all is the groups, not the prefix", Selection{all}, slices.Concat(productGroup, categories, colors)},
		{"pattern inside the namespace", Selection{pattern}, []string{ns + "products:list:9f86d081"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if err := c.FlushAll(ctx).Err(); err != nil { // test set-up only
				t.Fatal(err)
			}
			seedWithTTL(t, c, sampleKeys)
			res, err := Clear(ctx, c, tc.sel, ClearConfig{Batch: 3})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete || res.Deleted != int64(len(tc.gone)) || res.Matched != res.Deleted {
				t.Errorf("result: complete=%v matched=%d deleted=%d, want complete, %d", res.Complete, res.Matched, res.Deleted, len(tc.gone))
			}
			var perTarget int64
			for _, tr := range res.Targets {
				perTarget += tr.Deleted
			}
			if perTarget != res.Deleted {
				t.Errorf("per-target deleted sum %d != total %d", perTarget, res.Deleted)
			}
			checkSurvivors(t, c, without(sampleKeys, tc.gone))
		})
	}
}

func TestClearPrefixWithGlobCharactersStaysLiteral(t *testing.T) {
	// A prefix like "sh*p" must not reach "shop" or "shoop": every glob
	// character of the prefix is escaped, and keys are checked again in Go.
	c := redistest.Start(t).Client(t)
	prefixes := []string{"sh*p", "sh?p", "sh[o]p", `sh\p`, "sh]p", "shop", "shoop", "shp", "sh[p"}
	var keys []string
	for _, p := range prefixes {
		keys = append(keys, p+":1:product:1", p+":1:product:2:variants", p+":1:product_colors:all")
	}
	seedWithTTL(t, c, keys)
	left := keys
	for _, p := range prefixes {
		s := New(p, 1)
		res, err := Clear(context.Background(), c, Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{})
		if err != nil {
			t.Fatalf("prefix %q: %v", p, err)
		}
		if res.Deleted != 2 {
			t.Errorf("prefix %q: deleted %d, want its own 2 keys", p, res.Deleted)
		}
		left = without(left, []string{p + ":1:product:1", p + ":1:product:2:variants"})
		checkSurvivors(t, c, left)
	}
}

func TestClearBinarySafeKeys(t *testing.T) {
	// Keys are bytes: spaces, line breaks and invalid UTF-8 are deleted like any other.
	s, c := onRedis(t)
	odd := []string{
		s.Key("product:1 with space"), s.Key("product:2\nnewline"), s.Key("product:3\r\n"),
		s.Key("product:\xff\xfe\x00binary"), s.Key("products:list:\t*?[]\\"),
	}
	keep := []string{s.Key("product_colors:\xff"), s.Key("session:\n")}
	seedWithTTL(t, c, append(slices.Clone(odd), keep...))
	res, err := Clear(context.Background(), c, Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != int64(len(odd)) {
		t.Errorf("deleted %d, want %d", res.Deleted, len(odd))
	}
	checkSurvivors(t, c, keep)
}

func TestClearFindsSparseKeysAcrossEmptyPages(t *testing.T) {
	// A few target keys among 200k others: most SCAN pages come back empty,
	// and the cursor must still be followed to the end.
	s, c := onRedis(t)
	ctx := context.Background()
	const filler = 200_000
	for i := 0; i < filler; i += 5000 {
		args := make([]any, 0, 10000)
		for j := i; j < i+5000; j++ {
			args = append(args, fmt.Sprintf("ecommerce:1:session:%d", j), "x")
		}
		if err := c.MSet(ctx, args...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	targets := []string{s.Key("product:7"), s.Key("product:123456:variants"), s.Key("products:top_sellers"),
		s.Key("product:99"), s.Key("products:list:abc")}
	seedWithTTL(t, c, append(slices.Clone(targets), s.Key("productivity:1")))

	res, err := Clear(ctx, c, Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != int64(len(targets)) {
		t.Errorf("deleted %d, want %d", res.Deleted, len(targets))
	}
	if n := c.DBSize(ctx).Val(); n != filler+1 {
		t.Errorf("DBSIZE after clear = %d, want %d (fillers and productivity:1)", n, filler+1)
	}
}

func TestClearWithConcurrentWritersAndDeleters(t *testing.T) {
	// While the app keeps writing and deleting: every target key that existed
	// throughout is gone, and no other key is touched.
	s, c := onRedis(t)
	ctx := context.Background()
	var stable, others []string
	for i := range 20000 {
		stable = append(stable, s.Key(fmt.Sprintf("product:%d", i)))
	}
	for i := range 2000 {
		others = append(others, s.Key(fmt.Sprintf("category:%d", i)))
	}
	seedWithTTL(t, c, append(slices.Clone(stable), others...))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written atomic.Int64
	wg.Add(2)
	go func() { // the app caching new products and categories
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := c.Pipeline()
			p.Set(ctx, s.Key(fmt.Sprintf("product:new%d", i)), "v", time.Hour)
			p.Set(ctx, s.Key(fmt.Sprintf("category:new%d", i)), "value of "+s.Key(fmt.Sprintf("category:new%d", i)), time.Hour)
			if _, err := p.Exec(ctx); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	}()
	go func() { // the app invalidating some products itself
		defer wg.Done()
		for i := 0; i < len(stable); i += 7 {
			select {
			case <-stop:
				return
			default:
			}
			c.Unlink(ctx, stable[i])
		}
	}()
	testwait.Eventually(t, 10*time.Second, "the app to write while the clear runs", func() bool { return written.Load() > 0 })
	res, err := Clear(ctx, c, Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{Batch: 100, Count: 100})
	close(stop)
	wg.Wait()
	if err != nil || !res.Complete {
		t.Fatalf("clear: %v (complete=%v)", err, res.Complete)
	}
	if written.Load() == 0 {
		t.Fatal("the writer never ran alongside the clear")
	}
	for _, k := range stable {
		if c.Exists(ctx, k).Val() != 0 {
			t.Errorf("%s existed throughout the clear and is still there", k)
		}
	}
	for _, k := range others {
		if v := c.Get(ctx, k).Val(); v != "value of "+k {
			t.Errorf("%s was touched: %q", k, v)
		}
	}
	if n := c.Exists(ctx, s.Key("category:new0")).Val(); n != 1 {
		t.Error("a category written during the clear was deleted")
	}
	if res.Deleted > res.Matched {
		t.Errorf("deleted %d > matched %d", res.Deleted, res.Matched)
	}
}

func TestClearClusterExactAndNoCrossSlot(t *testing.T) {
	// Three masters with replicas: every master is cleared in parallel, keys
	// are unlinked where SCAN found them (no CROSSSLOT), totals are exact.
	s := New(DefaultPrefix, DefaultVersion)
	cl := redistest.StartCluster(t, 3, 1)
	c := cl.Client(t)
	var keys []string
	for i := range 6000 {
		keys = append(keys, s.Key(fmt.Sprintf("product:%d", i)))
		if i%3 == 0 {
			keys = append(keys, s.Key(fmt.Sprintf("product:%d:variants", i)))
		}
	}
	const products = 6000 + 2000
	keep := []string{s.Key("product_colors:all"), s.Key("productivity:1"), s.Key("categories:all"), "other:1"}
	seedWithTTL(t, c, append(slices.Clone(keys), keep...))
	sel := Selection{must(t)(s.Group(GroupProducts))}
	ctx := context.Background()

	dry, err := Clear(ctx, c, sel, ClearConfig{DryRun: true})
	if err != nil || dry.Matched != products || dry.Deleted != 0 || !dry.DryRun {
		t.Fatalf("dry run: matched %d deleted %d err %v, want %d matched, 0 deleted", dry.Matched, dry.Deleted, err, products)
	}
	res, err := Clear(ctx, c, sel, ClearConfig{Batch: 700})
	if err != nil {
		t.Fatal(err) // a CROSSSLOT reply would surface here
	}
	if !res.Complete || res.Deleted != products || res.Targets[0].Deleted != products {
		t.Errorf("complete=%v deleted=%d, want %d", res.Complete, res.Deleted, products)
	}
	for i, m := range cl.Masters {
		mc := m.Client(t)
		n := 0
		if err := ScanNode(ctx, mc, "ecommerce:1:product:*", 1000, func(k []string) error { n += len(k); return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("master %d still holds %d product keys", i, n)
		}
	}
	checkSurvivors(t, c, keep)
}

func TestClearACL(t *testing.T) {
	// Least privilege: a user without KEYS, FLUSHDB, FLUSHALL and DEBUG clears
	// fine; a user without UNLINK gets NOPERM and nothing is claimed.
	s := New(DefaultPrefix, DefaultVersion)
	srv := redistest.Start(t, redistest.Options{ACL: []string{
		"cleaner on >cleaner-pw ~* +@all -keys -flushdb -flushall -debug",
		"nounlink on >nounlink-pw ~* +@all -unlink",
	}})
	admin := srv.Client(t)
	keys := productKeys(s, 1500)
	seedWithTTL(t, admin, keys)
	user := func(name, pw string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: name, Password: pw, Protocol: 2})
		t.Cleanup(func() { c.Close() })
		return c
	}
	sel := Selection{must(t)(s.Group(GroupProducts))}
	ctx := context.Background()

	res, err := Clear(ctx, user("nounlink", "nounlink-pw"), sel, ClearConfig{})
	if err == nil || res.Complete {
		t.Fatalf("without UNLINK: err %v complete %v, want an error and complete=false", err, res.Complete)
	}
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("error %q should wrap ErrIncomplete and name NOPERM", err)
	}
	if res.Deleted != 0 || res.Errors != 1 {
		t.Errorf("without UNLINK: deleted %d errors %d, want 0 and 1", res.Deleted, res.Errors)
	}
	if n := admin.DBSize(ctx).Val(); n != int64(len(keys)) {
		t.Errorf("DBSIZE %d after a refused clear, want %d", n, len(keys))
	}

	res, err = Clear(ctx, user("cleaner", "cleaner-pw"), sel, ClearConfig{})
	if err != nil || !res.Complete || res.Deleted != int64(len(keys)) {
		t.Fatalf("least-privilege user: deleted %d complete %v err %v", res.Deleted, res.Complete, err)
	}
	if n := admin.DBSize(ctx).Val(); n != 0 {
		t.Errorf("DBSIZE %d, want 0", n)
	}
}

func TestClearInterruptedNeverClaimsSuccess(t *testing.T) {
	// The link breaks mid-clear (reset or stall), or the user presses Ctrl-C:
	// the result is incomplete, never over-counted, and a re-run finishes.
	s := New(DefaultPrefix, DefaultVersion)
	srv := redistest.Start(t)
	admin := srv.Client(t)
	const total = 30000
	sel := Selection{must(t)(s.Group(GroupProducts))}

	faults := []struct {
		name  string
		fault func(p *faultProxy, cancel context.CancelFunc)
	}{
		{"connection reset", func(p *faultProxy, _ context.CancelFunc) { p.Cut() }},
		{"connection stalled", func(p *faultProxy, _ context.CancelFunc) { p.Stall() }},
		{"cancelled", func(_ *faultProxy, cancel context.CancelFunc) { cancel() }},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			ctx := context.Background()
			admin.FlushAll(ctx) // test set-up only
			keys := productKeys(s, total)
			seedWithTTL(t, admin, keys)
			proxy := startProxy(t, srv.Addr)
			c := redis.NewClient(&redis.Options{Addr: proxy.Addr, Protocol: 2, MaxRetries: 1,
				DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
			defer c.Close()

			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			res, err := Clear(runCtx, c, sel, ClearConfig{Batch: 200, Progress: faultAt(3000, func() { f.fault(proxy, cancel) })})
			if err == nil || res.Complete {
				t.Fatalf("clear through a broken link: err %v complete %v, want an error and complete=false", err, res.Complete)
			}
			if !errors.Is(err, ErrIncomplete) {
				t.Errorf("error %v does not wrap ErrIncomplete", err)
			}
			// Drop what the proxy still holds, so a stalled UNLINK cannot land later.
			proxy.Cut()
			proxy.Heal()
			left := admin.DBSize(ctx).Val()
			if left == 0 {
				t.Fatal("the fault came too late: nothing was left to prove incompleteness")
			}
			if res.Deleted > total-left {
				t.Errorf("claimed %d deleted, but only %d keys are gone", res.Deleted, total-left)
			}

			again, err := Clear(ctx, c, sel, ClearConfig{})
			if err != nil || !again.Complete {
				t.Fatalf("re-run: %v complete=%v", err, again.Complete)
			}
			// Commands already delivered may still land after the first run
			// returned, so the re-run can find fewer than left; never more.
			if again.Deleted > left || res.Deleted+again.Deleted > total {
				t.Errorf("re-run deleted %d of the %d left; first run claimed %d of %d", again.Deleted, left, res.Deleted, total)
			}
			if n := admin.DBSize(ctx).Val(); n != 0 {
				t.Errorf("%d keys left after the re-run", n)
			}
		})
	}
}

func TestClearPauseAndProgress(t *testing.T) {
	// --pause spaces the rounds out; progress reports climb to the final totals.
	s, c := onRedis(t)
	keys := productKeys(s, 1000)
	seedWithTTL(t, c, keys)
	var last Progress
	var calls int
	start := time.Now()
	res, err := Clear(context.Background(), c, Selection{must(t)(s.Group(GroupProducts))},
		ClearConfig{Batch: 100, Pause: 20 * time.Millisecond, Progress: func(p Progress) {
			if p.Deleted < last.Deleted || p.Scanned < last.Scanned {
				t.Errorf("progress went backwards: %+v after %+v", p, last)
			}
			last = p
			calls++
		}})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 10*20*time.Millisecond {
		t.Errorf("10 rounds with a 20ms pause took only %s", elapsed)
	}
	if last.Deleted != res.Deleted || last.Deleted != 1000 || calls < 10 {
		t.Errorf("last progress %+v after %d calls, result deleted %d", last, calls, res.Deleted)
	}
}

func TestSurveyCountsAndSamples(t *testing.T) {
	// `keys` relies on exact counts and on samples that carry real TTLs and sizes.
	s, c := onRedis(t)
	ctx := context.Background()
	p := c.Pipeline()
	for i := range 300 {
		p.Set(ctx, s.Key(fmt.Sprintf("product:%d", i)), strings.Repeat("x", 500), 10*time.Minute)
	}
	p.Set(ctx, s.Key("product_colors:all"), "[]", 0)
	p.Set(ctx, s.Key("session:1"), "s", 0)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	sel := Selection{must(t)(s.Group(GroupProducts)), must(t)(s.Group(GroupCategories)), must(t)(s.Group(GroupColors))}
	got, err := Survey(ctx, c, sel, SurveyConfig{Samples: 10})
	if err != nil {
		t.Fatal(err)
	}
	prod, cats, cols := got[0], got[1], got[2]
	if prod.Keys != 300 || cats.Keys != 0 || cols.Keys != 1 {
		t.Fatalf("counts %d/%d/%d, want 300/0/1", prod.Keys, cats.Keys, cols.Keys)
	}
	if len(prod.Samples) != 10 || prod.TTLSamples != 10 {
		t.Errorf("product samples %d (with TTL %d), want 10", len(prod.Samples), prod.TTLSamples)
	}
	if prod.AvgTTL < 9*time.Minute || prod.AvgTTL > 10*time.Minute {
		t.Errorf("avg TTL %s, want about 10m", prod.AvgTTL)
	}
	if per := prod.MemoryEst / 300; per < 500 || per > 1000 {
		t.Errorf("estimated %d bytes per 500-byte value", per)
	}
	if len(cols.Samples) != 1 || cols.Samples[0].TTL != -1 || cols.AvgTTL != 0 {
		t.Errorf("colors sample %+v avg TTL %s: a key without expiry has TTL -1", cols.Samples, cols.AvgTTL)
	}
}

func TestClearStopsAtTheLimit(t *testing.T) {
	// --max-keys must hold even for keys written after the counting pass:
	// the clear deletes at most the limit, then says it stopped.
	s, c := onRedis(t)
	keys := productKeys(s, 50)
	seedWithTTL(t, c, keys)
	g, _ := s.Group(GroupProducts)
	res, err := Clear(context.Background(), c, Selection{g}, ClearConfig{Limit: 10, Batch: 4, Count: 5})
	if !errors.Is(err, ErrLimit) || !errors.Is(err, ErrIncomplete) || res.Complete {
		t.Fatalf("err %v, complete %v; want ErrLimit, incomplete", err, res.Complete)
	}
	left, _ := c.DBSize(context.Background()).Result()
	if res.Deleted > 10 || 50-left != res.Deleted {
		t.Errorf("deleted %d (DBSIZE says %d): at most 10, and exactly what Redis lost", res.Deleted, 50-left)
	}
	first := res.Deleted
	res, err = Clear(context.Background(), c, Selection{g}, ClearConfig{Limit: 100})
	if err != nil || !res.Complete || res.Deleted != 50-first {
		t.Errorf("under the limit: %v, deleted %d, want the remaining %d", err, res.Deleted, 50-first)
	}
	if n, _ := c.DBSize(context.Background()).Result(); n != 0 {
		t.Errorf("%d keys left", n)
	}
}
