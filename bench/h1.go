package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"time"
)

// h1 is the load engine's own HTTP/1.1 client for plain http:// targets:
// one connection per worker, written and read by that worker alone, each
// request serialized once up front. net/http's client costs two goroutines
// per connection and a handful of allocations per request, which on a
// 2-CPU machine left bench at 0.4x wrk's rate on a static endpoint (see
// perf/bench-ceiling.sh); this path reads the status line and headers into
// buffers it reuses, skips the body without copying it, and allocates
// nothing per request once its header cache is warm. https, proxies and
// anything else go through net/http (h1For returns nil).
type h1 struct {
	addr    string
	timeout time.Duration
	ctx     context.Context
	reqs    [][]byte // serialized requests, parallel to the targets
	heads   []bool   // which of them are HEAD (no body in the response)
	conn    net.Conn
	br      *bufio.Reader
	stop    func() bool // ends the context watch of conn
	header  http.Header // the last response's, reused
	names   map[string]string
	values  map[string]string
}

// h1For returns the raw client for targets, or nil when one of them needs
// net/http (TLS, a proxy, another host, a body).
func h1For(ctx context.Context, targets []*http.Request, timeout time.Duration) *h1 {
	c := &h1{timeout: timeout, ctx: ctx, header: http.Header{}, names: map[string]string{}, values: map[string]string{}}
	for _, t := range targets {
		if t.URL.Scheme != "http" || t.Body != nil && t.Body != http.NoBody || (c.addr != "" && c.addr != hostPort(t)) {
			return nil
		}
		if p, err := http.ProxyFromEnvironment(t); err != nil || p != nil {
			return nil
		}
		c.addr = hostPort(t)
		c.reqs = append(c.reqs, serialize(t))
		c.heads = append(c.heads, t.Method == http.MethodHead)
	}
	return c
}

func hostPort(r *http.Request) string {
	if r.URL.Port() == "" {
		return net.JoinHostPort(r.URL.Hostname(), "80")
	}
	return r.URL.Host
}

// serialize writes r as HTTP/1.1 once, as net/http would send it.
func serialize(r *http.Request) []byte {
	var b bytes.Buffer
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, r.URL.RequestURI(), r.URL.Host)
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", "cachectl-bench")
	}
	if u := r.URL.User; u != nil && h.Get("Authorization") == "" {
		pass, _ := u.Password()
		auth := &http.Request{Header: http.Header{}}
		auth.SetBasicAuth(u.Username(), pass)
		h.Set("Authorization", auth.Header.Get("Authorization"))
	}
	h.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// roundTrip sends target i and reads the whole response; the headers stay in
// c.header until the next call. A kept-alive connection the server closed
// in the meantime is redialled once, as net/http does for idempotent requests.
func (c *h1) roundTrip(i int) (int, error) {
	for attempt := 0; ; attempt++ {
		fresh := c.conn == nil
		if fresh {
			if err := c.dial(); err != nil {
				return 0, err
			}
		}
		code, read, err := c.exchange(i)
		if err == nil {
			return code, nil
		}
		c.close()
		if fresh || read || attempt > 0 || c.ctx.Err() != nil {
			return code, err
		}
	}
}

func (c *h1) dial() error {
	d := net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(c.ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn = conn
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, 16<<10)
	} else {
		c.br.Reset(conn)
	}
	c.stop = context.AfterFunc(c.ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

func (c *h1) close() {
	if c.conn != nil {
		c.stop()
		c.conn.Close()
		c.conn = nil
	}
}

var errMalformed = errors.New("malformed HTTP response")

// exchange writes request i and reads its response; read says whether any
// byte of a response came (after which a retry could send twice).
func (c *h1) exchange(i int) (code int, read bool, err error) {
	c.conn.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.conn.Write(c.reqs[i]); err != nil {
		return 0, false, err
	}
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, len(line) > 0, err
		}
		// "HTTP/1.1 200 OK"
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
			return 0, true, errMalformed
		}
		code, err = strconv.Atoi(string(line[9:12]))
		if err != nil {
			return 0, true, errMalformed
		}
		length, chunked, closing, err := c.readHeader()
		if err != nil {
			return code, true, err
		}
		if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
			continue // 100 Continue, 103 Early Hints: the response follows
		}
		noBody := c.heads[i] || code == http.StatusNoContent || code == http.StatusNotModified
		switch {
		case noBody:
		case chunked:
			err = c.skipChunked()
		case length >= 0:
			_, err = c.br.Discard(int(length))
		default: // the body runs to the end of the connection
			_, err = io.Copy(io.Discard, c.br)
			closing = true
		}
		if err == nil && closing {
			c.close()
		}
		return code, true, err
	}
}

// readHeader reads the header lines into c.header, reusing its slices.
func (c *h1) readHeader() (length int64, chunked, closing bool, err error) {
	for k, v := range c.header {
		c.header[k] = v[:0]
	}
	length = -1
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, false, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, false, errMalformed
		}
		value = bytes.TrimSpace(value)
		key := intern(c.names, name, textproto.CanonicalMIMEHeaderKey)
		c.header[key] = append(c.header[key], intern(c.values, value, nil))
		switch key {
		case "Content-Length":
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, false, false, errMalformed
			}
		case "Transfer-Encoding":
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case "Connection":
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	for k, v := range c.header {
		if len(v) == 0 {
			delete(c.header, k)
		}
	}
	return length, chunked, closing, nil
}

// intern is b as a string from a worker's cache, so that the same header
// names and values cost no allocation after their first time; conv, if
// set, is applied to a new one.
func intern(cache map[string]string, b []byte, conv func(string) string) string {
	if s, ok := cache[string(b)]; ok {
		return s
	}
	if len(cache) >= 1024 {
		clear(cache)
	}
	s := string(b)
	if conv != nil {
		s = conv(s)
	}
	cache[string(b)] = s
	return s
}

func (c *h1) skipChunked() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return errMalformed
		}
		if n == 0 {
			for { // trailers, up to the empty line
				line, err := c.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if _, err := c.br.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}
