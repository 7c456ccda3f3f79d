package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/render"
)

// seedKeysGroups fills 40 products (500-byte values, 10 min TTL), 3
// categories without TTL, a binary-named product and category and a session that belongs
// to no group.
func seedKeysGroups(t *testing.T) *redistest.Server {
	t.Helper()
	srv := redistest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	p := c.Pipeline()
	for i := range 40 {
		p.Set(ctx, fmt.Sprintf("ecommerce:1:product:%d", i), strings.Repeat("x", 500), 10*time.Minute)
	}
	for i := range 3 {
		p.Set(ctx, fmt.Sprintf("ecommerce:1:category:%d", i), "c", 0)
	}
	p.Set(ctx, "ecommerce:1:product:\xff\n", strings.Repeat("x", 500), 10*time.Minute)
	p.Set(ctx, "ecommerce:1:categories:\xff\n", "c", 0)
	p.Set(ctx, "ecommerce:1:session:1", "s", 0)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestKeysJSONContract(t *testing.T) {
	// Exact counts per group, samples with TTL and size, an estimate that
	// follows from them, and valid JSON whatever the key bytes.
	srv := seedKeysGroups(t)
	ios, _, out, errOut := iostreams.Test()
	if code := runCLI(t, ios, "keys", "--json", "--samples", "50", "--redis", srv.URL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !json.Valid(out.Bytes()) {
		t.Fatalf("invalid JSON: %q", out)
	}
	var res keysResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Op != "keys" || res.TotalKeys != 45 {
		t.Errorf("op %q total %d, want keys and 45 (the session is in no group)", res.Op, res.TotalKeys)
	}
	prod, cats, cols := res.Groups["products"], res.Groups["categories"], res.Groups["colors"]
	if prod.Keys != 41 || cats.Keys != 4 || cols.Keys != 0 || len(res.Groups) != 3 {
		t.Fatalf("groups %+v", res.Groups)
	}
	if len(prod.Samples) != 41 || prod.AvgTTLs < 590 || prod.AvgTTLs > 600 {
		t.Errorf("products: %d samples, avg TTL %.1fs; want all 41 and about 600s", len(prod.Samples), prod.AvgTTLs)
	}
	if per := prod.MemoryBytesEst / prod.Keys; per < 500 || per > 1000 {
		t.Errorf("products: estimated %d bytes per key of 500-byte values", per)
	}
	for _, s := range cats.Samples {
		if s.TTLs != -1 || s.Bytes <= 0 {
			t.Errorf("category sample %+v: want ttl_s -1 (no expiry) and a size", s)
		}
	}
	if cols.Samples == nil || len(cols.Samples) != 0 {
		t.Errorf("an empty group's samples should be [], got %#v", cols.Samples)
	}
	if !strings.Contains(out.String(), `"samples":[]`) {
		t.Errorf("empty samples are not [] in %s", out)
	}
}

func TestKeysTableOnATerminalAndPiped(t *testing.T) {
	srv := seedKeysGroups(t)

	ios, _, out, errOut := iostreams.Test()
	if code := runCLI(t, ios, "keys", "--redis", srv.URL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	piped := regexp.MustCompile(`^group\tkeys\tmemory_bytes_est\tavg_ttl_s\tttl_p50_s\tttl_p90_s\tno_ttl\texpiring_soon
products\t41\t\d+\t(59\d|600)\.\d\t(59\d|600)\.\d\t(59\d|600)\.\d\t0\t0\.0000
categories\t4\t\d+\t0\.0\t0\.0\t0\.0\t4\t0\.0000
colors\t0\t0\t0\.0\t0\.0\t0\.0\t0\t0\.0000
$`)
	if !piped.MatchString(out.String()) {
		t.Errorf("piped output:\n%s", out)
	}

	ios, _, out, errOut = iostreams.Test()
	ios.SetStdoutTTY(true)
	if code := runCLI(t, ios, "keys", "--samples", "50", "--redis", srv.URL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	tty := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^GROUP\s+KEYS\s+MEMORY \(EST\.\)\s+AVG TTL\s+TTL P50/P90\s+NO TTL\s+SOON$`),
		regexp.MustCompile(`(?m)^products\s+41\s+\d+(\.\d)?K\s+\d+m\d+s\s+\d+m/\d+m\s+0\s+0\.0%$`),
		regexp.MustCompile(`(?m)^categories\s+4\s+\d+B\s+-\s+-\s+4\s+0\.0%$`),
		regexp.MustCompile(`(?m)^BIGGEST \(EST\.\)\s+GROUP\s+SIZE$`),
		regexp.MustCompile(`(?m)^total\s+45\s`),
		regexp.MustCompile(`(?m)^SAMPLE\s+GROUP\s+TTL\s+SIZE$`),
		regexp.MustCompile(`(?m)^ecommerce:1:category:0\s+categories\s+none\s+\d+B$`),
	} {
		if !want.MatchString(tty) {
			t.Errorf("terminal output lacks %s:\n%s", want, tty)
		}
	}
	// The binary category sorts first among its samples: it must show escaped.
	if strings.Contains(tty, "\xff") || !strings.Contains(tty, `"ecommerce:1:categories:\xff\n"  categories`) {
		t.Errorf("a binary key leaked raw bytes onto the terminal:\n%q", tty)
	}
}

func TestKeysWithoutMemoryPermission(t *testing.T) {
	// A user who may not run MEMORY USAGE still gets exact counts and TTLs;
	// sizes are unknown (-1 in JSON, n/a on a terminal), not an error.
	srv := redistest.Start(t, redistest.Options{ACL: []string{"nomem on >nomem-pw ~* +@all -memory"}})
	seedKeys(t, srv.Client(t), "ecommerce:1:product:1", "ecommerce:1:product:2", "ecommerce:1:categories:all")
	url := "redis://nomem:nomem-pw@" + srv.Addr + "/0"

	ios, _, out, errOut := iostreams.Test()
	if code := runCLI(t, ios, "keys", "--json", "--redis", url); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res keysResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if p := res.Groups["products"]; p.Keys != 2 || p.MemoryBytesEst != -1 || len(p.Samples) != 2 || p.Samples[0].Bytes != -1 {
		t.Errorf("products = %+v, want 2 keys with unknown sizes", p)
	}

	ios, _, out, errOut = iostreams.Test()
	ios.SetStdoutTTY(true)
	if code := runCLI(t, ios, "keys", "--redis", url); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^products\s+2\s+n/a\s`).MatchString(out.String()) || !regexp.MustCompile(`(?m)^total\s+3\s+n/a`).MatchString(out.String()) {
		t.Errorf("terminal output:\n%s", out)
	}
}

// keysResult is the JSON of `cachectl keys`, as the tests decode it.
type keysResult = render.KeysReport

func TestKeysTTLHealthAndBiggestInJSON(t *testing.T) {
	// keys --json answers what a user asks of a group: how many keys never
	// expire, how TTLs spread, and which keys are the biggest.
	srv := redistest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	p := c.Pipeline()
	for i := range 30 {
		p.Set(ctx, fmt.Sprintf("ecommerce:1:product:%d", i), "v", 10*time.Minute)
	}
	for i := range 10 {
		p.Set(ctx, fmt.Sprintf("ecommerce:1:products:list:%d", i), "v", 0)
	}
	p.Set(ctx, "ecommerce:1:products:list:big", strings.Repeat("x", 64<<10), 30*time.Second)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	ios, _, out, errOut := iostreams.Test()
	if code := runCLI(t, ios, "keys", "--json", "--samples", "100", "--biggest", "1", "--group", "products", "--redis", srv.URL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res keysResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	g := res.Groups["products"]
	if g.Keys != 41 || g.NoTTL != 10 || g.TTLP90s < 590 || g.TTLP90s > 600 || g.ExpiringSoon < 0.024 || g.ExpiringSoon > 0.025 {
		t.Errorf("products: keys %d no_ttl %d p90 %.0fs soon %.4f; want 41, 10, 600s, 1/41", g.Keys, g.NoTTL, g.TTLP90s, g.ExpiringSoon)
	}
	if len(g.Biggest) != 1 || g.Biggest[0].Key != "ecommerce:1:products:list:big" || g.Biggest[0].Bytes < 64<<10 || g.BiggestEstimated {
		t.Errorf("biggest %+v (estimated %v): want the 64 KB listing, found by sizing every key", g.Biggest, g.BiggestEstimated)
	}
	if g.Source["keys"] != "scan" || !g.Exact["keys"] || g.Exact["memory"] {
		t.Errorf("source %v exact %v: counts exact from scan, memory an estimate", g.Source, g.Exact)
	}
	if res.Server == nil || res.Server.KeySizesSource != "unavailable" {
		t.Errorf("server figures %+v: Redis 7 has no INFO keysizes, and says so", res.Server)
	}
}

func TestKeysPerNodeAndSkewOnCluster(t *testing.T) {
	// On a cluster each master's part is shown, and a group pinned to one
	// node by a hash tag draws a warning naming that node.
	cl := redistest.StartCluster(t, 3, 0)
	c := cl.Client(t)
	ctx := context.Background()
	for i := range 1200 {
		if err := c.Set(ctx, fmt.Sprintf("ecommerce:1:category:{pin}%d", i), "v", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	slot, err := c.ClusterKeySlot(ctx, "ecommerce:1:category:{pin}0").Result()
	if err != nil {
		t.Fatal(err)
	}
	var home string
	for _, m := range cl.Masters {
		for _, s := range cl.SlotsOf(t, m) {
			if s == int(slot) {
				home = m.Addr
			}
		}
	}
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(true)
	if code := runCLI(t, ios, "keys", "--group", "categories", "--redis", cl.SeedURL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^warning: skew: categories: node ` + regexp.QuoteMeta(home) + ` holds 100% of the keys for 33% of the slots`).MatchString(errOut.String()) {
		t.Errorf("stderr lacks the skew warning for %s:\n%s", home, errOut)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(home) + `\s+categories\s+1200\s+\S+\s+59m/59m\s+~0\s+33\.\d%$`).MatchString(out.String()) {
		t.Errorf("node table lacks %s with 1200 keys:\n%s", home, out)
	}

	ios, _, out, errOut = iostreams.Test()
	if code := runCLI(t, ios, "keys", "--json", "--group", "categories", "--redis", cl.SeedURL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res keysResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	g := res.Groups["categories"]
	if len(g.Nodes) != 3 || g.Skew == "" || len(res.Skew) != 1 {
		t.Fatalf("categories: nodes %+v skew %q", g.Nodes, g.Skew)
	}
	for _, n := range g.Nodes {
		want := int64(0)
		if n.Addr == home {
			want = 1200
		}
		if n.Keys != want || n.ID == "" {
			t.Errorf("node %+v: want %d keys and its id", n, want)
		}
		if n.Addr == home && (n.TTLP50s < 3500 || n.NoTTL != 0 || len(n.Biggest) == 0 || n.Exact["no_ttl"]) {
			t.Errorf("node %s: ttl p50 %.0fs, no_ttl %d, biggest %v, exact %v: want about an hour, 0, its keys, no_ttl sampled",
				n.Addr, n.TTLP50s, n.NoTTL, n.Biggest, n.Exact)
		}
	}
	if res.Server == nil || len(res.Server.Nodes) != 3 || res.Server.Nodes[0].Source != "scan" {
		t.Errorf("server nodes %+v: Redis 7 has no SLOT-STATS, the figure is labelled scan", res.Server)
	}
}
