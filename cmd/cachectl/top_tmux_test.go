package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	productsRow     = regexp.MustCompile(`│products +~?(\d+) `)
)

// The dashboard in a real terminal against a Redis under load: the hit rate
// and the group counts appear and change; stopping Redis shows the
// disconnected state within seconds; starting it again recovers by itself;
// q exits 0.
func TestTopDashboardInTmux(t *testing.T) {
	tm := newTmux(t)
	srv := redistest.Start(t)
	c := srv.Client(t)
	bin := filepath.Join(t.TempDir(), "cachectl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

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

	exitFile := filepath.Join(t.TempDir(), "exit")
	cmd := fmt.Sprintf("XDG_CONFIG_HOME=%s %s top --interval 250ms --api http://127.0.0.1:1 --redis %s; echo EXIT=$? > %s; sleep 30",
		t.TempDir(), bin, srv.URL(), exitFile)
	tm.run("new-session", "-d", "-x", "120", "-y", "40", "-s", "top", cmd)

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
	tm.run("send-keys", "-t", "top", "r")
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

	tm.run("send-keys", "-t", "top", "q")
	var exit string
	testwait.Until(t, 5*time.Second, "top to exit after q", func() error {
		if b, err := os.ReadFile(exitFile); err == nil {
			if exit = strings.TrimSpace(string(b)); exit != "" {
				return nil
			}
		}
		return fmt.Errorf("the screen:\n%s", tm.screen())
	})
	if exit != "EXIT=0" {
		t.Errorf("after q: %s, want EXIT=0; the screen:\n%s", exit, tm.screen())
	}
}
