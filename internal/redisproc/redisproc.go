// Package redisproc runs redis-server processes: demo's private Redis and
// the tests' servers and cluster nodes. Each runs in a process group of its
// own (internal/childproc) on 127.0.0.1, without persistence, with its
// configuration on stdin so that a password is in no argv and in no file.
// A server counts as started once it answers PING and INFO says it is the
// process that was started, not another one that took the port.
package redisproc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/cachectl/cachectl/internal/childproc"
)

// Files in a server's directory.
const (
	LogName = "redis.log"
	OutName = "redis.out" // stdout/stderr: config errors land here, before the log file is opened
)

const (
	defaultReadyTimeout = 10 * time.Second
	// startAttempts covers the window between picking a free port and
	// redis-server binding it, in which another process may grab it.
	startAttempts = 5
)

var (
	// ErrNotFound is returned when redis-server is not on PATH.
	ErrNotFound = errors.New("redis-server not found on PATH")
	// ErrPortInUse marks a start that failed only because its port (or a
	// cluster node's bus port) was taken, which is worth retrying.
	ErrPortInUse = errors.New("port already in use")
)

// Config of one redis-server process.
type Config struct {
	Bin string // redis-server binary; looked up on PATH when empty
	Dir string // working directory, for its logs and a cluster node's nodes.conf
	// Port to listen on; 0 picks a free one, and another when it is taken
	// before redis-server binds it.
	Port     int
	Password string   // requirepass: the default user's password
	Cluster  bool     // cluster-enabled, with nodes.conf in Dir
	Args     []string // extra redis-server options, e.g. "--maxmemory", "10mb"; they override the defaults
	// ACL SETUSER lines applied once the server answers, e.g.
	// "limited on >pw ~* +@all -unlink". Fields are split on whitespace.
	ACL []string
	// ReadyTimeout bounds how long the process may take to answer; default 10s.
	ReadyTimeout time.Duration
	// LogLines of the server's log are quoted in a start error; 0 quotes none.
	LogLines int
}

// Server is one running redis-server process.
type Server struct {
	*childproc.Process
	Addr string // 127.0.0.1:PORT
	Port int
	cfg  Config
}

// Start starts redis-server as cfg says and waits until it is ready. With
// cfg.Port 0 it picks a free port, and retries on another one when the
// port was taken in between.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Bin == "" {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			return nil, ErrNotFound
		}
		cfg.Bin = bin
	}
	if cfg.Port != 0 {
		return launch(ctx, cfg)
	}
	for attempt := 1; ; attempt++ {
		port, err := FreePort(cfg.Cluster)
		if err != nil {
			return nil, err
		}
		c := cfg
		c.Port = port
		s, err := launch(ctx, c)
		if err == nil || !errors.Is(err, ErrPortInUse) || attempt == startAttempts || ctx.Err() != nil {
			return s, err
		}
		// A half-initialised cluster node may have written its old port here.
		_ = os.Remove(filepath.Join(cfg.Dir, "nodes.conf"))
	}
}

// conf is the configuration given on stdin.
func (cfg Config) conf() string {
	lines := []string{
		"port " + strconv.Itoa(cfg.Port),
		"bind 127.0.0.1",
		`save ""`,
		"appendonly no",
		"dir " + confQuote(cfg.Dir),
		"daemonize no",
		"logfile " + confQuote(filepath.Join(cfg.Dir, LogName)),
		// Redis 7 delays diskless full syncs by 5s to batch replicas; a
		// replica should be online at once.
		"repl-diskless-sync-delay 0",
	}
	if cfg.Cluster {
		lines = append(lines,
			"cluster-enabled yes",
			"cluster-config-file "+confQuote(filepath.Join(cfg.Dir, "nodes.conf")),
			"cluster-node-timeout 2000",
		)
	}
	if cfg.Password != "" {
		lines = append(lines, "requirepass "+confQuote(cfg.Password))
	}
	return strings.Join(lines, "\n") + "\n"
}

// confQuote quotes a value for redis.conf.
func confQuote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

