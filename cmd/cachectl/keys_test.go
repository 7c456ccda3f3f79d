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
	piped := regexp.MustCompile(`^group\tkeys\tmemory_bytes_est\tavg_ttl_s
products\t41\t\d+\t(59\d|600)\.\d
categories\t4\t\d+\t0\.0
colors\t0\t0\t0\.0
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
		regexp.MustCompile(`(?m)^GROUP\s+KEYS\s+MEMORY \(EST\.\)\s+AVG TTL$`),
		regexp.MustCompile(`(?m)^products\s+41\s+\d+(\.\d)?K\s+\d+m\d+s$`),
		regexp.MustCompile(`(?m)^categories\s+4\s+\d+B\s+-$`),
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
