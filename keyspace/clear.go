package keyspace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
)

// DefaultBatch is the number of keys per UNLINK round: big enough that a
// million keys take a thousand round trips, small enough that one round costs
// Redis well under a millisecond, so other clients barely notice.
const DefaultBatch = 500

// ClearConfig tunes Clear. The zero value is a full-speed clear with the defaults.
type ClearConfig struct {
	Count  int64         // SCAN COUNT hint; DefaultScanCount when 0
	Batch  int           // keys per UNLINK round on one master; DefaultBatch when 0
	Pause  time.Duration // sleep between UNLINK rounds on each master, to spare other clients
	DryRun bool          // find and count, delete nothing
	// Limit, when positive, is the most keys the clear may delete: it stops
	// (incomplete, with ErrLimit) rather than queue one more. It makes
	// --max-keys hold even for keys written after the counting pass.
	Limit int64
	// MaxImpact, when positive, paces the clear on each master to keep the
	// p99 latency other clients see within MaxImpact of its idle value
	// (see Controller): COUNT and batch are sized from what the commands
	// cost, up to Count and Batch, from Pause.
	MaxImpact time.Duration
	// Progress, when set, is called after every SCAN page and UNLINK round with
	// the running totals. Calls never overlap; it must return quickly.
	Progress func(Progress)
	// Wrap, when set, is called on every client the clear opens to scan
	// and delete, before its first command: the caller's connection hooks
	// (redisconn's read-only refusal) then hold for the clear's own
	// connections too.
	Wrap func(*redis.Client)
	// Conditions narrow the selection by TTL; each key is checked again
	// atomically as it is unlinked.
	Conditions Conditions
}

// Progress is a running total of a Clear over every master.
type Progress struct {
	ScanCalls int64 // SCAN commands sent; × COUNT approximates the keys examined
	Scanned   int64 // keys SCAN returned (they match the MATCH prefix)
	Matched   int64 // keys that belong to a target
	Deleted   int64 // keys UNLINK reported removed
}

// TargetResult is the outcome for one target of the selection.
type TargetResult struct {
	Name    string
	Matched int64 // keys found that belong to it
	Deleted int64 // keys UNLINK reported removed; 0 in a dry run
}

// Result is the outcome of a Clear. Deleted counts only what UNLINK replied
// it removed, so it is never over-reported. Matched counts keys as SCAN found
// them: it can exceed Deleted when keys expire or are deleted by someone else
// during the clear, or when SCAN returns a key twice (Redis may, while it
// resizes its table); it is exact for a dry run on a quiet database.
type Result struct {
	Targets  []TargetResult // in selection order; a key counts in the first target it belongs to
	Scanned  int64
	Matched  int64
	Deleted  int64
	Complete bool // every master was scanned to the end and every UNLINK succeeded
	DryRun   bool
	Errors   int // masters whose clear failed
	// Passes is how many times the clear scanned: more than 1 when a
	// failover, a restart or a slot move made it start over.
	Passes   int
	Duration time.Duration
	// Impact is what the pacing measured; nil without MaxImpact.
	Impact *Impact
}

// ErrLimit is wrapped by Clear's error when more keys matched than ClearConfig.Limit.
var ErrLimit = errors.New("more keys match than the limit")

// ErrIncomplete is wrapped by Clear's error when the clear stopped part way.
var ErrIncomplete = errors.New("clear incomplete")

// errKeysMoved marks a pass on a cluster node during which UNLINK was
// redirected: keys had moved to another master, so the pass proves nothing.
var errKeysMoved = errors.New("keys moved to another master during the clear")

// errOrphanKeys is errKeysMoved while the cluster stood still: the node holds
// keys of slots it does not own, as an interrupted migration leaves them.
// Another pass would find them again.
var errOrphanKeys = errors.New("keys of slots their master does not own (an interrupted migration leaves them; redis-cli --cluster fix moves them home)")

// maxPasses bounds how often a clear starts over because the server or the
// cluster changed under it (a failover, a restart, a slot moving).
const maxPasses = 3

