package localredis

import (
	"context"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func client(t *testing.T, s *Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.Password})
	t.Cleanup(func() { c.Close() })
	return c
}

// assertPasswordRequired checks that s refuses a client without its password
// (even INFO), and that the password is long and random enough.
func assertPasswordRequired(t *testing.T, s *Server) {
	t.Helper()
	if len(s.Password) < 32 {
		t.Errorf("password %d characters long, want at least 32", len(s.Password))
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	ctx := context.Background()
	for _, cmd := range [][]any{{"ping"}, {"get", "k"}, {"info"}} {
		if err := c.Do(ctx, cmd...).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
			t.Errorf("%v without the password: %v, want NOAUTH", cmd, err)
		}
	}
	wrong := redis.NewClient(&redis.Options{Addr: s.Addr, Password: "wrong", MaxRetries: -1})
	defer wrong.Close()
	if err := wrong.Ping(ctx).Err(); err == nil {
		t.Error("a wrong password is accepted")
	}
}

func assertGone(t *testing.T, addr string) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Close", addr)
	}
}

// A private redis-server: our own process on a free port, a temporary
// directory, and nothing left after Close.
func TestStartProcess(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ctx := context.Background()
	s, err := StartProcess(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") || s.Kind != Process {
		t.Errorf("URL %s, kind %s", s.URL(), s.Kind)
	}
	c := client(t, s)
	if err := c.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	assertPasswordRequired(t, s)
	// The password reaches redis-server on stdin, never in argv, which every
	// user of the machine can read.
	if runtime.GOOS == "linux" {
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(s.Pid) + "/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(cmdline), s.Password) {
			t.Errorf("the password is in redis-server's argv: %q", cmdline)
		}
	}
	info := c.Info(ctx, "persistence").Val()
	if !strings.Contains(info, "aof_enabled:0") {
		t.Errorf("persistence on:\n%s", info)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close() // twice is fine
	assertGone(t, s.Addr)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left behind (%v)", dir, err)
	}
}

func TestStartProcessWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := StartProcess(context.Background()); err != ErrNotFound {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

// The embedded server answers what cachectl asks to identify a server, with
// keys that expire on the wall clock, and admits it has no statistics.
func TestStartEmbedded(t *testing.T) {
	s, err := StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	c := client(t, s)
	if err := c.Set(ctx, "k", "v", 150*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	assertPasswordRequired(t, s)
	info := c.Info(ctx, "cluster").Val()
	for _, want := range []string{"cluster_enabled:0", "role:master", "redis_version:embedded", "db0:keys=1"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %s:\n%s", want, info)
		}
	}
	if strings.Contains(info, "keyspace_hits") || strings.Contains(info, "used_memory") {
		t.Errorf("INFO claims statistics the embedded server does not keep:\n%s", info)
	}
	time.Sleep(300 * time.Millisecond) // the TTL passing is what is tested
	if n := c.Exists(ctx, "k").Val(); n != 0 {
		t.Error("a key outlived its TTL")
	}
	addr := s.Addr
	s.Close()
	assertGone(t, addr)
}
