package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
)

// tmuxTerm is a private tmux server with one 120×40 window: a real terminal
// for the dashboard.
type tmuxTerm struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed; the dashboard's end-to-end test needs a real terminal: " +
			"apt-get install tmux (scripts/test.sh installs it)")
	}
	// A short path: unix socket names are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "tmux")
	if err != nil {
		t.Fatal(err)
	}
	tm := &tmuxTerm{t: t, socket: filepath.Join(dir, "s")}
	t.Cleanup(func() {
		_ = exec.Command("tmux", "-S", tm.socket, "kill-server").Run()
		os.RemoveAll(dir)
	})
	return tm
}

func (tm *tmuxTerm) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (tm *tmuxTerm) screen() string { return tm.run("capture-pane", "-p", "-t", "top") }

// keys sends keys to the dashboard: tmux key names (Enter, Escape) or, with
// literal, text as typed.
func (tm *tmuxTerm) keys(literal bool, keys ...string) {
	args := []string{"send-keys", "-t", "top"}
	if literal {
		args = append(args, "-l")
	}
	tm.run(append(args, keys...)...)
}

// startTop builds cachectl and runs `top ARGS` in the window; the file it
// returns holds EXIT=<code> once top exits.
func (tm *tmuxTerm) startTop(args string) (exitFile string) {
	tm.t.Helper()
	bin := filepath.Join(tm.t.TempDir(), "cachectl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tm.t.Fatalf("go build: %v\n%s", err, out)
	}
	exitFile = filepath.Join(tm.t.TempDir(), "exit")
	cmd := fmt.Sprintf("XDG_CONFIG_HOME=%s %s top %s; echo EXIT=$? > %s; sleep 30", tm.t.TempDir(), bin, args, exitFile)
	tm.run("new-session", "-d", "-x", "120", "-y", "40", "-s", "top", cmd)
	return exitFile
}

// quit presses q and expects top to exit 0.
func (tm *tmuxTerm) quit(exitFile string) {
	tm.t.Helper()
	tm.keys(false, "q")
	var exit string
	testwait.Until(tm.t, 5*time.Second, "top to exit after q", func() error {
		if b, err := os.ReadFile(exitFile); err == nil {
			if exit = strings.TrimSpace(string(b)); exit != "" {
				return nil
			}
		}
		return fmt.Errorf("the screen:\n%s", tm.screen())
	})
	if exit != "EXIT=0" {
		tm.t.Errorf("after q: %s, want EXIT=0; the screen:\n%s", exit, tm.screen())
	}
}

// waitScreen polls the pane until cond holds, for at most limit.
func (tm *tmuxTerm) waitScreen(limit time.Duration, what string, cond func(string) bool) string {
	tm.t.Helper()
	var s string
	testwait.Until(tm.t, limit, what, func() error {
		if s = tm.screen(); cond(s) {
			return nil
		}
		return fmt.Errorf("the screen:\n%s", s)
	})
	return s
}

func contains(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				return false
			}
		}
		return true
	}
}

var (
	intervalHitRate = regexp.MustCompile(`interval (\d+\.\d)%`)
	productsRow     = regexp.MustCompile(`│[▸ ] products +~?(\d+) `)
)

// The dashboard in a real terminal against a Redis under load: the hit rate
// and the group counts appear and change; stopping Redis shows the
// disconnected state within seconds; starting it again recovers by itself;
// q exits 0.
func TestTopDashboardInTmux(t *testing.T) {
	tm := newTmux(t)
	srv := redistest.Start(t)
	c := srv.Client(t)

	// Load: GETs on a few product and category keys (re-SET when missing,
	// as an application would); missRatio of them on keys that never exist.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var missEvery atomic.Int64
	missEvery.Store(10)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(0); ctx.Err() == nil; i++ {
			key := fmt.Sprintf("ecommerce:1:product:%d", i%5)
			if i%3 == 0 {
				key = fmt.Sprintf("ecommerce:1:category:%d", i%2)
			}
			if n := missEvery.Load(); i%n == 0 {
				key = "ecommerce:1:product:missing"
			}
			if err := c.Get(ctx, key).Err(); err != nil && !strings.Contains(key, "missing") {
				c.Set(ctx, key, "v", time.Hour)
			}
			time.Sleep(2 * time.Millisecond) // a steady trickle of traffic, on purpose
		}
	}()
	t.Cleanup(func() { stop(); wg.Wait() })

	exitFile := tm.startTop("--interval 250ms --api http://127.0.0.1:1 --redis " + srv.URL())

	s := tm.waitScreen(10*time.Second, "the dashboard with a hit rate and the groups", func(s string) bool {
		return intervalHitRate.MatchString(s) && productsRow.MatchString(s) && strings.Contains(s, "keyspace by group")
	})
	first := intervalHitRate.FindStringSubmatch(s)[1]
	products := productsRow.FindStringSubmatch(s)[1]

	// Mostly misses now: the interval hit rate falls.
	missEvery.Store(2)
	tm.waitScreen(10*time.Second, "the hit rate to change from "+first+"%", func(s string) bool {
		m := intervalHitRate.FindStringSubmatch(s)
		return m != nil && m[1] != first
	})
	// More products, and r counts them exactly now.
	for i := range 40 {
		c.Set(context.Background(), fmt.Sprintf("ecommerce:1:product:%d", 100+i), "v", time.Hour)
	}
	tm.keys(false, "r")
	tm.waitScreen(10*time.Second, "the products count to change from "+products, func(s string) bool {
		m := productsRow.FindStringSubmatch(s)
		return m != nil && m[1] != products && strings.Contains(s, "exact")
	})

	srv.Stop()
	tm.waitScreen(5*time.Second, "the disconnected state", contains("disconnected, retrying", "stale"))
	srv.Restart(t)
	tm.waitScreen(8*time.Second, "the recovery", func(s string) bool {
		return strings.Contains(s, "live ·") && !strings.Contains(s, "disconnected") && !strings.Contains(s, "stale")
	})

	tm.quit(exitFile)
}