// ClearError is the error of a Clear that stopped part way. It wraps
// ErrIncomplete and the cause.
type ClearError struct {
	Cause error
	// Retry says whether running the same clear again can finish the job.
	// It is false after a refusal the server will repeat: NOPERM, an unknown
	// command, CROSSSLOT, a read-only replica, the limit.
	Retry bool
	// Changed says what changed under the clear when that is why it is
	// incomplete: a slot migrating, a master joining, a server replaced
	// behind its address. Another pass found the same, or none was left.
	Changed string
	// Live is the address of a master that answered at the end, when the
	// clear ran on a cluster; SeedDown says that Seed, the address the
	// cluster client was first given, did not answer, so that a hint can
	// name Live instead.
	Live, Seed string
	SeedDown   bool
	// MasterDown is a master that holds slots and did not answer at the end:
	// running again helps once it is back or a replica has taken over.
	MasterDown string
}

func (e *ClearError) Error() string   { return ErrIncomplete.Error() + ": " + e.Cause.Error() }
func (e *ClearError) Unwrap() []error { return []error{ErrIncomplete, e.Cause} }

// Clear deletes every key of sel with SCAN over every master (in parallel
// on a cluster) and UNLINK in pipelined rounds that overlap the scan.
// Memory stays bounded by the batch size whatever the key count. It never
// uses KEYS, DEL, FLUSHDB or FLUSHALL. Keys a master's SCAN returns are
// unlinked on that master, so a cluster never answers CROSSSLOT.
//
// A clear is complete only when every master that held a slot during the
// pass was scanned from cursor 0 back to 0 by one server process: each pass
// runs on pinned connections, checks the server's identity (run_id, node
// id) before and after over a new connection, and on a cluster compares the
// masters' own accounts of slots, config epochs and migrations before and
// after. When something changed, the clear starts over, up to maxPasses
// passes in all.
//
// Any failure (SCAN or UNLINK error, lost connection, timeout, NOPERM,
// cancelled ctx, a change that outlasted the passes) ends with
// Result.Complete false, the totals so far, and a *ClearError.
func Clear(ctx context.Context, c redis.UniversalClient, sel Selection, cfg ClearConfig) (Result, error) {
	return clearWatched(ctx, c, sel, cfg, nil)
}

// clearWatched is Clear with a watch on its passes (plan.go), or none.
func clearWatched(ctx context.Context, c redis.UniversalClient, sel Selection, cfg ClearConfig, watch passWatch) (Result, error) {
	start := time.Now()
	res := Result{DryRun: cfg.DryRun, Targets: make([]TargetResult, len(sel))}
	for i, t := range sel {
		res.Targets[i].Name = t.Name
	}
	match, err := sel.ScanMatch()
	if err != nil {
		return res, err
	}
	option.Default(&cfg.Count, DefaultScanCount)
	option.Default(&cfg.Batch, DefaultBatch)
	cl := &clearer{sel: sel, cfg: cfg, match: match, watch: watch,
		matched: make([]atomic.Int64, len(sel)), deleted: make([]atomic.Int64, len(sel))}
	switch c := c.(type) {
	case *redis.ClusterClient:
		cl.cluster = true
		err = cl.clearCluster(ctx, c)
	case *redis.Client:
		err = cl.clearServer(ctx, c.Options())
	default:
		err = fmt.Errorf("unsupported redis client %T", c)
	}
	for i := range sel {
		res.Targets[i].Matched = cl.matched[i].Load()
		res.Targets[i].Deleted = cl.deleted[i].Load()
	}
	p := cl.snapshot()
	res.Scanned, res.Matched, res.Deleted = p.Scanned, p.Matched, p.Deleted
	res.Errors = cl.failed
	res.Passes = cl.passes
	res.Duration = time.Since(start)
	if res.Impact = cl.impacts.result(res.Deleted); cfg.DryRun {
		res.Impact = cl.impacts.result(res.Matched)
	}
	if err != nil {
		ce, ok := err.(*ClearError)
		if !ok {
			ce = failure(err)
		}
		if ctx.Err() != nil {
			ce.Cause, ce.Retry = ctx.Err(), true
		}
		if res.Errors == 0 {
			res.Errors = 1
		}
		return res, ce
	}
	res.Complete = true
	return res, nil
}

