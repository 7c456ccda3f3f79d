package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

const checkTestToken = "check-test-token"

// TestCheckScripts runs testdata/check/*.txtar: check and demo through the
// built binary, against reference catalog servers that each script gets to
// itself, cached in a private redis-server:
//
//	API_URL          caching under the prefix "checkok", writes need $ADMIN_TOKEN
//	NOCACHE_API_URL  the same server with --no-cache, under the prefix "checknc"
//	REDIS_URL        the redis-server both use
func TestCheckScripts(t *testing.T) {
	srv := redistest.Start(t)
	var scripts atomic.Int64
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/check",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Each script has its own prefixes, so scripts running in parallel
			// never clear each other's keys.
			name := strconv.FormatInt(scripts.Add(1), 10)
			env.Setenv("REDIS_URL", srv.URL())
			env.Setenv("ADMIN_TOKEN", checkTestToken)
			env.Setenv("OK_PREFIX", "checkok"+name)
			env.Setenv("NC_PREFIX", "checknc"+name)
			env.Setenv("API_URL", startCheckCatalog(t, env, srv, "checkok"+name, false))
			env.Setenv("NOCACHE_API_URL", startCheckCatalog(t, env, srv, "checknc"+name, true))
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/.config")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exit":  cmdExit,
			"redis": cmdRedis,
		},
	})
}

// startCheckCatalog serves a small reference catalog until the script ends.
func startCheckCatalog(t *testing.T, env *testscript.Env, srv *redistest.Server, prefix string, noCache bool) string {
	api, err := sandbox.StartAPI(context.Background(), sandbox.APIOptions{
		Redis: srv.ClientOptions(), RedisTimeout: time.Second, Store: catalog.StoreConfig{SeedProducts: 60},
		Schema: keyspace.New(prefix, 1), AdminToken: checkTestToken, NoCache: noCache,
	})
	if err != nil {
		t.Fatal(err)
	}
	env.Defer(api.Close)
	return api.URL.String()
}

// check clears the cache's groups as clear does: without a terminal only
// with --yes (or not at all with --skip-clear), on a terminal after asking.
func TestCheckAsksBeforeClearing(t *testing.T) {
	c := startCatalog(t, 0, nil)
	ctx := context.Background()
	const mine = "ecommerce:1:product:999999"
	seed := func() {
		t.Helper()
		if err := c.RDB.Set(ctx, mine, "cached", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	kept := func() bool {
		t.Helper()
		n, err := c.RDB.Exists(ctx, mine).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	run := func(ios *iostreams.IOStreams, args ...string) int {
		return runCLI(t, ios, append([]string{"check", "--api", c.URL, "--redis", c.Redis.URL()}, args...)...)
	}

	t.Run("piped without --yes", func(t *testing.T) {
		seed()
		ios, _, out, errOut := iostreams.Test()
		if code := run(ios); code != exitUsage {
			t.Errorf("exit %d, want 2", code)
		}
		lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "cachectl: refusing to clear ") ||
			!strings.Contains(lines[0], c.Redis.URL()) || lines[1] != "hint: add --yes to clear them, or --skip-clear on a shared environment to keep them" {
			t.Errorf("stderr:\n%s", errOut)
		}
		if out.Len() != 0 || !kept() {
			t.Errorf("the check ran (key kept: %v):\n%s", kept(), out)
		}
	})
	t.Run("piped with --yes", func(t *testing.T) {
		seed()
		ios, _, out, errOut := iostreams.Test()
		if code := run(ios, "--yes"); code != exitOK {
			t.Errorf("exit %d, want 0\n%s\n%s", code, out, errOut)
		}
		if kept() || !strings.Contains(out.String(), "ok\tclear\t") {
			t.Errorf("the groups were not cleared:\n%s", out)
		}
	})
	t.Run("piped with --skip-clear", func(t *testing.T) {
		seed()
		ios, _, out, errOut := iostreams.Test()
		if code := run(ios, "--skip-clear"); code != exitOK {
			t.Errorf("exit %d, want 0\n%s\n%s", code, out, errOut)
		}
		if !kept() {
			t.Error("--skip-clear deleted a key")
		}
	})
	for _, answer := range []string{"n", "y"} {
		t.Run("on a terminal, answering "+answer, func(t *testing.T) {
			seed()
			ios, in, out, errOut := iostreams.Test()
			ios.SetStdinTTY(true)
			ios.SetStderrTTY(true)
			in.WriteString(answer + "\n")
			code := run(ios)
			prompt := regexp.MustCompile(`about to delete \d+ keys under "ecommerce:1:" from redis://127\.0\.0\.1:\d+/0 db 0\n  products: \d+, categories: \d+, colors: \d+\ndelete them\? \[y/N\] `)
			if !prompt.MatchString(errOut.String()) {
				t.Errorf("no prompt with the target and the counts:\n%s", errOut)
			}
			if answer == "y" {
				if code != exitOK || kept() {
					t.Errorf("answered y: exit %d, key kept %v\n%s", code, kept(), out)
				}
				return
			}
			if code != exitFailed || !kept() || !strings.Contains(errOut.String(), "cachectl: not confirmed: nothing deleted") {
				t.Errorf("answered n: exit %d (want 1), key kept %v\nstdout:\n%s\nstderr:\n%s", code, kept(), out, errOut)
			}
			if strings.Contains(out.String(), "endpoint ") {
				t.Errorf("the check went on after the refusal:\n%s", out)
			}
		})
	}
}
