package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/check"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

// readOnlyClass is what every command does under --read-only: "refused"
// (it writes: refused up front), "subset" (it runs its reading steps only),
// "read" (it only reads Redis and sends the API GETs, so it runs). A new
// command must be placed here, and its write paths in the tests below.
var readOnlyClass = map[string]string{
	"clear": "refused", "bench": "refused", "serve": "refused", "demo": "refused with --redis",
	"check": "subset",
	"keys":  "read", "stats": "read", "ping": "read", "top": "read", "warm": "read", "trace": "read",
	"audit": "read", "exporter": "read", "man": "read", "completion": "read", "version": "read", "exit-codes": "read", "help": "read",
}

func TestEveryCommandIsClassifiedForReadOnly(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := newRootCmd(newFactory(ios, func(string) string { return "" }))
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if _, ok := readOnlyClass[c.Name()]; !ok {
			t.Errorf("command %q is not classified for --read-only: does it delete or write Redis, or send the API a non-GET? add it to readOnlyClass and, if it writes, to the write paths of TestReadOnlyRefusesEveryWritePath", c.Name())
		}
	}
}

// roFixture is a Redis with seeded keys and the reference API caching in
// it, whose handler counts the requests that could change its data.
type roFixture struct {
	redis  *redistest.Server
	api    string
	token  string
	writes atomic.Int64
	seeded []string
}

func startReadOnlyFixture(t *testing.T) *roFixture {
	t.Helper()
	fx := &roFixture{redis: redistest.Start(t)}
	schema := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{
		Redis: fx.redis.ClientOptions(), Store: catalog.StoreConfig{SeedProducts: 50}, Schema: schema,
		RedisTimeout: 2 * time.Second, AdminToken: "admin-secret",
		Wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet && r.Method != http.MethodHead {
					fx.writes.Add(1)
				}
				h.ServeHTTP(w, r)
			})
		},
	})
	fx.api, fx.token = api.URL.String(), api.AdminToken
	fx.seeded = append(productKeys(20), "ecommerce:1:categories:all", "ecommerce:1:product_colors:all", "ecommerce:1:session:abc")
	seedKeys(t, fx.redis.Client(t), fx.seeded...)
	return fx
}