// failure turns the error that ended a clear into a *ClearError that says
// whether running again can help.
func failure(err error) *ClearError {
	ce := &ClearError{Cause: err, Retry: true}
	var sc *ServerChangedError
	switch {
	case errors.As(err, &sc):
		ce.Changed = sc.Error()
	case errors.Is(err, errOrphanKeys):
		ce.Retry = false
	case errors.Is(err, errKeysMoved):
		ce.Changed = errKeysMoved.Error()
	case errors.Is(err, ErrLimit):
		ce.Retry = false
	case replyPrefix(err, "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"):
		// the server says: later
	case isReply(err):
		ce.Retry = false // NOPERM, unknown command, CROSSSLOT, READONLY, ...
	}
	return ce
}

// clearServer clears one server, starting over on the server the address
// leads to now when it changed during a pass.
func (cl *clearer) clearServer(ctx context.Context, opt *redis.Options) error {
	for {
		cl.startPass()
		err := cl.pass(ctx, opt, "")
		if err == nil {
			return nil
		}
		var sc *ServerChangedError
		if errors.As(err, &sc) && cl.passes < maxPasses && Sleep(ctx, passBackoff(cl.passes)) {
			continue
		}
		cl.failed = 1
		return failure(err)
	}
}

func passBackoff(pass int) time.Duration { return time.Duration(pass) * 200 * time.Millisecond }

// clearCluster clears every master of the cluster in parallel, then checks
// that the cluster did not change meanwhile; if it did, it starts over.
func (cl *clearer) clearCluster(ctx context.Context, cc *redis.ClusterClient) error {
	tmpl, addrs, err := nodeTemplate(ctx, cc)
	if err != nil {
		return &ClearError{Cause: fmt.Errorf("load the cluster's nodes: %w", err), Retry: true}
	}
	seed := cc.Options().Addrs[0]
	for {
		cl.startPass()
		before, err := viewCluster(ctx, tmpl, addrs)
		if err != nil {
			return &ClearError{Cause: err, Retry: true}
		}
		addrs = mergeAddrs(addrs, before.addrs)
		errs := cl.passAll(ctx, tmpl, before)
		after, aerr := viewCluster(ctx, tmpl, addrs)
		changed := ""
		if aerr == nil {
			addrs = mergeAddrs(addrs, after.addrs)
			changed = before.change(after)
		} else {
			after = before
		}
		var first *ClearError
		failed, again := 0, changed != ""
		for _, e := range errs {
			if e == nil {
				continue
			}
			failed++
			if errors.Is(e, errKeysMoved) && changed == "" && aerr == nil {
				e = fmt.Errorf("%w: %w", errOrphanKeys, e)
			}
			f := failure(e)
			if first == nil || (first.Retry && !f.Retry) {
				first = f // a refusal the server will repeat says most
			}
			again = again || f.Changed != ""
		}
		if first == nil && aerr == nil && changed == "" {
			return nil
		}
		if first != nil && !first.Retry {
			again = false
		}
		if again && cl.passes < maxPasses && Sleep(ctx, passBackoff(cl.passes)) {
			continue
		}
		cl.failed = failed
		switch {
		case first != nil:
		case aerr != nil:
			first = &ClearError{Cause: fmt.Errorf("check the cluster after the pass: %w", aerr), Retry: true}
		default:
			first = &ClearError{Cause: fmt.Errorf("the cluster changed during the clear: %s", changed), Retry: true}
		}
		if first.Changed == "" {
			first.Changed = changed
		}
		first.Live = after.live(seed)
		first.Seed, first.SeedDown = seed, !answers(ctx, tmpl, seed)
		for _, m := range after.masters {
			if m.Down && m.Slots != "" {
				first.MasterDown = m.Addr
			}
		}
		return first
	}
}

// passAll runs one pass on every master of v in parallel.
func (cl *clearer) passAll(ctx context.Context, tmpl *redis.Options, v clusterView) []error {
	return v.eachMaster(tmpl, func(o *redis.Options, m masterView) error { return cl.pass(ctx, o, m.ID) })
}

