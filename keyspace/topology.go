package keyspace

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redisconn"
)

const numSlots = 16384

// clusterView is what the masters of a cluster say of themselves: each
// one's slots and config epoch from the "myself" line of its own CLUSTER
// NODES, and any slot it is migrating or importing. Two equal views taken
// around a pass, with nothing moving in either, mean no key changed master
// in between: every slot move bumps a config epoch.
type clusterView struct {
	masters []masterView // by node id
	moving  []string     // "slot 42 migrating from A to B", as the nodes report it
	addrs   []string     // every node's address, replicas too, to ask next time
}

type masterView struct {
	ID, Addr string
	Epoch    string
	Slots    string // as CLUSTER NODES lists them: "0-5460 5462"
	Down     bool   // it did not answer: its line is another node's account
}

// viewCluster asks the first address that answers, and sees every slot
// served, who the masters are (a node that left the cluster, or is cut off
// from it, knows only itself), then each master in parallel for its own
// account. A slot that no master claims is a change: its keys were not
// scanned. It fails only when no address answers.
func viewCluster(ctx context.Context, tmpl *redis.Options, addrs []string) (clusterView, error) {
	var (
		members, partial []redisconn.Node
		errs             []error
	)
	for _, a := range addrs {
		lines, err := nodesOf(ctx, tmpl, a)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", a, err))
			continue
		case !coversAllSlots(lines):
			if partial == nil {
				partial = lines
			}
			continue
		}
		members = lines
		break
	}
	if members == nil {
		members = partial
	}
	if members == nil {
		return clusterView{}, fmt.Errorf("no cluster node answered: %w", errors.Join(errs...))
	}
	var v clusterView
	byID := map[string]string{}
	for i, n := range members {
		members[i].Addr = dialAddr(n, addrs)
		byID[n.ID] = members[i].Addr
		v.addrs = append(v.addrs, members[i].Addr)
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, n := range members {
		if n.Role != "master" || (len(n.Ranges) == 0 && len(n.Moves) == 0 && n.Failing) {
			continue
		}
		wg.Go(func() {
			m, moving := selfView(ctx, tmpl, n, byID)
			mu.Lock()
			defer mu.Unlock()
			v.masters = append(v.masters, m)
			v.moving = append(v.moving, moving...)
		})
	}
	wg.Wait()
	slices.SortFunc(v.masters, func(a, b masterView) int { return strings.Compare(a.ID, b.ID) })
	slices.Sort(v.moving)
	if first, n := unserved(v.owners()); n > 0 {
		v.moving = append(v.moving, fmt.Sprintf("%d slots are served by no master that answered (slot %d first)", n, first))
	}
	return v, nil
}

// selfView is master n's account of itself: its slots, config epoch and
// migrations, from the "myself" line of its own CLUSTER NODES; the
// membership's account of it, marked Down, when it does not answer.
func selfView(ctx context.Context, tmpl *redis.Options, n redisconn.Node, byID map[string]string) (masterView, []string) {
	m := masterView{ID: n.ID, Addr: n.Addr, Epoch: n.Epoch, Slots: strings.Join(n.Ranges, " ")}
	self, err := nodesOf(ctx, tmpl, n.Addr)
	if err != nil {
		m.Down = true
		return m, nil
	}
	var moving []string
	for _, s := range self {
		if !s.Myself {
			continue
		}
		if s.ID != n.ID || s.Role != "master" {
			// The address now holds another node, or a replica: the
			// membership answer is already out of date.
			moving = append(moving, fmt.Sprintf("%s is no longer master %s", n.Addr, short(n.ID)))
		}
		m.Epoch, m.Slots = s.Epoch, strings.Join(s.Ranges, " ")
		for _, mv := range s.Moves {
			moving = append(moving, describeMove(mv, n.Addr, byID))
		}
	}
	return m, moving
}

// coversAllSlots reports whether the masters of a CLUSTER NODES answer
// claim every slot between them.
func coversAllSlots(nodes []redisconn.Node) bool {
	var v clusterView
	for _, n := range nodes {
		if n.Role == "master" {
			v.masters = append(v.masters, masterView{Addr: n.Addr + "/" + n.ID, Slots: strings.Join(n.Ranges, " ")})
		}
	}
	_, missing := unserved(v.owners())
	return missing == 0
}

// unserved counts the slots no master claims, and names the first.
func unserved(owners []string) (first, n int) {
	first = -1
	for s, o := range owners {
		if o == "" {
			if first < 0 {
				first = s
			}
			n++
		}
	}
	return first, n
}

// dialAddr is where to reach node n: its announced host name where the
// client was given that name (cluster-preferred-endpoint-type hostname, a
// name in --redis), else its address.
func dialAddr(n redisconn.Node, known []string) string {
	if n.Hostname == "" {
		return n.Addr
	}
	_, port, err := net.SplitHostPort(n.Addr)
	if err != nil {
		return n.Addr
	}
	if byName := net.JoinHostPort(n.Hostname, port); slices.Contains(known, byName) {
		return byName
	}
	return n.Addr
}

// describeMove turns "[42->-id]" (migrating) or "[42-<-id]" (importing) into words.
func describeMove(mv, addr string, byID map[string]string) string {
	body := strings.Trim(mv, "[]")
	if slot, to, ok := strings.Cut(body, "->-"); ok {
		return fmt.Sprintf("slot %s migrating from %s to %s", slot, addr, orID(byID, to))
	}
	if slot, from, ok := strings.Cut(body, "-<-"); ok {
		return fmt.Sprintf("slot %s importing into %s from %s", slot, addr, orID(byID, from))
	}
	return "slot " + body + " moving at " + addr
}

func orID(byID map[string]string, id string) string {
	if a, ok := byID[id]; ok {
		return a
	}
	return "node " + short(id)
}

