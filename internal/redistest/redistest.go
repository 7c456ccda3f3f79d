// Package redistest starts real redis-server processes for tests.
//
// Every server gets its own kernel-chosen port and its own temporary
// directory, so tests (and test packages run concurrently by go test ./...)
// never share state. Servers are stopped through t.Cleanup, also when the
// test fails or panics. The package needs redis-server on PATH and a
// Unix-like OS (it uses process groups and job-control signals). The
// processes themselves are run by internal/redisproc, as demo's are.
package redistest

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redisproc"
)

const (
	// readyTimeout bounds how long a fresh process may take to answer PING.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds the graceful SIGTERM shutdown before SIGKILL.
	stopTimeout = 10 * time.Second
	// restartAttempts covers a port still held by the process just stopped.
	restartAttempts = 5
	// logLines of the server's log are quoted when it does not start.
	logLines = 30
)

const notFoundMsg = "redis-server not found on PATH: install it " +
	"(Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis)"

// Options for a private server. Zero value = plain server, no password.
type Options struct {
	Password string   // requirepass (sets the default user's password)
	Args     []string // extra redis-server args, e.g. "--maxmemory", "10mb"
	// ACL SETUSER lines applied after every start, e.g.
	// "limited on >pw ~* +@all -unlink". Fields are split on whitespace.
	ACL []string
}

// Server is one redis-server process owned by a test.
type Server struct {
	Addr string // "127.0.0.1:PORT"
	Port int
	Dir  string // its working dir (t.TempDir())

	cfg redisproc.Config

	mu     sync.Mutex // guards proc and paused; held across Stop so it returns only once the process is gone
	proc   *redisproc.Server
	paused bool
}

// Start starts a private redis-server, waits until it answers PING (with
// auth) and registers a t.Cleanup that stops it. At most one Options may be
// given.
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	if len(opts) > 1 {
		t.Fatalf("redistest.Start: at most one Options, got %d", len(opts))
	}
	var o Options
	if len(opts) == 1 {
		o = opts[0]
	}
	return start(t, o, false)
}

func start(t testing.TB, o Options, cluster bool) *Server {
	t.Helper()
	s := &Server{
		Dir: t.TempDir(), // registered before the Stop cleanup, so it is removed after the process is gone
	}
	s.cfg = redisproc.Config{
		Dir: s.Dir, Password: o.Password, Cluster: cluster,
		Args: append([]string(nil), o.Args...), ACL: append([]string(nil), o.ACL...),
		ReadyTimeout: readyTimeout, LogLines: logLines,
	}
	t.Cleanup(s.Stop)
	p, err := redisproc.Start(context.Background(), s.cfg)
	if errors.Is(err, redisproc.ErrNotFound) {
		t.Fatal(notFoundMsg)
	}
	if err != nil {
		t.Fatalf("redistest: starting redis-server: %v", err)
	}
	s.setProc(p)
	s.Addr, s.Port, s.cfg.Port = p.Addr, p.Port, p.Port
	return s
}

func (s *Server) setProc(p *redisproc.Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proc, s.paused = p, false
}

// URL returns "redis://127.0.0.1:PORT/0". It never contains the password.
func (s *Server) URL() string {
	return "redis://" + s.Addr + "/0"
}

// ClientOptions returns fresh go-redis options for the admin (default) user.
func (s *Server) ClientOptions() *redis.Options {
	return &redis.Options{Addr: s.Addr, Password: s.cfg.Password}
}

// Client returns an admin client (with the password), closed on cleanup.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(s.ClientOptions())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop terminates the server with SIGTERM and waits for it to exit,
// escalating to SIGKILL after a timeout. It is idempotent and safe to call
// concurrently.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.proc
	s.proc, s.paused = nil, false
	if p == nil {
		return
	}
	// The whole process group, so that a fork child (a replica's full
	// sync) goes too; a paused server acts on SIGTERM once continued.
	p.Stop(stopTimeout)
}

// Restart starts the server again on the same port and dir, e.g. after
// Stop (a running server is stopped first). Data is not persisted, but ACL
// lines are re-applied and cluster nodes rejoin via their nodes.conf.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	var err error
	for attempt := 1; attempt <= restartAttempts; attempt++ {
		var p *redisproc.Server
		if p, err = redisproc.Start(context.Background(), s.cfg); err == nil {
			s.setProc(p)
			return
		}
		if !errors.Is(err, redisproc.ErrPortInUse) {
			break
		}
		// The port cannot change, so only waiting can help.
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("redistest: restarting redis-server on port %d: %v", s.Port, err)
}

// Pause stops the process with SIGSTOP: connections are still accepted by
// the kernel but nothing is answered, like a stalled server.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP, true) }

// Resume continues a paused process with SIGCONT.
func (s *Server) Resume() { s.signal(syscall.SIGCONT, false) }

func (s *Server) signal(sig syscall.Signal, paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.Exited() {
		return
	}
	s.proc.Signal(sig)
	s.paused = paused
}

// LogTail returns the last n lines of the server's log and its stdout/stderr,
// for failure messages.
func (s *Server) LogTail(n int) string {
	return redisproc.LogTail(s.Dir, n)
}

// do runs one command on a fresh connection authenticated as the default
// user, without retries, so that set-up and readiness checks see what the
// server answered.
func (s *Server) do(timeout time.Duration, args ...string) (any, error) {
	a := make([]any, len(args))
	for i, v := range args {
		a[i] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return redisproc.Do(ctx, s.Addr, s.cfg.Password, timeout, a...)
}

// infoField extracts "key:value" from an INFO reply.
func infoField(info, key string) string { return redisproc.InfoField(info, key) }