// nodeTemplate returns the options go-redis uses for one master (the
// cluster's credentials, TLS and timeouts) and the seeds and every master
// go-redis knows, to ask for the topology. A slot map with no master (the
// client loaded it from a node that has left the cluster) still gives the
// options, from the cluster client's own.
func nodeTemplate(ctx context.Context, cc *redis.ClusterClient) (*redis.Options, []string, error) {
	var (
		mu    sync.Mutex
		tmpl  *redis.Options
		addrs = slices.Clone(cc.Options().Addrs)
	)
	_ = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		if tmpl == nil {
			o := *n.Options()
			tmpl = &o
		}
		addrs = mergeAddrs(addrs, []string{n.Options().Addr})
		return nil
	})
	if tmpl == nil {
		tmpl = nodeOptions(cc.Options())
	}
	if len(addrs) == 0 {
		return nil, nil, errors.New("no address to reach the cluster")
	}
	return tmpl, addrs, nil
}

// nodeOptions are the options of a cluster's node client, as go-redis
// derives them from the cluster's, for what a clear uses.
func nodeOptions(co *redis.ClusterOptions) *redis.Options {
	o := &redis.Options{
		ClientName: co.ClientName, Dialer: co.Dialer, OnConnect: co.OnConnect,
		Protocol: co.Protocol, Username: co.Username, Password: co.Password,
		CredentialsProvider: co.CredentialsProvider, CredentialsProviderContext: co.CredentialsProviderContext,
		MaxRetries: co.MaxRetries, DialTimeout: co.DialTimeout, DialerRetries: co.DialerRetries,
		ReadTimeout: co.ReadTimeout, WriteTimeout: co.WriteTimeout, ContextTimeoutEnabled: co.ContextTimeoutEnabled,
		PoolTimeout: co.PoolTimeout, TLSConfig: co.TLSConfig, DisableIdentity: co.DisableIdentity,
	}
	if co.MaintNotificationsConfig != nil {
		m := *co.MaintNotificationsConfig
		o.MaintNotificationsConfig = &m
	}
	return o
}

func mergeAddrs(have, more []string) []string {
	for _, a := range more {
		if !slices.Contains(have, a) {
			have = append(have, a)
		}
	}
	return have
}

// pass clears one server once: SCAN from cursor 0 back to 0 and UNLINK, on
// two pinned connections to the same server process, then a check over a
// new connection that the address still leads to that process. nodeID, on
// a cluster, is the node the topology says is there.
func (cl *clearer) pass(ctx context.Context, opt *redis.Options, nodeID string) error {
	client := redis.NewClient(passOptions(opt))
	defer client.Close()
	if cl.cfg.Wrap != nil {
		cl.cfg.Wrap(client)
	}
	scanner, err := openPinned(ctx, client, cl.cluster)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", opt.Addr, err)
	}
	defer scanner.close()
	if nodeID != "" && scanner.id.NodeID != "" && scanner.id.NodeID != nodeID {
		return &ServerChangedError{Addr: opt.Addr, Was: serverID{NodeID: nodeID}, Now: scanner.id}
	}
	if cl.watch != nil {
		if err := cl.watch.node(opt.Addr, scanner.id); err != nil {
			return err
		}
	}
	var unlinker *pinned
	if !cl.cfg.DryRun {
		if unlinker, err = openPinned(ctx, client, cl.cluster); err != nil {
			return fmt.Errorf("connect to %s: %w", opt.Addr, err)
		}
		defer unlinker.close()
		if unlinker.id != scanner.id {
			return &ServerChangedError{Addr: opt.Addr, Was: scanner.id, Now: unlinker.id}
		}
	}
	var pc *pacer
	if cl.cfg.MaxImpact > 0 {
		if pc, err = startPacer(ctx, opt, cl.cfg.MaxImpact, Pace{cl.cfg.Count, cl.cfg.Batch, cl.cfg.Pause}); err != nil {
			return err
		}
		defer func() { cl.impacts.add(pc.finish()) }()
	}
	err = cl.clearNode(ctx, scanner, unlinker, pc)
	if ctx.Err() != nil || !scanner.id.known() {
		return err
	}
	if err != nil && isReply(err) && !replyPrefix(err, "READONLY") {
		return err
	}
	// Where does the address lead now? A pass on a server that is no
	// longer there (a failover behind the endpoint) cleared the wrong one.
	now, ferr := identifyFresh(ctx, opt, cl.cluster)
	switch {
	case ferr == nil && now.known() && now != scanner.id:
		return &ServerChangedError{Addr: opt.Addr, Was: scanner.id, Now: now}
	case ferr != nil && err == nil:
		return fmt.Errorf("check %s after the pass: %w", opt.Addr, ferr)
	}
	return err
}

