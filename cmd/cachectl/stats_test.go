package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/render"
)

// runCachectl runs one command line in-process, as a user would, with a
// private HOME so no config file leaks in.
func runCachectl(t *testing.T, ios *iostreams.IOStreams, args ...string) int {
	t.Helper()
	env := map[string]string{"HOME": t.TempDir()}
	return execute(context.Background(), ios, args, func(k string) string { return env[k] })
}

// seedCatalog writes keys of every group, one key outside the schema, and
// known lookups: 7 hits and 3 misses.
func seedCatalog(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	for i := range 20 {
		c.Set(ctx, fmt.Sprintf("ecommerce:1:product:%d", i), "p", 0)
	}
	c.Set(ctx, "ecommerce:1:products:top_sellers", "[]", 0)
	c.Set(ctx, "ecommerce:1:categories:all", "[]", 0)
	c.Set(ctx, "ecommerce:1:category:3", "{}", 0)
	c.Set(ctx, "ecommerce:1:product_colors:all", "[]", 0)
	c.Set(ctx, "ecommerce:1:session:abc", "s", 0)
	for range 7 {
		c.Get(ctx, "ecommerce:1:product:1")
	}
	for range 3 {
		c.Get(ctx, "ecommerce:1:product:999")
	}
}

// The JSON is the contract of DESIGN.md §4, and its numbers are the
// server's: hits and misses equal INFO taken right after, keys equal DBSIZE.
func TestStatsJSONAgreesWithTheServer(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	seedCatalog(t, c)

	ios, _, out, errOut := iostreams.Test()
	if code := runCachectl(t, ios, "stats", "--json", "--redis", srv.URL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ctx := context.Background()
	text, err := c.Info(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	after := inspect.FromInfo(inspect.ParseInfo(text))
	dbsize, err := c.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}

	if strings.Count(out.String(), "\n") != 1 {
		t.Errorf("piped JSON is not one line:\n%s", out)
	}
	var raw map[string]any
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	wantKeys := []string{"op", "addr", "version", "role", "cluster", "uptime_s", "clients", "memory",
		"keyspace_hits", "keyspace_misses", "hit_rate", "evicted_keys", "expired_keys", "ops_per_sec", "dbs", "groups"}
	if got := slices.Sorted(maps.Keys(raw)); !slices.Equal(got, slices.Sorted(slices.Values(wantKeys))) {
		t.Errorf("top-level fields %v, want %v", got, wantKeys)
	}
	if got := slices.Sorted(maps.Keys(raw["memory"].(map[string]any))); !slices.Equal(got, []string{"fragmentation", "max", "peak", "policy", "used"}) {
		t.Errorf("memory fields %v", got)
	}

	var res render.StatsResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.KeyspaceHits != after.Hits || res.KeyspaceMisses != after.Misses || res.KeyspaceHits != 7 || res.KeyspaceMisses != 3 {
		t.Errorf("hits %d misses %d; the server says %d and %d (want 7 and 3)", res.KeyspaceHits, res.KeyspaceMisses, after.Hits, after.Misses)
	}
	if res.HitRate != 0.7 {
		t.Errorf("hit_rate %v, want 0.7", res.HitRate)
	}
	if res.DBs["db0"].Keys != dbsize || dbsize != 25 {
		t.Errorf("dbs.db0.keys %d, DBSIZE %d (want 25)", res.DBs["db0"].Keys, dbsize)
	}
	if res.Op != "stats" || res.Role != "master" || res.Cluster || res.Version != after.Version ||
		!regexp.MustCompile(`^redis://127\.0\.0\.1:\d+/0$`).MatchString(res.Addr) {
		t.Errorf("identity: op %q addr %q role %q cluster %v version %q", res.Op, res.Addr, res.Role, res.Cluster, res.Version)
	}
	if res.Memory.Used <= 0 || res.Memory.Policy != "noeviction" || res.Clients < 1 {
		t.Errorf("memory %+v clients %d", res.Memory, res.Clients)
	}
	want := map[string]render.StatsGroup{"products": {Keys: 21}, "categories": {Keys: 2}, "colors": {Keys: 1}}
	if !maps.Equal(res.Groups, want) {
		t.Errorf("groups %v, want %v (the session key belongs to none)", res.Groups, want)
	}
}

func TestStatsOnATerminalAndPiped(t *testing.T) {
	srv := redistest.Start(t)
	seedCatalog(t, srv.Client(t))

	tty, _, out, errOut := iostreams.Test()
	tty.SetStdoutTTY(true)
	if code := runCachectl(t, tty, "stats", "--redis", srv.URL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`(?m)^redis://127\.0\.0\.1:\d+/0  version \d+\.\d+\.\d+  master  standalone  up \d+s$`,
		`(?m)^hit rate +70\.0%  \(7 hits, 3 misses\)$`,
		`(?m)^memory +[0-9.]+[KM] used, [0-9.]+[KM] peak, no limit, policy noeviction, fragmentation \d+\.\d\d$`,
		`(?m)^DB +KEYS +EXPIRES +AVG TTL\ndb0 +25 +0 +0s$`,
		`(?m)^GROUP +KEYS\ncategories +2\ncolors +1\nproducts +21$`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("terminal output lacks %s:\n%s", want, out)
		}
	}

	piped, _, out, errOut := iostreams.Test()
	if code := runCachectl(t, piped, "stats", "--redis", srv.URL(), "--groups=false"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{`(?m)^keyspace_hits\t7$`, `(?m)^keyspace_misses\t3$`, `(?m)^hit_rate\t0\.7$`,
		`(?m)^db0\.keys\t25$`, `(?m)^memory_policy\tnoeviction$`, `(?m)^cluster\tfalse$`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("piped output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "group.") {
		t.Errorf("--groups=false still counted groups:\n%s", out)
	}
}

// A user whose ACL forbids INFO gets one clear line and exit 1, not a crash
// or a misleading "cannot connect".
func TestStatsWithoutInfoPermission(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{ACL: []string{"noinfo on >pw ~* +@all -info"}})
	for _, args := range [][]string{{"stats"}, {"stats", "--json"}, {"top", "--once"}, {"top", "--interval", "50ms"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			env := map[string]string{"HOME": t.TempDir(), envRedisPassword: "pw"}
			code := execute(context.Background(), ios, append(args, "--redis", srv.URL(), "--user", "noinfo"), func(k string) string { return env[k] })
			if code != exitFailed {
				t.Errorf("exit %d, want %d", code, exitFailed)
			}
			wantErr := regexp.MustCompile(`^cachectl: redis at redis://127\.0\.0\.1:\d+/0 does not allow INFO for this user \(NOPERM\)\nhint: grant it with ACL SETUSER <user> \+info, or connect as a user that has it \(--user\)\n$`)
			if !wantErr.MatchString(errOut.String()) {
				t.Errorf("stderr:\n%s", errOut)
			}
			if out.Len() > 0 {
				t.Errorf("a partial result on stdout:\n%s", out)
			}
		})
	}
}

// In a cluster every master is asked: the keys of all of them add up.
func TestStatsCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 0)
	seedKeys(t, cl.Client(t), productKeys(300)...)
	ios, _, out, errOut := iostreams.Test()
	if code := runCachectl(t, ios, "stats", "--json", "--redis", cl.SeedURL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res render.StatsResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Cluster || res.DBs["db0"].Keys != 300 || res.Groups["products"].Keys != 300 || res.Role != "master" {
		t.Errorf("cluster %v db0 %d products %d role %q", res.Cluster, res.DBs["db0"].Keys, res.Groups["products"].Keys, res.Role)
	}
}
