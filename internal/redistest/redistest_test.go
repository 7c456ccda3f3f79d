package redistest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestStartSetGet(t *testing.T) {
	t.Parallel()
	s := Start(t)
	if want := fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port); s.URL() != want {
		t.Fatalf("URL() = %q, want %q", s.URL(), want)
	}
	c := s.Client(t)
	if err := c.Set(ctx(t), "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx(t), "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
}

func TestExtraArgs(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Args: []string{"--maxmemory", "10mb"}})
	got, err := s.Client(t).ConfigGet(ctx(t), "maxmemory").Result()
	if err != nil || got["maxmemory"] != "10485760" {
		t.Fatalf("CONFIG GET maxmemory = %v, %v; want 10485760", got, err)
	}
}

func TestPassword(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Password: "s3cret"})
	if strings.Contains(s.URL(), "s3cret") {
		t.Fatalf("URL() leaks the password: %s", s.URL())
	}

	anon := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer anon.Close()
	if err := anon.Ping(ctx(t)).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("PING without password: err = %v, want NOAUTH", err)
	}

	if err := s.Client(t).Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("PING with password: %v", err)
	}
}

func TestACL(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{ACL: []string{"limited on >pw ~* +@all -unlink"}})
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Username: "limited", Password: "pw", MaxRetries: -1})
	defer c.Close()

	if err := c.Set(ctx(t), "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET as limited: %v", err)
	}
	if err := c.Unlink(ctx(t), "k").Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("UNLINK as limited: err = %v, want NOPERM", err)
	}
	if who, err := c.Do(ctx(t), "ACL", "WHOAMI").Text(); err != nil || who != "limited" {
		t.Fatalf("ACL WHOAMI = %q, %v", who, err)
	}
}

func TestStopRestart(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Password: "pw", ACL: []string{"app on >apppw ~* +@all"}})
	c := s.Client(t)
	port, dir := s.Port, s.Dir

	if err := c.Set(ctx(t), "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Stop()
	s.Stop() // idempotent
	down := s.ClientOptions()
	down.MaxRetries, down.DialerRetries = -1, 1 // fail fast while the server is down
	probe := redis.NewClient(down)
	defer probe.Close()
	if err := probe.Ping(ctx(t)).Err(); err == nil {
		t.Fatal("PING succeeded on a stopped server")
	}

	s.Restart(t)
	if s.Port != port || s.Dir != dir {
		t.Fatalf("Restart moved the server: port %d dir %s, was %d %s", s.Port, s.Dir, port, dir)
	}
	// The admin client recovers by itself once the server is back.
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	// Nothing is persisted, so the key is gone.
	if err := c.Get(ctx(t), "k").Err(); err != redis.Nil {
		t.Fatalf("GET after Restart: err = %v, want redis.Nil", err)
	}
	// ACL users are re-created on restart.
	app := redis.NewClient(&redis.Options{Addr: s.Addr, Username: "app", Password: "apppw"})
	defer app.Close()
	if err := app.Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("PING as ACL user after Restart: %v", err)
	}
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c := redis.NewClient(&redis.Options{
		Addr:        s.Addr,
		MaxRetries:  -1,
		ReadTimeout: 200 * time.Millisecond,
	})
	defer c.Close()
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}

	s.Pause()
	start := time.Now()
	if err := c.Ping(ctx(t)).Err(); err == nil {
		t.Fatal("PING succeeded on a paused server")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("PING on a paused server took %v, want about the 200ms read timeout", d)
	}

	s.Resume()
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("PING after Resume: %v", err)
	}
}

// A paused server must still be stopped by cleanup without waiting for the
// SIGKILL fallback.
func TestStopWhilePaused(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.Pause()
	start := time.Now()
	s.Stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Stop of a paused server took %v", d)
	}
}

func TestCluster(t *testing.T) {
	t.Parallel()
	cl := StartCluster(t, 3, 1)
	if len(cl.Nodes) != 6 || len(cl.Masters) != 3 || len(cl.Replicas) != 3 {
		t.Fatalf("got %d nodes, %d masters, %d replicas; want 6, 3, 3", len(cl.Nodes), len(cl.Masters), len(cl.Replicas))
	}
	if want := cl.Masters[0].URL(); cl.SeedURL() != want {
		t.Fatalf("SeedURL() = %q, want %q", cl.SeedURL(), want)
	}
	for _, n := range cl.Nodes {
		info, err := n.Client(t).ClusterInfo(ctx(t)).Result()
		if err != nil {
			t.Fatalf("%s: CLUSTER INFO: %v", n.Addr, err)
		}
		for _, want := range []string{"cluster_state:ok", "cluster_known_nodes:6"} {
			if !strings.Contains(info, want) {
				t.Fatalf("%s: CLUSTER INFO lacks %s:\n%s", n.Addr, want, info)
			}
		}
	}

	cc := cl.Client(t)
	for i := 0; i < 100; i++ {
		if err := cc.Set(ctx(t), fmt.Sprintf("key:%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET key:%d: %v", i, err)
		}
	}
	for i := 0; i < 100; i++ {
		got, err := cc.Get(ctx(t), fmt.Sprintf("key:%d", i)).Int()
		if err != nil || got != i {
			t.Fatalf("GET key:%d = %d, %v", i, got, err)
		}
	}
	// The keys really are spread: every master holds some of them.
	for _, m := range cl.Masters {
		n, err := m.Client(t).DBSize(ctx(t)).Result()
		if err != nil || n == 0 {
			t.Fatalf("%s: DBSIZE = %d, %v; want > 0", m.Addr, n, err)
		}
	}
}

// fatalRecorder captures Fatal instead of failing the real test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingBinaryFails(t *testing.T) {
	// Not parallel: it empties PATH for the whole process.
	t.Setenv("PATH", "")
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(rec)
	}()
	<-done
	want := "redis-server not found on PATH: install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis)"
	if rec.msg != want {
		t.Fatalf("Fatal message = %q, want %q", rec.msg, want)
	}
}
