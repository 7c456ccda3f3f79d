package catalog

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Which Redis servers are taken for down. A hook on the client watches every
// command: an error that says a server cannot serve marks down the master
// that holds the command's key (on a single server, the cache as a whole).
// A request whose keys live on a master marked down goes to the database;
// keys on the other masters keep being cached. Every probeEvery a probe
// PINGs each marked master; a master whose slots the cluster has given to
// another node (a failover) is no longer asked for. The slot map is reloaded
// promptly after such errors and while a master is marked, instead of at
// go-redis's periodic reload a minute later.

// wholeCache is the mark for the cache as a whole: a single server, a
// failure no master can be blamed for, or a start with invalidations to
// replay. It is lifted only once every pending invalidation is replayed.
const wholeCache = ""

// reloadEvery rate-limits reloads of the slot map.
const reloadEvery = 500 * time.Millisecond

type downMark struct {
	node *redis.Client // to probe it; nil: probe through the client
	key  string        // a key it held when it failed
}

// health is the set of servers taken for down, by address.
type health struct {
	n     atomic.Int64 // len(marks), read without the lock on every request
	mu    sync.Mutex
	marks map[string]downMark
}

func (h *health) any() bool { return h.n.Load() > 0 }

func (h *health) has(addr string) bool {
	if !h.any() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.marks[addr]
	return ok
}

// mark reports whether addr was not marked yet.
func (h *health) mark(addr string, m downMark) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.marks[addr]; ok {
		return false
	}
	if h.marks == nil {
		h.marks = map[string]downMark{}
	}
	h.marks[addr] = m
	h.n.Store(int64(len(h.marks)))
	return true
}

// lift reports whether addr was marked.
func (h *health) lift(addr string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.marks[addr]; !ok {
		return false
	}
	delete(h.marks, addr)
	h.n.Store(int64(len(h.marks)))
	return true
}

// nodes returns the marked masters (not wholeCache).
func (h *health) nodes() map[string]downMark {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]downMark, len(h.marks))
	for addr, m := range h.marks {
		if addr != wholeCache {
			out[addr] = m
		}
	}
	return out
}

// nodeOf returns the address of the master that holds key, and a client of
// it; wholeCache on a single server, or when the slot map is not known.
func (c *cache) nodeOf(key string) (string, *redis.Client) {
	cc, ok := c.rdb.(*redis.ClusterClient)
	if !ok {
		return wholeCache, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	m, err := cc.MasterForKey(ctx, key)
	if err != nil {
		return wholeCache, nil
	}
	return m.Options().Addr, m
}

// reachable reports whether Redis may be asked for keys: neither the cache
// as a whole nor a master that holds one of them is taken for down.
func (c *cache) reachable(keys ...string) bool {
	return !c.health.has(wholeCache) && !c.onDownNode(keys...)
}

// onDownNode reports whether a master marked down holds one of keys.
func (c *cache) onDownNode(keys ...string) bool {
	if !c.cluster || !c.health.any() {
		return false
	}
	for _, k := range keys {
		if addr, _ := c.nodeOf(k); addr != wholeCache && c.health.has(addr) {
			return true
		}
	}
	return false
}

// familyKeys are the keys an invalidation of f touches, by name.
func (c *cache) familyKeys(f family) []string {
	keys := []string{c.schema.Key(fenceKeyPrefix + f.name)}
	if f.indexed {
		keys = append(keys, c.schema.Key(indexKeyPrefix+f.name))
	}
	for _, l := range f.fixed {
		keys = append(keys, c.schema.Key(l))
	}
	return keys
}

// isServerFailure reports whether err says that a server could not serve
// (no answer, a reset, a timeout, a cluster in flux), rather than that it
// answered a command with an error of the command's own.
func isServerFailure(err error) bool {
	switch {
	case err == nil, errors.Is(err, redis.Nil), errors.Is(err, context.Canceled):
		return false
	case redis.IsClusterDownError(err), redis.IsLoadingError(err), redis.IsMasterDownError(err),
		redis.IsReadOnlyError(err), redis.IsTryAgainError(err):
		return true
	}
	var re redis.Error
	return !errors.As(err, &re)
}

// failed marks down the master that holds cmd's key after a server failure.
func (c *cache) failed(cmd redis.Cmder, err error) {
	addr, node := wholeCache, (*redis.Client)(nil)
	key := firstKey(cmd)
	if key != "" {
		addr, node = c.nodeOf(key)
	}
	if c.health.mark(addr, downMark{node: node, key: key}) {
		if addr == wholeCache {
			c.log.Warn("redis unavailable: serving from the database", "cmd", cmd.Name(), "err", err)
		} else {
			c.log.Warn("redis master unavailable: serving the keys it holds from the database", "node", addr, "cmd", cmd.Name(), "err", err)
		}
	}
	c.maybeReload()
}

// firstKey is the first key a command names ("" for PING and the like).
func firstKey(cmd redis.Cmder) string {
	args := cmd.Args()
	pos := 1
	switch cmd.Name() {
	case "ping", "info", "cluster", "time":
		return ""
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
		pos = 3
	}
	if len(args) <= pos {
		return ""
	}
	k, _ := args[pos].(string)
	return k
}

// maybeReload asks go-redis to reload the slot map, at most every reloadEvery.
func (c *cache) maybeReload() {
	cc, ok := c.rdb.(*redis.ClusterClient)
	if !ok {
		return
	}
	now, last := time.Now().UnixNano(), c.reloaded.Load()
	if now-last < int64(reloadEvery) || !c.reloaded.CompareAndSwap(last, now) {
		return
	}
	cc.ReloadState(context.Background())
}

// failureHook is the client hook that calls failed.
type failureHook struct{ c *cache }

func (h failureHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h failureHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if isServerFailure(err) {
			h.c.failed(cmd, err)
		}
		return err
	}
}

func (h failureHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil {
			for _, cmd := range cmds {
				if isServerFailure(cmd.Err()) {
					h.c.failed(cmd, cmd.Err())
				}
			}
		}
		return err
	}
}

// probeNodes lifts the marks of masters that answer a PING again or whose
// slots went to another node, and reloads the slot map while any is left.
func (c *cache) probeNodes(ctx context.Context) {
	marked := c.health.nodes()
	if len(marked) == 0 {
		return
	}
	for addr, m := range marked {
		owner, _ := c.nodeOf(m.key)
		if owner == wholeCache {
			continue // no slot map: nothing to go by
		}
		if owner == addr {
			pctx, cancel := context.WithTimeout(ctx, c.timeout)
			err := m.node.Ping(pctx).Err()
			cancel()
			if err != nil {
				continue
			}
		}
		if c.health.lift(addr) {
			c.log.Info("redis master is back, or its slots moved: caching its keys again", "node", addr, "owner", owner)
		}
	}
	if len(c.health.nodes()) > 0 {
		c.maybeReload()
	}
}

// downNodes lists the masters taken for down, for /readyz.
func (c *cache) downNodes() []string {
	var out []string
	for addr := range c.health.nodes() {
		out = append(out, addr)
	}
	slices.Sort(out)
	return out
}