func nodesOf(ctx context.Context, tmpl *redis.Options, addr string) ([]redisconn.Node, error) {
	o := passOptions(tmpl)
	o.Addr = addr
	c := redis.NewClient(o)
	defer c.Close()
	text, err := c.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, err
	}
	return redisconn.ParseClusterNodes(text)
}

// change describes how the cluster moved between two views, or "" when it
// did not: a master joined, left or failed, a slot changed owner, an epoch
// was bumped, or a slot was migrating in either view.
func (v clusterView) change(after clusterView) string {
	if len(v.moving) > 0 {
		return v.moving[0]
	}
	if len(after.moving) > 0 {
		return after.moving[0]
	}
	if d := slotChange(v, after); d != "" {
		return d
	}
	before := map[string]masterView{}
	for _, m := range v.masters {
		before[m.ID] = m
	}
	for _, m := range after.masters {
		b, ok := before[m.ID]
		switch {
		case !ok:
			return fmt.Sprintf("master %s joined", m.Addr)
		case b.Addr != m.Addr:
			return fmt.Sprintf("master %s moved from %s to %s", short(m.ID), b.Addr, m.Addr)
		case b.Epoch != m.Epoch:
			return fmt.Sprintf("the config epoch of master %s went from %s to %s (a failover or a slot move)", m.Addr, b.Epoch, m.Epoch)
		case b.Down != m.Down:
			return fmt.Sprintf("master %s stopped answering or came back", m.Addr)
		}
		delete(before, m.ID)
	}
	for _, b := range before {
		return fmt.Sprintf("master %s left", b.Addr)
	}
	return ""
}

// slotChange names the first slot whose owner differs, with how many did.
func slotChange(a, b clusterView) string {
	oa, ob := a.owners(), b.owners()
	first, n := -1, 0
	for s := range numSlots {
		if oa[s] != ob[s] {
			if first < 0 {
				first = s
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	from, to := orNone(oa[first]), orNone(ob[first])
	if n == 1 {
		return fmt.Sprintf("slot %d moved from %s to %s", first, from, to)
	}
	return fmt.Sprintf("%d slots changed master (slot %d from %s to %s)", n, first, from, to)
}

func orNone(addr string) string {
	if addr == "" {
		return "no master"
	}
	return addr
}

// owners maps every slot to the address of the master that claims it.
func (v clusterView) owners() []string {
	out := make([]string, numSlots)
	for _, m := range v.masters {
		for a, b := range slotRanges(m.Slots) {
			for s := max(a, 0); s <= min(b, numSlots-1); s++ {
				out[s] = m.Addr
			}
		}
	}
	return out
}

// slotRanges yields the first and last slot of each range of a CLUSTER
// NODES slot list ("0-5460 5462": 0, 5460 then 5462, 5462). Migration
// markers ("[42->-id]") and anything else that is not a number are skipped.
func slotRanges(list string) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		for r := range strings.FieldsSeq(list) {
			lo, hi, isRange := strings.Cut(r, "-")
			a, err := strconv.Atoi(lo)
			if err != nil {
				continue
			}
			b := a
			if isRange {
				if b, err = strconv.Atoi(hi); err != nil {
					continue
				}
			}
			if !yield(a, b) {
				return
			}
		}
	}
}

// live returns the address of a master that answered, preferring seed.
func (v clusterView) live(seed string) string {
	var first string
	for _, m := range v.masters {
		if m.Down {
			continue
		}
		if m.Addr == seed {
			return seed
		}
		if first == "" {
			first = m.Addr
		}
	}
	return first
}

// forEachViewedMaster runs fn on every master of a fresh view of the
// cluster, in parallel, with a client of its own.
func forEachViewedMaster(ctx context.Context, cc *redis.ClusterClient, fn func(ctx context.Context, node *redis.Client) error) error {
	return eachViewedMaster(ctx, cc, func(ctx context.Context, node *redis.Client, _ masterView) error {
		return fn(ctx, node)
	})
}

// eachViewedMaster is forEachViewedMaster that also tells fn which master
// of the view it runs on. It refuses a view in which a slot has no master.
func eachViewedMaster(ctx context.Context, cc *redis.ClusterClient, fn func(ctx context.Context, node *redis.Client, m masterView) error) error {
	tmpl, addrs, err := nodeTemplate(ctx, cc)
	if err != nil {
		return fmt.Errorf("load the cluster's nodes: %w", err)
	}
	v, err := viewCluster(ctx, tmpl, addrs)
	if err != nil {
		return err
	}
	if first, n := unserved(v.owners()); n > 0 {
		return fmt.Errorf("%d slots are served by no master that answered (slot %d first): their keys cannot be reached", n, first)
	}
	errs := v.eachMaster(tmpl, func(o *redis.Options, m masterView) error {
		node := redis.NewClient(o)
		defer node.Close()
		return fn(ctx, node, m)
	})
	return errors.Join(errs...)
}

// eachMaster runs fn for every master of v in parallel, with tmpl
// addressed to it, and returns each one's error, in v's order.
func (v clusterView) eachMaster(tmpl *redis.Options, fn func(o *redis.Options, m masterView) error) []error {
	errs := make([]error, len(v.masters))
	var wg sync.WaitGroup
	for i, m := range v.masters {
		wg.Go(func() {
			o := *tmpl
			o.Addr = m.Addr
			errs[i] = fn(&o, m)
		})
	}
	wg.Wait()
	return errs
}

// answers reports whether addr answers PING.
func answers(ctx context.Context, tmpl *redis.Options, addr string) bool {
	o := passOptions(tmpl)
	o.Addr = addr
	c := redis.NewClient(o)
	defer c.Close()
	return c.Ping(ctx).Err() == nil
}
