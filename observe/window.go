package observe

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// session is one master's part of a MONITOR window: the stream, and the
// control connection that sends the markers (whose commands are cachectl's
// own and left out).
type session struct {
	node *redis.Client
	ctl  *redis.Conn
	addr string // the control connection's address as the server sees it
	db   int
	mon  *monitor
	at   [4]int // where markers 0..3 stand in the stream
}

func (o *Observer) openSessions(ctx context.Context) ([]*session, error) {
	nodes, err := o.masters(ctx)
	if err != nil {
		return nil, err
	}
	var ss []*session
	for _, n := range nodes {
		s := &session{node: n, ctl: n.Conn(), db: n.Options().DB}
		ss = append(ss, s)
		info, err := s.ctl.ClientInfo(ctx).Result()
		if err != nil {
			closeSessions(ss)
			return nil, fmt.Errorf("CLIENT INFO: %w", err)
		}
		s.addr = info.Addr
		if s.mon, err = dialMonitor(ctx, n.Options()); err != nil {
			closeSessions(ss)
			return nil, err
		}
	}
	return ss, nil
}

func closeSessions(ss []*session) {
	for _, s := range ss {
		if s.mon != nil {
			s.mon.close()
		}
		_ = s.ctl.Close()
	}
}

// mark sends marker i on every master.
func mark(ctx context.Context, ss []*session, id string, i int) error {
	for _, s := range ss {
		if err := s.ctl.Echo(ctx, markerName(id, i)).Err(); err != nil {
			return fmt.Errorf("marker: %w", err)
		}
	}
	return nil
}

func markerName(id string, i int) string { return fmt.Sprintf("%s%s-%d", markerPrefix, id, i) }