// run runs cachectl with the read-only switch on (flag, env or config) and
// returns the exit code, stdout and stderr.
func (fx *roFixture) run(t *testing.T, by string, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"HOME": dir, "XDG_CONFIG_HOME": dir, "XDG_STATE_HOME": dir,
		envRedisURL: fx.redis.URL(), envAPI: fx.api, envAdminToken: fx.token}
	switch by {
	case "--read-only":
		args = append(args, "--read-only")
	case envReadOnly:
		env[envReadOnly] = "yes"
	case "config":
		path := filepath.Join(dir, "cachectl.yaml")
		if err := os.WriteFile(path, []byte("read_only: true\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env[envConfig], by = path, "read_only in "+path
	}
	ios, _, out, errOut := iostreams.Test()
	code := execute(context.Background(), ios, args, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

// unchanged fails unless Redis holds exactly the seeded keys and the API
// got no write.
func (fx *roFixture) unchanged(t *testing.T) {
	t.Helper()
	c := fx.redis.Client(t)
	keys, err := c.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := slices.Sorted(slices.Values(fx.seeded))
	if !slices.Equal(keys, want) {
		t.Errorf("redis holds %d keys, want the %d seeded ones untouched", len(keys), len(want))
	}
	if n := fx.writes.Load(); n != 0 {
		t.Errorf("the API got %d requests that may write", n)
	}
}

// survived fails unless every seeded key is still there and the API got no
// write (commands that send GETs may add the keys the API caches).
func (fx *roFixture) survived(t *testing.T) {
	t.Helper()
	if n := exists(t, fx.redis.Client(t), fx.seeded...); n != int64(len(fx.seeded)) {
		t.Errorf("%d of the %d seeded keys are left", n, len(fx.seeded))
	}
	if n := fx.writes.Load(); n != 0 {
		t.Errorf("the API got %d requests that may write", n)
	}
}

var readOnlySwitches = []string{"--read-only", envReadOnly, "config"}

// Every path that deletes or writes Redis or sends the API a non-GET is
// refused with exit 2, says read-only and names the switch, and leaves
// Redis and the API as they were.
func TestReadOnlyRefusesEveryWritePath(t *testing.T) {
	fx := startReadOnlyFixture(t)
	dir := t.TempDir()
	coldFile := filepath.Join(dir, "cold.yaml")
	postFile := filepath.Join(dir, "post.yaml")
	os.WriteFile(coldFile, []byte("- {name: colors, url: /api/colors/}\n"), 0o600)
	os.WriteFile(postFile, []byte("- {name: stock, url: /api/variants/1/reduce_stock/, method: POST, cold: false}\n"), 0o600)
	plan := filepath.Join(dir, "all.plan.json")
	if code, _, stderr := fx.run(t, "", "clear", "--all", "--plan", plan); code != exitOK {
		t.Fatalf("clear --plan without read-only: exit %d: %s", code, stderr)
	}
	paths := map[string][]string{
		"clear":                     {"clear", "--products", "--yes"},
		"clear --apply":             {"clear", "--apply", plan, "--yes"},
		"clear --all":               {"clear", "--all", "--yes"},
		"clear --pattern":           {"clear", "--pattern", "session:*", "--yes"},
		"clear --url":               {"clear", "--url", "/api/categories/", "--yes"},
		"bench":                     {"bench", "-n", "2", "--cold-samples", "1"},
		"bench --endpoints cold":    {"bench", "--endpoints", coldFile, "-n", "2", "--cold-samples", "1"},
		"bench --endpoints non-GET": {"bench", "--endpoints", postFile, "-n", "2"},
		"serve":                     {"serve", "--listen", "127.0.0.1:0"},
		"demo --redis":              {"demo", "--redis", fx.redis.URL()},
	}
	for _, by := range readOnlySwitches {
		for name, args := range paths {
			t.Run(by+"/"+name, func(t *testing.T) {
				code, _, stderr := fx.run(t, by, args...)
				if code != exitUsage || !strings.HasPrefix(stderr, "cachectl: read-only (") {
					t.Errorf("exit %d, stderr %q: want exit 2 and a read-only refusal", code, stderr)
				}
				if want := map[string]string{"config": "read_only in "}[by]; want == "" && !strings.Contains(stderr, "("+by+")") ||
					want != "" && !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not name the switch %s", stderr, by)
				}
				fx.unchanged(t)
			})
		}
	}
}

// check runs its reading steps and says which it skipped, and why.
func TestReadOnlyCheckRunsItsReadingSteps(t *testing.T) {
	fx := startReadOnlyFixture(t)
	for _, by := range readOnlySwitches {
		t.Run(by, func(t *testing.T) {
			code, out, stderr := fx.run(t, by, "check", "--json")
			var rep check.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
				t.Fatalf("exit %d, %v: %s %s", code, err, out, stderr)
			}
			skipped := map[string]bool{}
			for _, s := range rep.Steps {
				if s.Skipped && strings.Contains(s.Detail, "read-only") {
					skipped[s.Name] = true
				}
			}
			for _, name := range []string{"clear", "endpoints", "invalidation"} {
				if !skipped[name] {
					t.Errorf("step %s not skipped as read-only: %+v", name, rep.Steps)
				}
			}
			fx.survived(t)
		})
	}
}

// The reading commands still work, and delete or write nothing.
func TestReadOnlyAllowsTheReadingPaths(t *testing.T) {
	fx := startReadOnlyFixture(t)
	warmOnly := filepath.Join(t.TempDir(), "warm.yaml")
	os.WriteFile(warmOnly, []byte("- {name: colors, url: /api/colors/, cold: false}\n"), 0o600)
	paths := map[string][]string{
		"keys":              {"keys"},
		"stats":             {"stats"},
		"ping":              {"ping"},
		"top --once":        {"top", "--once"},
		"trace":             {"trace", "/api/colors/"},
		"clear --dry-run":   {"clear", "--all", "--dry-run"},
		"clear --plan":      {"clear", "--all", "--plan", filepath.Join(t.TempDir(), "p.json")},
		"clear --url --dry": {"clear", "--url", "/api/colors/", "--dry-run"},
		"warm":              {"warm"},
		"bench warm-only":   {"bench", "--endpoints", warmOnly, "-n", "5"},
		"audit":             {"audit"},
	}
	for name, args := range paths {
		t.Run(name, func(t *testing.T) {
			if code, _, stderr := fx.run(t, "--read-only", args...); code != exitOK {
				t.Errorf("exit %d: %s", code, stderr)
			}
			fx.survived(t)
		})
	}
}

// Under the up-front refusals, the connections themselves refuse: the
// belt, mapped to exit 2 by type.
func TestReadOnlyConnectionsRefuseWrites(t *testing.T) {
	fx := startReadOnlyFixture(t)
	ios, _, _, _ := iostreams.Test()
	f := newFactory(ios, func(string) string { return "" })
	f.opts = globalOptions{RedisURL: fx.redis.URL(), API: fx.api, Timeout: time.Second, ReadOnly: true}
	defer f.Close()
	ctx := context.Background()
	conn, err := f.Redis(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Client.Unlink(ctx, fx.seeded[0]).Err(); exitCode(ctx, err) != exitUsage {
		t.Errorf("UNLINK on a read-only connection: %v (exit %d), want a read-only refusal (exit 2)", err, exitCode(ctx, err))
	}
	_, client, err := f.API()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, fx.api+"/api/variants/1/reduce_stock/", strings.NewReader(`{"quantity":1}`))
	if _, err := client.Do(req); exitCode(ctx, err) != exitUsage {
		t.Errorf("POST on the read-only API client: %v, want a read-only refusal (exit 2)", err)
	}
	fx.unchanged(t)
}

func TestReadOnlyEnvironmentValues(t *testing.T) {
	for v, want := range map[string]bool{"1": true, "true": true, "YES": true, "0": false, "no": false, "false": false} {
		o, f, code, stderr := runRoot(t, map[string]string{envReadOnly: v}, "capture")
		if code != 0 || o.ReadOnly != want || (f.readOnlyBy != "") != want {
			t.Errorf("%s=%s: read-only %v by %q (exit %d %s), want %v", envReadOnly, v, o.ReadOnly, f.readOnlyBy, code, stderr, want)
		}
	}
	if _, _, code, stderr := runRoot(t, map[string]string{envReadOnly: "maybe"}, "capture"); code != exitUsage || !strings.Contains(stderr, envReadOnly) {
		t.Errorf("%s=maybe: exit %d %q, want a usage error naming it", envReadOnly, code, stderr)
	}
	// The flag beats the environment, which beats the config file.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("read_only: true\n"), 0o600)
	if o, _, _, _ := runRoot(t, map[string]string{envReadOnly: "0", envConfig: cfg}, "capture"); o.ReadOnly {
		t.Errorf("%s=0 did not override read_only: true in the config file", envReadOnly)
	}
	if o, _, _, _ := runRoot(t, map[string]string{envReadOnly: "1"}, "capture", "--read-only=false"); o.ReadOnly {
		t.Errorf("--read-only=false did not override %s=1", envReadOnly)
	}
}