// groupRow matches a row of the keyspace panel: the group's name and keys.
var groupRow = regexp.MustCompile(`│[▸ ] (products|categories|colors|other) +~?(\d+)`)

func groupRows(screen string) []string {
	var names []string
	for _, m := range groupRow.FindAllStringSubmatch(screen, -1) {
		names = append(names, m[1])
	}
	return names
}

// The groups' keys in a real terminal against a Redis that needs a
// password given in the URL: / narrows the groups to those that match,
// enter on a group shows its biggest key (planted), d shows the exact
// count and the clear command line, with no password on screen, and
// nothing is deleted.
func TestTopGroupKeysInTmux(t *testing.T) {
	tm := newTmux(t)
	const password = "tmux-s3cret-pw"
	srv := redistest.Start(t, redistest.Options{Password: password})
	c := srv.Client(t)
	ctx := context.Background()
	for i := range 15 {
		c.Set(ctx, fmt.Sprintf("ecommerce:1:product:%d", i+1), "v", time.Hour)
	}
	const big = "ecommerce:1:product:777"
	c.Set(ctx, big, strings.Repeat("x", 200<<10), 30*time.Minute)
	for i := range 3 {
		c.Set(ctx, fmt.Sprintf("ecommerce:1:category:%d", i+1), "v", time.Hour)
	}
	c.Set(ctx, "ecommerce:1:product_colors:all", "v", 0)
	url := fmt.Sprintf("redis://:%s@%s/0", password, srv.Addr)
	exitFile := tm.startTop("--interval 250ms --api http://127.0.0.1:1 --redis " + url)

	tm.waitScreen(10*time.Second, "the groups", func(s string) bool {
		return slices.Equal(groupRows(s), []string{"products", "categories", "colors", "other"})
	})
	tm.keys(false, "/")
	tm.keys(true, "COL")
	s := tm.waitScreen(5*time.Second, "only colors", func(s string) bool {
		return slices.Equal(groupRows(s), []string{"colors"}) && strings.Contains(s, `filter "COL"`)
	})
	tm.keys(false, "Enter")
	tm.waitScreen(5*time.Second, "the filter kept", func(s string) bool {
		return slices.Equal(groupRows(s), []string{"colors"}) && strings.Contains(s, "q quit")
	})
	tm.keys(false, "Escape")
	tm.waitScreen(5*time.Second, "every group again, colors still selected", func(s string) bool {
		return len(groupRows(s)) == 4 && !strings.Contains(s, `filter "`) && strings.Contains(s, "│▸ colors")
	})
	tm.keys(false, "k", "Up")
	tm.waitScreen(5*time.Second, "products selected", contains("│▸ products"))

	tm.keys(false, "Enter")
	s = tm.waitScreen(10*time.Second, "the details of products with the planted key", contains(
		"group products · details", "keys 16 exact", "biggest keys", big, "ttl histogram", "≤30m"))
	if i, j := strings.Index(s, big), strings.Index(s, "ecommerce:1:product:1 "); j >= 0 && j < i {
		t.Errorf("the planted key is not listed first:\n%s", s)
	}
	tm.keys(false, "Escape")
	tm.waitScreen(5*time.Second, "the dashboard again", contains("keyspace by group", "ops/s"))

	tm.keys(false, "d")
	s = tm.waitScreen(10*time.Second, "the dry run", contains("would delete 16 keys (group products)",
		"cachectl clear --group products --redis redis://"+srv.Addr+"/0"))
	if strings.Contains(s, password) {
		t.Errorf("the password is on screen:\n%s", s)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 20 {
		t.Errorf("DBSIZE %d (%v) after the dry run, want the 20 keys seeded", n, err)
	}
	tm.keys(false, "Escape")
	// Escape then q at once would read as alt+q: wait for the dashboard first.
	tm.waitScreen(5*time.Second, "the dashboard after the dry run", contains("keyspace by group", "ops/s"))
	tm.quit(exitFile)
}