// launch starts the process on cfg.Port and waits until it is ready; on
// failure the process is stopped again.
func launch(ctx context.Context, cfg Config) (*Server, error) {
	logPath, outPath := filepath.Join(cfg.Dir, LogName), filepath.Join(cfg.Dir, OutName)
	logOff, outOff := childproc.Size(logPath), childproc.Size(outPath)
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	// "-" reads the configuration from stdin; options on argv come after it.
	cmd := exec.Command(cfg.Bin, append([]string{"-"}, cfg.Args...)...)
	cmd.Stdin = strings.NewReader(cfg.conf())
	cmd.Dir = cfg.Dir
	// An *os.File is handed to the child directly; no copying goroutines.
	cmd.Stdout, cmd.Stderr = out, out
	p, err := childproc.Start(cmd)
	out.Close()
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", cfg.Bin, err)
	}
	s := &Server{Process: p, Port: cfg.Port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)), cfg: cfg}
	if err := s.waitReady(ctx); err != nil {
		p.Stop(defaultReadyTimeout)
		fresh := childproc.ReadFrom(logPath, logOff) + childproc.ReadFrom(outPath, outOff)
		if strings.Contains(fresh, "Address already in use") {
			return nil, fmt.Errorf("%w: port %d or its cluster bus port: %v", ErrPortInUse, cfg.Port, err)
		}
		if cfg.LogLines > 0 {
			if tail := s.LogTail(cfg.LogLines); tail != "" {
				return nil, fmt.Errorf("%w\n%s", err, tail)
			}
		}
		return nil, err
	}
	for _, line := range cfg.ACL {
		args := []any{"ACL", "SETUSER"}
		for _, f := range strings.Fields(line) {
			args = append(args, f)
		}
		if _, err := s.Do(ctx, args...); err != nil {
			p.Stop(defaultReadyTimeout)
			return nil, fmt.Errorf("ACL SETUSER %s: %v", line, err)
		}
	}
	return s, nil
}

// waitReady polls until the server on s.Addr answers and is our process:
// checking process_id guards against a foreign server that won the port.
func (s *Server) waitReady(parent context.Context) error {
	timeout := s.cfg.ReadyTimeout
	if timeout <= 0 {
		timeout = defaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	want := strconv.Itoa(s.Pid())
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		pid, err := s.probe(ctx)
		if err == nil {
			if pid == want {
				return nil
			}
			err = fmt.Errorf("port %d is served by another process (pid %s)", s.Port, pid)
		}
		lastErr = err
		select {
		case <-s.Done():
			return fmt.Errorf("redis-server on port %d exited during startup: %v", s.Port, s.Err())
		case <-ctx.Done():
			if parent.Err() != nil {
				return parent.Err()
			}
			return fmt.Errorf("redis-server on port %d not ready after %v: %v", s.Port, timeout, lastErr)
		case <-tick.C:
		}
	}
}

// probe PINGs (authenticated) and returns the server's process_id.
func (s *Server) probe(ctx context.Context) (string, error) {
	c := NewClient(s.Addr, s.cfg.Password, 500*time.Millisecond)
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		return "", fmt.Errorf("PING: %w", err)
	}
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("INFO server: %w", err)
	}
	return InfoField(info, "process_id"), nil
}

// Do runs one command on a fresh connection, authenticated as the default
// user, without retries: the reply (or error reply) is what the server said.
// Replies are RESP2 values: string, int64, []any, or nil for a nil reply.
func (s *Server) Do(ctx context.Context, args ...any) (any, error) {
	return Do(ctx, s.Addr, s.cfg.Password, time.Second, args...)
}

// Do runs one command on a fresh connection to addr, as Server.Do does.
func Do(ctx context.Context, addr, password string, timeout time.Duration, args ...any) (any, error) {
	c := NewClient(addr, password, timeout)
	defer c.Close()
	v, err := c.Do(ctx, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return v, err
}

// NewClient is a client of one connection that never retries, speaks RESP2
// and sends nothing but the commands it is given (and AUTH): for readiness
// probes and cluster set-up, where a retrying client would hide what the
// server answered.
func NewClient(addr, password string, timeout time.Duration) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, Password: password,
		Protocol: 2, DisableIdentity: true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		MaxRetries:               -1, DialerRetries: 1, PoolSize: 1,
		DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout,
	})
}

// LogTail returns the last n lines of the server's log and of its
// stdout/stderr, each under a header, for failure messages.
func (s *Server) LogTail(n int) string { return LogTail(s.cfg.Dir, n) }

// LogTail is Server.LogTail for the server whose directory is dir, also
// once it is stopped.
func LogTail(dir string, n int) string { return childproc.Tail(dir, n, LogName, OutName) }

// FreePort asks the kernel for a free port of 127.0.0.1. A cluster node
// also needs port+10000 (the cluster bus) free and below 65536.
func FreePort(cluster bool) (int, error) {
	var lastErr error
	for range 100 {
		port, err := listenFree(0)
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		if !cluster {
			return port, nil
		}
		if port >= 55535 {
			// Outside the range a bus port fits in (e.g. a high
			// ip_local_port_range): probe a random lower port instead.
			port = 20000 + rand.IntN(55535-20000)
		}
		if _, err := listenFree(port); err != nil {
			lastErr = err
			continue
		}
		if _, err := listenFree(port + 10000); err != nil {
			lastErr = err
			continue
		}
		return port, nil
	}
	return 0, fmt.Errorf("no free port pair for a cluster node: %v", lastErr)
}

// listenFree binds port of 127.0.0.1 (0: any) and frees it again.
func listenFree(port int) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// InfoField extracts "key:value" from an INFO reply.
func InfoField(info, key string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), key+":"); ok {
			return v
		}
	}
	return ""
}