type clearer struct {
	sel     Selection
	cfg     ClearConfig
	match   string
	cluster bool
	watch   passWatch // nil for a plain clear

	scanCalls, scanned atomic.Int64
	queued             atomic.Int64 // keys queued for UNLINK on every master, against Limit
	matched, deleted   []atomic.Int64
	passes, failed     int // set between passes only
	impacts            impacts

	progressMu sync.Mutex
}

// startPass counts a pass. The limit holds for each pass: keys a restart
// brought back, or that moved and were found twice, are not more keys than
// counted. A dry run counts again from zero, so that its figures are those
// of the last pass, on the servers there now.
func (cl *clearer) startPass() {
	cl.passes++
	cl.queued.Store(0)
	if cl.watch != nil {
		cl.watch.startPass()
	}
	if cl.cfg.DryRun && cl.passes > 1 {
		cl.scanned.Store(0)
		for i := range cl.matched {
			cl.matched[i].Store(0)
		}
	}
}

// pace is the configured pace, which a pacer adapts.
func (cl *clearer) pace() Pace { return Pace{cl.cfg.Count, cl.cfg.Batch, cl.cfg.Pause} }

func (cl *clearer) snapshot() Progress {
	p := Progress{ScanCalls: cl.scanCalls.Load(), Scanned: cl.scanned.Load()}
	for i := range cl.matched {
		p.Matched += cl.matched[i].Load()
		p.Deleted += cl.deleted[i].Load()
	}
	return p
}

func (cl *clearer) report() {
	if cl.cfg.Progress == nil {
		return
	}
	cl.progressMu.Lock()
	defer cl.progressMu.Unlock()
	cl.cfg.Progress(cl.snapshot())
}

// batch is one UNLINK round: keys and the target each belongs to.
type batch struct {
	keys    []string
	targets []int
}

// clearNode runs a scanner goroutine that fills batches and the unlinker in
// this goroutine; the channel between them holds one batch, so at most three
// batches (filling, queued, unlinking) are in memory per master. unlinker
// is nil in a dry run.
func (cl *clearer) clearNode(ctx context.Context, scanner, unlinker *pinned, pc *pacer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan batch, 1)
	scanErr := make(chan error, 1)
	go func() {
		defer close(queue)
		scanErr <- cl.scan(ctx, scanner, queue, pc)
	}()

	var (
		unlinkErr error
		moved     int64
	)
	for b := range queue {
		if unlinkErr != nil || unlinker == nil {
			continue // drain, so the scanner can see the cancel and stop
		}
		start := time.Now()
		n, err := cl.unlink(ctx, unlinker, b)
		moved += n
		if err == nil {
			rtt := time.Since(start)
			pc.learn(func(c *Controller) { c.Unlinked(len(b.keys), rtt) })
		}
		if err != nil {
			unlinkErr = err
			cancel()
			continue
		}
		cl.report()
		if pause := pc.pace(cl.pace()).Pause; pause > 0 {
			Sleep(ctx, pause)
		}
	}
	serr := <-scanErr
	switch {
	case unlinkErr != nil:
		return unlinkErr
	case serr != nil:
		return serr
	case moved > 0:
		return fmt.Errorf("%w: %d keys were no longer on %s", errKeysMoved, moved, scanner.addr())
	}
	return nil
}

