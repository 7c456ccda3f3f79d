package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

// The paths the other tests of secrets do not take: a plan file (and a
// plan on stdout) and its apply, clear --url and trace with credentials in
// --api and in the URLs themselves, bench's JUnit report, named baseline
// and history, and the audit trail of a clear given -a. Neither the Redis
// password nor the API's shows in any output, file or the audit stream.
func TestSecretsStayOutOfPlansReportsAndTraces(t *testing.T) {
	const redisPW = "RedisPW-9x8y"
	rs := redistest.Start(t, redistest.Options{Password: redisPW})
	var auth basicAuth
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{
		Redis: rs.ClientOptions(), Store: catalog.StoreConfig{SeedProducts: 50},
		Schema: keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion), RedisTimeout: 2 * time.Second, Wrap: auth.wrap,
	})
	apiURL := withCredentials(api.URL.String(), apiSecret)
	colors := apiURL + "/api/colors/"
	withPW := "redis://:" + redisPW + "@" + rs.Addr + "/0"
	plain := "redis://" + rs.Addr + "/0"
	dir := t.TempDir()
	seedKeys(t, rs.Client(t), productKeys(20)...)
	bench := []string{"bench", "--only", "colors", "--cold-samples", "1", "-n", "4", "-c", "2", "--api", apiURL, "--redis", withPW}
	for _, args := range [][]string{
		{"clear", "--products", "--plan", dir + "/plan.json", "-v", "--redis", withPW},
		{"clear", "--products", "--plan", "-", "--redis", withPW},
		{"clear", "--apply", dir + "/plan.json", "--yes", "-v", "--redis", withPW},
		{"clear", "--url", colors, "--yes", "--rewarm", "-v", "--json", "--api", apiURL, "--redis", plain, "-a", redisPW},
		{"clear", "--url", "/api/categories/", "--yes", "-v", "--api", apiURL, "--redis", withPW, "--audit-stream"},
		{"trace", "-v", "--json", "--api", apiURL, "--redis", withPW, colors},
		{"trace", "-v", "--api", apiURL, "--redis", plain, "-a", redisPW, colors},
		append(bench, "--format", "junit", "--report", dir+"/bench.xml"),
		append(bench, "--save-baseline", "main", "--baseline-dir", dir+"/baselines"),
		append(bench, "--baseline", "main", "--max-regression", "100000", "--baseline-dir", dir+"/baselines", "--history", dir+"/history.jsonl"), // the gate is not under test
		{"audit", "--json", "--redis", withPW},
	} {
		ios, _, out, errOut := iostreams.Test()
		env := map[string]string{"HOME": dir, "XDG_CONFIG_HOME": dir, "XDG_STATE_HOME": dir}
		if code := execute(t.Context(), ios, args, func(k string) string { return env[k] }); code != exitOK {
			t.Errorf("%s: exit %d\n%s", strings.Join(args[:2], " "), code, errOut)
		}
		if all := out.String() + errOut.String(); strings.Contains(all, redisPW) || strings.Contains(all, apiSecret) {
			t.Errorf("%s shows a password:\n%s", strings.Join(args, " "), all)
		}
	}
	files := 0
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		if data, _ := os.ReadFile(path); strings.Contains(string(data), redisPW) || strings.Contains(string(data), apiSecret) {
			t.Errorf("%s holds a password", path)
		}
		return nil
	})
	if files < 5 { // the plan, the report, the baseline, its history, the audit trail
		t.Errorf("only %d files were written", files)
	}
	entries, err := rs.Client(t).XRange(t.Context(), "ecommerce:cachectl:audit", "-", "+").Result()
	if err != nil || len(entries) == 0 {
		t.Fatalf("the audit stream: %d entries, %v", len(entries), err)
	}
	for _, e := range entries {
		for _, v := range e.Values {
			if s, _ := v.(string); strings.Contains(s, redisPW) || strings.Contains(s, apiSecret) {
				t.Errorf("the audit stream holds a password: %s", s)
			}
		}
	}
}
