package redisproc

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A port grabbed by someone else between picking and binding must be
// reported as ErrPortInUse, which is what makes Start retry.
func TestStartDetectsTakenPort(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	s, err := Start(context.Background(), Config{Dir: t.TempDir(), Port: port})
	if s != nil {
		s.Stop(time.Second)
	}
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("start on a taken port: err = %v, want ErrPortInUse", err)
	}
}

// The configuration goes in on stdin, options on argv override it, ACL lines
// are applied, and the password is in no argv.
func TestStartConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Start(ctx, Config{
		Dir: t.TempDir(), Password: "s3cret",
		Args: []string{"--maxmemory", "10mb"},
		ACL:  []string{"limited on >pw ~* +@all -unlink"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(5 * time.Second)
	if v, err := s.Do(ctx, "CONFIG", "GET", "maxmemory"); err != nil || len(v.([]any)) != 2 || v.([]any)[1] != "10485760" {
		t.Errorf("CONFIG GET maxmemory = %v, %v; want 10485760", v, err)
	}
	if _, err := Do(ctx, s.Addr, "", time.Second, "PING"); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("PING without the password: %v, want NOAUTH", err)
	}
	c := NewClient(s.Addr, "", time.Second)
	defer c.Close()
	if err := c.Do(ctx, "AUTH", "limited", "pw").Err(); err != nil {
		t.Fatalf("AUTH limited: %v", err)
	}
	if err := c.Do(ctx, "UNLINK", "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Errorf("UNLINK as limited: %v, want NOPERM", err)
	}
	if cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(s.Pid()) + "/cmdline"); err == nil && strings.Contains(string(cmdline), "s3cret") {
		t.Errorf("the password is in redis-server's argv: %q", cmdline)
	}
}

func TestStartWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Start(context.Background(), Config{Dir: t.TempDir()}); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}
