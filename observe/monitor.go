package observe

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// monitor is one MONITOR stream, on a connection of its own. go-redis's
// Monitor cannot serve here: its reader holds a lock across a blocking read
// and ends at the first read timeout, so the stream is read directly.
type monitor struct {
	conn net.Conn
	rd   *bufio.Reader

	*stream[line]
	done chan struct{}
}

// errMonitorRefused wraps the server's refusal of MONITOR (an ACL that
// denies it, a renamed command).
type refusedError struct{ reply string }

func (e *refusedError) Error() string { return "MONITOR refused: " + e.reply }

// dialMonitor opens a connection with node's own options (dialer, TLS,
// credentials), starts MONITOR on it and reads the stream until close.
func dialMonitor(ctx context.Context, opt *redis.Options) (*monitor, error) {
	conn, err := dial(ctx, opt)
	if err != nil {
		return nil, fmt.Errorf("monitor %s: %w", opt.Addr, err)
	}
	m := &monitor{conn: conn, rd: bufio.NewReaderSize(conn, 64<<10), stream: newStream[line]("monitor"),
		done: make(chan struct{})}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	if err := m.handshake(ctx, opt); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	go m.read()
	return m, nil
}

func dial(ctx context.Context, opt *redis.Options) (net.Conn, error) {
	if opt.Dialer != nil {
		return opt.Dialer(ctx, opt.Network, opt.Addr)
	}
	network := opt.Network
	if network == "" {
		network = "tcp"
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	if opt.TLSConfig != nil {
		return (&tls.Dialer{NetDialer: d, Config: opt.TLSConfig}).DialContext(ctx, network, opt.Addr)
	}
	return d.DialContext(ctx, network, opt.Addr)
}

func (m *monitor) handshake(ctx context.Context, opt *redis.Options) error {
	user, pass := opt.Username, opt.Password
	if opt.CredentialsProvider != nil {
		user, pass = opt.CredentialsProvider()
	}
	if opt.CredentialsProviderContext != nil {
		var err error
		if user, pass, err = opt.CredentialsProviderContext(ctx); err != nil {
			return err
		}
	}
	if pass != "" {
		args := []string{"AUTH", pass}
		if user != "" {
			args = []string{"AUTH", user, pass}
		}
		if reply, err := m.call(args...); err != nil {
			return err
		} else if reply[0] != '+' {
			return fmt.Errorf("monitor %s: AUTH: %s", opt.Addr, strings.TrimPrefix(reply, "-"))
		}
	}
	reply, err := m.call("MONITOR")
	if err != nil {
		return err
	}
	if reply[0] != '+' {
		return &refusedError{reply: strings.TrimPrefix(reply, "-")}
	}
	return nil
}

// call sends one command and reads a one-line reply (+OK or -ERR ...).
func (m *monitor) call(args ...string) (string, error) {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := m.conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	reply, err := m.rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	reply = strings.TrimRight(reply, "\r\n")
	if reply == "" {
		return "", errors.New("empty reply")
	}
	return reply, nil
}

// read keeps every line of the stream until the connection closes.
func (m *monitor) read() {
	defer close(m.done)
	for {
		s, err := m.rd.ReadString('\n')
		if err != nil {
			m.end(err)
			return
		}
		s = strings.TrimRight(s, "\r\n")
		if len(s) < 2 || s[0] != '+' {
			continue
		}
		l, err := parseLine(s[1:])
		if err != nil {
			continue
		}
		if len(l.Args) == 2 && strings.EqualFold(l.Args[0], "echo") && strings.HasPrefix(l.Args[1], markerPrefix) {
			m.mark(l.Args[1], l)
		} else {
			m.add(l)
		}
	}
}

func (m *monitor) close() {
	_ = m.conn.Close()
	<-m.done
}