// scan walks the node and queues batches of keys that belong to a target.
// A key SCAN returns twice within one batch is queued once.
func (cl *clearer) scan(ctx context.Context, p *pinned, queue chan<- batch, pc *pacer) error {
	// Room for a batch grows as keys come, so a huge Batch costs only what
	// the keys found need.
	hint := min(cl.cfg.Batch, 1024)
	cur := batch{keys: make([]string, 0, hint), targets: make([]int, 0, hint)}
	seen := make(map[string]struct{}, hint)
	send := func() error {
		if len(cur.keys) == 0 {
			return nil
		}
		select {
		case queue <- cur:
		case <-ctx.Done():
			return ctx.Err()
		}
		cur = batch{keys: make([]string, 0, hint), targets: make([]int, 0, hint)}
		clear(seen)
		return nil
	}
	page := func(cursor uint64) (keys []string, next uint64, err error) {
		err = p.do(ctx, func(c *redis.Conn) error {
			count, start := pc.pace(cl.pace()).Count, time.Now()
			keys, next, err = c.Scan(ctx, cursor, cl.match, count).Result()
			if err == nil {
				rtt := time.Since(start)
				pc.learn(func(c *Controller) { c.Scanned(count, rtt) })
			}
			return err
		})
		return keys, next, err
	}
	err := scanPages(ctx, p.addr(), page, func(page []string) error {
		cl.scanned.Add(int64(len(page)))
		keys, targets, err := cl.admit(ctx, p, page)
		if err != nil {
			return err
		}
		for j, k := range keys {
			i := targets[j]
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			if cl.cfg.Limit > 0 && cl.queued.Add(1) > cl.cfg.Limit {
				return fmt.Errorf("%w: more than %d keys", ErrLimit, cl.cfg.Limit)
			}
			cl.matched[i].Add(1)
			cur.keys = append(cur.keys, k)
			cur.targets = append(cur.targets, i)
			if len(cur.keys) >= pc.pace(cl.pace()).Batch {
				if err := send(); err != nil {
					return err
				}
			}
		}
		return nil
	}, func() {
		cl.scanCalls.Add(1)
		cl.report()
		if pause := pc.pace(cl.pace()).Pause; pc != nil && cl.cfg.DryRun && pause > 0 {
			Sleep(ctx, pause) // no UNLINK rounds to pause after
		}
	})
	if err != nil {
		return err
	}
	return send()
}

// unlink deletes one batch in one pipeline and credits each target with what
// UNLINK replied. On a standalone server each target's keys go in one UNLINK;
// on a cluster node every key gets its own UNLINK, since keys of one SCAN
// page live in many slots. Replies of commands that failed count nothing.
// It returns how many keys the node redirected elsewhere (MOVED, ASK):
// keys that moved to another master since SCAN saw them.
func (cl *clearer) unlink(ctx context.Context, p *pinned, b batch) (moved int64, err error) {
	type sent struct {
		cmd    *redis.IntCmd
		target int
	}
	err = p.do(ctx, func(c *redis.Conn) error {
		var cmds []sent
		moved = 0
		_, perr := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			if cond := cl.cfg.Conditions; cl.cluster || cond.Active() {
				cmds = make([]sent, 0, len(b.keys))
				for i, k := range b.keys {
					cmd := cond.unlink(ctx, p, k)
					cmds = append(cmds, sent{cmd, b.targets[i]})
				}
				return nil
			}
			byTarget := make(map[int][]string)
			for i, k := range b.keys {
				byTarget[b.targets[i]] = append(byTarget[b.targets[i]], k)
			}
			for t := range cl.sel {
				if keys := byTarget[t]; len(keys) > 0 {
					cmds = append(cmds, sent{p.Unlink(ctx, keys...), t})
				}
			}
			return nil
		})
		var first error
		for _, s := range cmds {
			switch err := s.cmd.Err(); {
			case err == nil:
				cl.deleted[s.target].Add(s.cmd.Val())
			case isRedirect(err):
				moved++
			case first == nil:
				first = err
			}
		}
		if first == nil && perr != nil && !isRedirect(perr) {
			first = perr
		}
		return first
	})
	if err != nil {
		return moved, fmt.Errorf("unlink on %s: %w", p.addr(), err)
	}
	return moved, nil
}
