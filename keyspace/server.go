package keyspace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// serverID names one server process. A SCAN cursor means something only on
// the process, and in the table, that produced it: a restart, a failover
// behind the same address or a reconnect to another node voids it.
type serverID struct {
	RunID  string // INFO server run_id: new for every start of the process
	NodeID string // CLUSTER MYID, on a cluster node
}

// known reports whether the server could say who it is; a user that may not
// run INFO (nor CLUSTER MYID) cannot, and then only pinned connections
// guard the pass.
func (id serverID) known() bool { return id.RunID != "" || id.NodeID != "" }

func (id serverID) String() string {
	var parts []string
	if id.NodeID != "" {
		parts = append(parts, "node "+short(id.NodeID))
	}
	if id.RunID != "" {
		parts = append(parts, "run_id "+short(id.RunID))
	}
	if len(parts) == 0 {
		return "an unknown server"
	}
	return strings.Join(parts, " ")
}

func short(id string) string { return id[:min(len(id), 8)] }

// identify asks c which server process it is talking to, in one round
// trip. What the user may not ask (NOPERM) stays unknown.
func identify(ctx context.Context, c redis.Cmdable, cluster bool) (serverID, error) {
	var (
		info *redis.StringCmd
		myid *redis.StringCmd
	)
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		info = p.Info(ctx, "server")
		if cluster {
			myid = p.ClusterMyID(ctx)
		}
		return nil
	})
	if err != nil && !isReply(err) {
		return serverID{}, err
	}
	var id serverID
	switch err := info.Err(); {
	case err == nil:
		id.RunID = infoValue(info.Val(), "run_id")
	case !isNoPerm(err):
		return serverID{}, err
	}
	if myid != nil {
		switch err := myid.Err(); {
		case err == nil:
			id.NodeID = myid.Val()
		case !isNoPerm(err):
			return serverID{}, err
		}
	}
	return id, nil
}

// identifyFresh asks over a new connection, so it learns where the address
// leads now, not where an old connection still leads.
func identifyFresh(ctx context.Context, opt *redis.Options, cluster bool) (serverID, error) {
	c := redis.NewClient(passOptions(opt))
	defer c.Close()
	return identify(ctx, c, cluster)
}

// passOptions are opt for a pass's own client: a small pool, since a pass
// holds two pinned connections and dials a third to check the server.
func passOptions(opt *redis.Options) *redis.Options {
	o := *opt
	o.PoolSize = 3
	o.MinIdleConns, o.MaxIdleConns = 0, 0
	return &o
}

func infoValue(info, key string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), key+":"); ok {
			return v
		}
	}
	return ""
}

// ServerChangedError says that an address led to another server process
// than the one a pass began on: a failover behind one endpoint, a restart,
// or a replica promoted in place. The pass's cursor meant nothing there.
type ServerChangedError struct {
	Addr     string
	Was, Now serverID
}

func (e *ServerChangedError) Error() string {
	return fmt.Sprintf("%s now leads to another server (%s, was %s): a failover or a restart", e.Addr, e.Now, e.Was)
}

// maxReopens bounds how often a pass reconnects after a broken link.
const maxReopens = 3

// pinned is one connection to one server that never moves silently: a
// go-redis Conn keeps a single connection, so a broken link is an error,
// not a transparent reconnect. reopen dials again and keeps the new
// connection only if it reaches the same server process, so a cursor
// survives a dropped link but never a change of server.
type pinned struct {
	client  *redis.Client // the pass's own client, which lends the connection
	conn    *redis.Conn
	id      serverID
	cluster bool
	reopens int
}

func openPinned(ctx context.Context, client *redis.Client, cluster bool) (*pinned, error) {
	p := &pinned{client: client, cluster: cluster}
	conn, id, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	p.conn, p.id = conn, id
	return p, nil
}

func (p *pinned) dial(ctx context.Context) (*redis.Conn, serverID, error) {
	conn := p.client.Conn()
	id, err := identify(ctx, conn, p.cluster)
	if err != nil {
		conn.Close()
		return nil, serverID{}, err
	}
	return conn, id, nil
}

func (p *pinned) close() {
	if p.conn != nil {
		p.conn.Close()
	}
}

func (p *pinned) addr() string { return p.client.Options().Addr }

// do runs fn on the connection. After a broken link (not a reply from the
// server, not a cancelled ctx) it dials again, up to maxReopens times per
// pass with a growing pause, and runs fn again once a new connection
// reaches the same server; a connection to another server ends it with a
// *ServerChangedError, and running out of attempts with the original error.
func (p *pinned) do(ctx context.Context, fn func(*redis.Conn) error) error {
	for {
		err := fn(p.conn)
		if err == nil || isReply(err) || ctx.Err() != nil {
			return err
		}
		if err := p.reopen(ctx, err); err != nil {
			return err
		}
	}
}

// reopen replaces a broken connection with one to the same server process.
func (p *pinned) reopen(ctx context.Context, cause error) error {
	for p.id.known() && p.reopens < maxReopens {
		p.reopens++
		if !Sleep(ctx, time.Duration(p.reopens)*100*time.Millisecond) {
			return cause
		}
		conn, id, err := p.dial(ctx)
		if err != nil {
			continue
		}
		if id != p.id {
			conn.Close()
			return &ServerChangedError{Addr: p.addr(), Was: p.id, Now: id}
		}
		p.conn.Close()
		p.conn = conn
		return nil
	}
	return cause
}

// Sleep waits d or until ctx ends; it reports whether d passed. The clear
// and the catalog's invalidation retries wait with it.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// isReply reports whether err is a reply from the server (as opposed to a
// broken link, a timeout or a cancelled context).
func isReply(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func replyPrefix(err error, prefixes ...string) bool {
	if !isReply(err) {
		return false
	}
	var re redis.Error
	errors.As(err, &re)
	for _, p := range prefixes {
		if strings.HasPrefix(re.Error(), p) {
			return true
		}
	}
	return false
}

// isRedirect reports a cluster reply saying the key lives elsewhere now.
func isRedirect(err error) bool {
	return replyPrefix(err, "MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN")
}
