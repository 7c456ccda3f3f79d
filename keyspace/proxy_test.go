package keyspace

import (
	"net"
	"sync"
	"testing"
)

// faultProxy is a TCP proxy in front of a real Redis that a test can break
// on purpose: Cut resets every open connection and refuses new ones, Stall
// keeps connections open but forwards nothing, Heal restores normal service,
// Switch sends new connections to another server (a failover behind one
// endpoint: a Sentinel-managed VIP, a managed Redis's DNS name) while
// connections already open stay where they were.
type faultProxy struct {
	Addr     string
	upstream string
	l        net.Listener

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	refuse  bool
	stalled chan struct{} // non-nil while stalled; closed by Heal
}

func startProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{Addr: l.Addr().String(), upstream: upstream, l: l, conns: map[net.Conn]struct{}{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		p.Heal()
		p.closeAll()
		wg.Wait()
	})
	return p
}

func (p *faultProxy) serve(client net.Conn) {
	p.mu.Lock()
	if p.refuse {
		p.mu.Unlock()
		reset(client)
		return
	}
	upstream := p.upstream
	p.mu.Unlock()
	server, err := net.Dial("tcp", upstream)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns[client] = struct{}{}
	p.conns[server] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	pump := func(dst, src net.Conn) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.waitWhileStalled()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		// Either side ending ends both, as a real broken link would.
		dst.Close()
		src.Close()
	}
	wg.Add(2)
	go pump(server, client)
	go pump(client, server)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

func (p *faultProxy) waitWhileStalled() {
	p.mu.Lock()
	ch := p.stalled
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

// Cut resets every open connection (RST, as when a firewall or failover drops
// it) and refuses new ones until Heal.
func (p *faultProxy) Cut() {
	p.mu.Lock()
	p.refuse = true
	p.mu.Unlock()
	p.closeAll()
}

// Stall stops forwarding bytes in both directions until Heal.
func (p *faultProxy) Stall() {
	p.mu.Lock()
	if p.stalled == nil {
		p.stalled = make(chan struct{})
	}
	p.mu.Unlock()
}

// Switch sends connections opened from now on to upstream.
func (p *faultProxy) Switch(upstream string) {
	p.mu.Lock()
	p.upstream = upstream
	p.mu.Unlock()
}

// Heal accepts and forwards again.
func (p *faultProxy) Heal() {
	p.mu.Lock()
	p.refuse = false
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
	p.mu.Unlock()
}

func (p *faultProxy) closeAll() {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		reset(c)
	}
}

// reset closes c with SO_LINGER 0, so the peer sees a connection reset.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
