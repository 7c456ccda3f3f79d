// Package redistest starts real redis-server processes for tests.
//
// Every server gets its own kernel-chosen port and its own temporary
// directory, so tests (and test packages run concurrently by go test ./...)
// never share state. Servers are stopped through t.Cleanup, also when the
// test fails or panics. The package needs redis-server on PATH and a
// Unix-like OS (it uses process groups and job-control signals).
package redistest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/childproc"
)

const (
	// readyTimeout bounds how long a fresh process may take to answer PING.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds the graceful SIGTERM shutdown before SIGKILL.
	stopTimeout = 10 * time.Second
	// startAttempts covers the window between picking a free port and
	// redis-server binding it, in which another process may grab it.
	startAttempts = 5

	logName = "redis.log"
	outName = "redis.out" // stdout/stderr: config errors land here, before the log file is opened
)

const notFoundMsg = "redis-server not found on PATH: install it " +
	"(Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis)"

// errPortInUse marks a start that failed only because the port was taken,
// which is worth retrying.
var errPortInUse = errors.New("port already in use")

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

	bin     string
	opts    Options
	cluster bool

	mu     sync.Mutex // guards proc and paused; held across Stop so it returns only once the process is gone
	proc   *childproc.Process
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
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(notFoundMsg)
	}
	s := &Server{
		Dir:     t.TempDir(), // registered before the Stop cleanup, so it is removed after the process is gone
		bin:     bin,
		opts:    cloneOptions(o),
		cluster: cluster,
	}
	t.Cleanup(s.Stop)

	for attempt := 1; ; attempt++ {
		port, err := freePort(cluster)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s.Port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.launch()
		if err == nil {
			return s
		}
		if !errors.Is(err, errPortInUse) || attempt == startAttempts {
			t.Fatalf("redistest: starting redis-server (attempt %d): %v", attempt, err)
		}
		// A half-initialised cluster node may have written its old port here.
		_ = os.Remove(filepath.Join(s.Dir, "nodes.conf"))
	}
}

func cloneOptions(o Options) Options {
	o.Args = append([]string(nil), o.Args...)
	o.ACL = append([]string(nil), o.ACL...)
	return o
}

func (s *Server) args() []string {
	a := []string{
		"--port", strconv.Itoa(s.Port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.Dir,
		"--daemonize", "no",
		"--logfile", filepath.Join(s.Dir, logName),
		// Redis 7 delays diskless full syncs by 5s to batch replicas; tests
		// want replicas online immediately.
		"--repl-diskless-sync-delay", "0",
	}
	if s.cluster {
		a = append(a,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(s.Dir, "nodes.conf"),
			"--cluster-node-timeout", "2000",
		)
	}
	if s.opts.Password != "" {
		a = append(a, "--requirepass", s.opts.Password)
	}
	// Last, so callers can override any default above.
	return append(a, s.opts.Args...)
}

// launch starts the process on s.Port and waits until it is ready. On
// failure the process is stopped again.
func (s *Server) launch() error {
	logOff := childproc.Size(filepath.Join(s.Dir, logName))
	outOff := childproc.Size(filepath.Join(s.Dir, outName))

	out, err := os.OpenFile(filepath.Join(s.Dir, outName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, s.args()...)
	cmd.Dir = s.Dir
	// An *os.File is handed to the child directly; no copying goroutines.
	cmd.Stdout, cmd.Stderr = out, out
	p, err := childproc.Start(cmd)
	out.Close()
	if err != nil {
		return fmt.Errorf("exec %s: %w", s.bin, err)
	}
	s.mu.Lock()
	s.proc = p
	s.paused = false
	s.mu.Unlock()

	if err := s.waitReady(p); err != nil {
		s.Stop()
		fresh := childproc.ReadFrom(filepath.Join(s.Dir, logName), logOff) + childproc.ReadFrom(filepath.Join(s.Dir, outName), outOff)
		if strings.Contains(fresh, "Address already in use") {
			return fmt.Errorf("%w: port %d or its cluster bus port: %v", errPortInUse, s.Port, err)
		}
		return fmt.Errorf("%v\n%s", err, s.LogTail(30))
	}
	for _, line := range s.opts.ACL {
		f := strings.Fields(line)
		if _, err := s.do(2*time.Second, append([]string{"ACL", "SETUSER"}, f...)...); err != nil {
			s.Stop()
			return fmt.Errorf("ACL SETUSER %s: %v", line, err)
		}
	}
	return nil
}

// waitReady polls until the server on s.Addr answers and is our process:
// checking process_id guards against a foreign server that won the port.
func (s *Server) waitReady(p *childproc.Process) error {
	deadline := time.Now().Add(readyTimeout)
	want := strconv.Itoa(p.Pid())
	var lastErr error
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("redis-server on port %d exited during startup: %v", s.Port, p.Err())
		}
		pid, err := s.probe()
		if err == nil {
			if pid == want {
				return nil
			}
			err = fmt.Errorf("port %d is served by another process (pid %s)", s.Port, pid)
		}
		lastErr = err
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on port %d not ready after %v: %v", s.Port, readyTimeout, lastErr)
}

// probe authenticates, PINGs and returns the server's process_id.
func (s *Server) probe() (string, error) {
	c, err := dialRESP(s.Addr, s.opts.Password, 500*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if pong, err := c.Do("PING"); err != nil || pong != "PONG" {
		return "", fmt.Errorf("PING: %v %v", pong, err)
	}
	reply, err := c.Do("INFO", "server")
	if err != nil {
		return "", fmt.Errorf("INFO server: %w", err)
	}
	info, _ := reply.(string)
	return infoField(info, "process_id"), nil
}

// URL returns "redis://127.0.0.1:PORT/0". It never contains the password.
func (s *Server) URL() string {
	return "redis://" + s.Addr + "/0"
}

// ClientOptions returns fresh go-redis options for the admin (default) user.
func (s *Server) ClientOptions() *redis.Options {
	return &redis.Options{Addr: s.Addr, Password: s.opts.Password}
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
	for attempt := 1; attempt <= startAttempts; attempt++ {
		if err = s.launch(); err == nil {
			return
		}
		if !errors.Is(err, errPortInUse) {
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
func (s *Server) LogTail(n int) string { return childproc.Tail(s.Dir, n, logName, outName) }

// do runs one command on a fresh connection authenticated as the default
// user. It is independent of go-redis so readiness checks see raw replies.
func (s *Server) do(timeout time.Duration, args ...string) (any, error) {
	c, err := dialRESP(s.Addr, s.opts.Password, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(args...)
}

// freePort asks the kernel for a free port. Cluster nodes also need
// port+10000 (the cluster bus) free and below 65536.
func freePort(cluster bool) (int, error) {
	var lastErr error
	for i := 0; i < 100; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !cluster {
			l.Close()
			return port, nil
		}
		l.Close()
		if port >= 55535 {
			// Outside the range a bus port fits in (e.g. a high
			// ip_local_port_range): probe a random lower port instead.
			port = 20000 + rand.IntN(55535-20000)
		}
		if err := probePorts(port, port+10000); err != nil {
			lastErr = err
			continue
		}
		return port, nil
	}
	return 0, fmt.Errorf("no free port pair for a cluster node: %v", lastErr)
}

// probePorts checks that all ports can be bound on 127.0.0.1 right now.
func probePorts(ports ...int) error {
	for _, p := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return err
		}
		l.Close()
	}
	return nil
}

// infoField extracts "key:value" from an INFO reply.
func infoField(info, key string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), key+":"); ok {
			return v
		}
	}
	return ""
}
