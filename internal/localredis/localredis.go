// Package localredis runs a private Redis for `cachectl demo`: a redis-server
// process from PATH on a free port with its own temporary directory, or,
// where there is none, an embedded in-process server (miniredis). Either
// requires a random password, so that other users of the machine cannot use
// it. Close stops it and removes everything it created.
package localredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"

	"github.com/cachectl/cachectl/internal/childproc"
	"github.com/cachectl/cachectl/internal/redisproc"
)

// Kind says what serves a Server.
type Kind string

// Kinds of Server.
const (
	Process  Kind = "redis-server"
	Embedded Kind = "embedded"
)

// ErrNotFound is returned by StartProcess when redis-server is not on PATH.
var ErrNotFound = redisproc.ErrNotFound

const stopTimeout = 5 * time.Second

// Server is a private Redis owned by the caller.
type Server struct {
	Kind Kind
	Addr string // 127.0.0.1:PORT
	// Bin is the redis-server binary (Process only).
	Bin string
	// Dir is the temporary working directory (Process only); Close removes it.
	Dir string
	// Pid is the redis-server process id (Process only).
	Pid int
	// Password is the default user's password, random for each server. It is
	// a secret: redis-server reads it on stdin, never from argv.
	Password string

	mu   sync.Mutex
	proc *redisproc.Server
	mini *miniredis.Miniredis
}

// URL is redis://ADDR/0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// StartProcess starts redis-server from PATH on a free port of 127.0.0.1,
// without persistence, in a new temporary directory.
func StartProcess(ctx context.Context) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotFound
	}
	dir, err := os.MkdirTemp("", "cachectl-demo-redis-")
	if err != nil {
		return nil, err
	}
	password, err := newPassword()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p, err := redisproc.Start(ctx, redisproc.Config{Bin: bin, Dir: dir, Password: password, LogLines: 3})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Server{Kind: Process, Addr: p.Addr, Bin: bin, Dir: dir, Pid: p.Pid(), Password: password, proc: p}, nil
}

// StartChild starts cmd in its own process group (a terminal's Ctrl-C reaches
// the parent only, which then stops the child in order) and, on Linux, ties
// its life to this process.
func StartChild(cmd *exec.Cmd) error { return childproc.StartChild(cmd) }

// newPassword returns 32 random bytes in hex.
func newPassword() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make a password for the private redis: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// StartEmbedded starts an in-process Redis on a free port of 127.0.0.1. It
// speaks enough of the protocol for the catalog server and for every cachectl
// command, but it keeps no statistics: INFO has no hit, miss or memory
// figures.
func StartEmbedded() (*Server, error) {
	password, err := newPassword()
	if err != nil {
		return nil, err
	}
	m := miniredis.NewMiniRedis()
	m.RequireAuth(password)
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start the embedded redis: %w", err)
	}
	// TTLs run on the wall clock, as they do in Redis.
	m.ClockTTL(true)
	started := time.Now()
	// INFO is answered here, before miniredis sees it, so the password is
	// checked here too: miniredis keeps its own record of it to itself.
	var authed sync.Map // *server.Peer -> true once it gave the password
	m.Server().SetPreHook(func(c *server.Peer, cmd string, args ...string) bool {
		switch cmd {
		case "AUTH", "HELLO":
			if givesPassword(cmd, args, password) {
				if _, seen := authed.LoadOrStore(c, true); !seen {
					c.OnDisconnect(func() { authed.Delete(c) })
				}
			}
			return false // miniredis answers, and records it for every other command
		case "INFO":
			if _, ok := authed.Load(c); !ok {
				c.WriteError("NOAUTH Authentication required.")
				return true
			}
			c.WriteBulk(embeddedInfo(m, time.Since(started)))
			return true
		}
		return false
	})
	return &Server{Kind: Embedded, Addr: m.Addr(), Password: password, mini: m}, nil
}

// givesPassword says whether AUTH [default] PW or HELLO ... AUTH default PW
// authenticates with password.
func givesPassword(cmd string, args []string, password string) bool {
	if cmd == "HELLO" {
		for i := 0; i+2 < len(args); i++ {
			if strings.EqualFold(args[i], "AUTH") {
				return args[i+1] == "default" && args[i+2] == password
			}
		}
		return false
	}
	switch len(args) {
	case 1:
		return args[0] == password
	case 2:
		return args[0] == "default" && args[1] == password
	}
	return false
}

// embeddedInfo is the INFO reply of the embedded server: the sections cachectl
// reads to identify a server, with the figures it actually has. It says it is
// a standalone master, so cluster detection and `ping` work against it.
func embeddedInfo(m *miniredis.Miniredis, uptime time.Duration) string {
	var b strings.Builder
	b.WriteString("# Server\r\nredis_version:embedded\r\nredis_mode:standalone\r\nprocess_id:" + strconv.Itoa(os.Getpid()) +
		"\r\nuptime_in_seconds:" + strconv.Itoa(int(uptime.Seconds())) + "\r\n")
	b.WriteString("\r\n# Clients\r\nconnected_clients:" + strconv.Itoa(m.CurrentConnectionCount()) + "\r\n")
	b.WriteString("\r\n# Stats\r\ntotal_connections_received:" + strconv.Itoa(m.TotalConnectionCount()) +
		"\r\ntotal_commands_processed:" + strconv.Itoa(m.CommandCount()) + "\r\n")
	b.WriteString("\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n")
	b.WriteString("\r\n# Cluster\r\ncluster_enabled:0\r\n")
	b.WriteString("\r\n# Keyspace\r\n")
	if keys := len(m.Keys()); keys > 0 {
		b.WriteString("db0:keys=" + strconv.Itoa(keys) + ",expires=0,avg_ttl=0\r\n")
	}
	return b.String()
}

// Close stops the server and removes its temporary directory. It is safe to
// call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mini != nil {
		s.mini.Close()
		s.mini = nil
		return nil
	}
	s.stop()
	if s.Dir != "" {
		err := os.RemoveAll(s.Dir)
		s.Dir = ""
		return err
	}
	return nil
}

// stop ends the process (and its fork children) with SIGTERM, then SIGKILL.
func (s *Server) stop() {
	if s.proc != nil {
		s.proc.Stop(stopTimeout)
		s.proc = nil
	}
}