// viaMonitor: markers 0 and 1 around the guard before the request, 2 and 3
// around the guard after it.
func (o *Observer) viaMonitor(ctx context.Context, request func(context.Context)) (Trace, error) {
	ss, err := o.openSessions(ctx)
	if err != nil {
		return Trace{}, err
	}
	defer closeSessions(ss)
	id := nonce()
	before, after := [2]int64{}, [2]int64{}
	steps := []func() error{
		func() error { return mark(ctx, ss, id, 0) },
		func() error { return sleep(ctx, o.opts.Guard) },
		func() error { return mark(ctx, ss, id, 1) },
		func() (err error) { before, err = o.counters(ctx); return err },
		func() error { request(ctx); return nil },
		func() (err error) { after, err = o.counters(ctx); return err },
		func() error { return mark(ctx, ss, id, 2) },
		func() error { return sleep(ctx, o.opts.Guard) },
		func() error { return mark(ctx, ss, id, 3) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Trace{}, err
		}
	}
	wait, cancel := context.WithTimeout(ctx, o.opts.Timeout)
	defer cancel()
	for _, s := range ss {
		for i := range 4 {
			if s.at[i], err = s.mon.await(wait, markerName(id, i)); err != nil {
				return Trace{}, fmt.Errorf("monitor %s: marker %d: %w", s.node.Options().Addr, i, err)
			}
		}
	}
	var w window
	for _, s := range ss {
		w.add(s, o.opts.Prefix)
	}
	t := w.trace()
	t.Exact, t.Hits, t.Misses = true, after[0]-before[0], after[1]-before[1]
	if err := o.settle(ctx, &t); err != nil {
		return Trace{}, err
	}
	return t, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// clientOps is what one client did in the window, in order.
type clientOps struct {
	client string
	ops    []op
	reads  bool
}

// window gathers the lines of every master's window, by client.
type window struct {
	busy     map[string]bool // clients active in a guard
	otherDBs []int           // other databases whose keys under the prefix were used
	clients  []*clientOps
	byName   map[string]*clientOps
}

func (w *window) add(s *session, prefix string) {
	if w.busy == nil {
		w.busy, w.byName = map[string]bool{}, map[string]*clientOps{}
	}
	for _, guard := range [][]line{s.mon.between(s.at[0], s.at[1]), s.mon.between(s.at[2], s.at[3])} {
		for _, l := range attributeScripts(guard) {
			if l.Client != s.addr {
				w.busy[s.node.Options().Addr+" "+l.Client] = true
			}
		}
	}
	for _, l := range attributeScripts(s.mon.between(s.at[1], s.at[2])) {
		if l.Client == s.addr {
			continue
		}
		if l.DB != s.db {
			if len(ops(l.Args, prefix)) > 0 && !slices.Contains(w.otherDBs, l.DB) {
				w.otherDBs = append(w.otherDBs, l.DB)
			}
			continue
		}
		name := s.node.Options().Addr + " " + l.Client
		c := w.byName[name]
		if c == nil {
			c = &clientOps{client: name}
			w.byName[name] = c
			w.clients = append(w.clients, c)
		}
		for _, o := range ops(l.Args, prefix) {
			c.ops = append(c.ops, o)
			c.reads = c.reads || o.Kind == Read
		}
	}
}

// attributeScripts gives the commands a script ran ("lua") to the client
// that called the script: the nearest EVAL-like command before them.
func attributeScripts(lines []line) []line {
	caller := ""
	for i, l := range lines {
		if l.Client == "lua" {
			if caller != "" {
				lines[i].Client = caller
			}
			continue
		}
		caller = l.Client
	}
	return lines
}

// trace splits the window's clients into the request's and noise: busy
// clients are noise; of the rest, when some read, those that only wrote are
// noise too.
func (w *window) trace() Trace {
	var mine, noise []*clientOps
	anyReads := false
	for _, c := range w.clients {
		if !w.busy[c.client] && c.reads {
			anyReads = true
		}
	}
	for _, c := range w.clients {
		if len(c.ops) == 0 {
			continue
		}
		if w.busy[c.client] || (anyReads && !c.reads) {
			noise = append(noise, c)
			continue
		}
		mine = append(mine, c)
	}
	t := Trace{OtherDBs: w.otherDBs}
	seen := map[string]bool{}
	for _, c := range noise {
		for _, o := range c.ops {
			t.Noise.Commands++
			if !seen[o.Key] && len(t.Noise.Keys) < MaxNoiseKeys {
				seen[o.Key] = true
				t.Noise.Keys = append(t.Noise.Keys, o.Key)
			}
		}
	}
	var all []op
	for _, c := range mine {
		all = append(all, c.ops...)
	}
	t.Reads, t.Writes, t.Deletes = collect(all)
	return t
}

// collect deduplicates ops by key into reads, writes and deletes.
func collect(all []op) (reads, writes, deletes []KeyOp) {
	index := map[[2]string]int{}
	for _, o := range all {
		list := map[Kind]*[]KeyOp{Read: &reads, Write: &writes, Delete: &deletes}[o.Kind]
		k := [2]string{fmt.Sprint(o.Kind), o.Key}
		if i, ok := index[k]; ok {
			if o.Kind == Write && o.TTL != 0 {
				(*list)[i].TTL = o.TTL // the last expiry set is the one that holds
			}
			continue
		}
		index[k] = len(*list)
		*list = append(*list, KeyOp{Key: o.Key, Cmd: o.Cmd, TTL: o.TTL})
	}
	return reads, writes, deletes
}

// settle reads what Redis holds after the window: the TTL of each written
// key, and whether each read key exists; then the request's State.
func (o *Observer) settle(ctx context.Context, t *Trace) error {
	written := map[string]bool{}
	for i := range t.Writes {
		d, err := o.rdb.PTTL(ctx, t.Writes[i].Key).Result()
		if err != nil {
			return fmt.Errorf("PTTL %s: %w", t.Writes[i].Key, err)
		}
		t.Writes[i].TTLAfter = d
		written[t.Writes[i].Key] = true
	}
	for i := range t.Reads {
		if written[t.Reads[i].Key] {
			continue
		}
		n, err := o.rdb.Exists(ctx, t.Reads[i].Key).Result()
		if err != nil {
			return fmt.Errorf("EXISTS %s: %w", t.Reads[i].Key, err)
		}
		t.Reads[i].Found = n > 0
	}
	t.State = state(*t)
	return nil
}

func state(t Trace) State {
	if len(t.Writes) > 0 {
		return Miss
	}
	if len(t.Reads) == 0 {
		return Uncached
	}
	for _, r := range t.Reads {
		if !r.Found {
			return Bypass
		}
	}
	return Hit
}

// Logical strips prefix from key; the key itself when it is not under it.
func Logical(key, prefix string) string {
	if s, ok := strings.CutPrefix(key, prefix); ok {
		return s
	}
	return key
}
