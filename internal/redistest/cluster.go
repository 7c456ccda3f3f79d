package redistest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterTimeout bounds the whole slot/meet/replicate convergence. Gossip
// normally settles in 1-3s; the margin is for loaded CI machines.
const clusterTimeout = 30 * time.Second

const numSlots = 16384

// Cluster is a Redis Cluster of private cluster-enabled servers.
type Cluster struct {
	Nodes    []*Server // all nodes, masters first
	Masters  []*Server
	Replicas []*Server // replicas of Masters[i] are Replicas[i*r : (i+1)*r]
}

// StartCluster starts masters*(1+replicasPerMaster) cluster-enabled nodes,
// splits the slots evenly across the masters, joins them and attaches
// replicasPerMaster replicas to each master. It returns once every node
// reports cluster_state:ok and agrees on the topology (CLUSTER NODES and
// CLUSTER SLOTS) and every replica's link is up; t.Fatal otherwise.
func StartCluster(t testing.TB, masters, replicasPerMaster int) *Cluster {
	t.Helper()
	if masters < 1 || masters > numSlots || replicasPerMaster < 0 {
		t.Fatalf("redistest.StartCluster: invalid layout masters=%d replicasPerMaster=%d", masters, replicasPerMaster)
	}
	c := &Cluster{}
	for i := 0; i < masters*(1+replicasPerMaster); i++ {
		s := start(t, Options{}, true)
		c.Nodes = append(c.Nodes, s)
		if i < masters {
			c.Masters = append(c.Masters, s)
		} else {
			c.Replicas = append(c.Replicas, s)
		}
	}
	// Registered after the per-node cleanups, so it runs first and stops
	// all nodes at once instead of one shutdown after another.
	t.Cleanup(c.stopAll)

	if err := c.setup(replicasPerMaster); err != nil {
		var logs strings.Builder
		for _, n := range c.Nodes {
			fmt.Fprintf(&logs, "node %s:\n%s", n.Addr, n.LogTail(10))
		}
		t.Fatalf("redistest: cluster of %d masters x %d replicas did not come up: %v\n%s",
			masters, replicasPerMaster, err, logs.String())
	}
	return c
}

// SeedURL returns "redis://127.0.0.1:PORT/0" of the first master.
func (c *Cluster) SeedURL() string { return c.Masters[0].URL() }

// Client returns a cluster client seeded with all masters, closed on cleanup.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	addrs := make([]string, len(c.Masters))
	for i, m := range c.Masters {
		addrs[i] = m.Addr
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

func (c *Cluster) stopAll() {
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.Stop()
		}()
	}
	wg.Wait()
}

// slotRange returns the slots of master i of n, an even split.
func slotRange(i, n int) (lo, hi int) {
	return i * numSlots / n, (i+1)*numSlots/n - 1
}

// masterOf returns the index in Masters of the master of Replicas[replica].
func (c *Cluster) masterOf(replica, replicasPerMaster int) int {
	return replica / replicasPerMaster
}

func (c *Cluster) setup(replicasPerMaster int) error {
	deadline := time.Now().Add(clusterTimeout)
	ids := make(map[*Server]string, len(c.Nodes))
	for _, n := range c.Nodes {
		id, err := n.do(time.Second, "CLUSTER", "MYID")
		if err != nil {
			return fmt.Errorf("%s: CLUSTER MYID: %w", n.Addr, err)
		}
		ids[n], _ = id.(string)
	}
	for i, m := range c.Masters {
		lo, hi := slotRange(i, len(c.Masters))
		// Distinct config epochs up front (as redis-cli --cluster create
		// does) avoid a slow epoch-collision resolution round.
		if _, err := m.do(time.Second, "CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1)); err != nil {
			return fmt.Errorf("%s: CLUSTER SET-CONFIG-EPOCH: %w", m.Addr, err)
		}
		if _, err := m.do(time.Second, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi)); err != nil {
			return fmt.Errorf("%s: CLUSTER ADDSLOTSRANGE %d %d: %w", m.Addr, lo, hi, err)
		}
	}
	seed := c.Nodes[0]
	for _, n := range c.Nodes[1:] {
		if _, err := seed.do(time.Second, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(n.Port)); err != nil {
			return fmt.Errorf("%s: CLUSTER MEET %s: %w", seed.Addr, n.Addr, err)
		}
	}

	// A replica can only REPLICATE a master it already knows.
	if err := waitUntil(deadline, "all nodes to know each other", func() error {
		for _, n := range c.Nodes {
			if _, err := c.nodesView(n, ids); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for j, r := range c.Replicas {
		m := c.Masters[c.masterOf(j, replicasPerMaster)]
		if _, err := r.do(time.Second, "CLUSTER", "REPLICATE", ids[m]); err != nil {
			return fmt.Errorf("%s: CLUSTER REPLICATE %s: %w", r.Addr, m.Addr, err)
		}
	}

	if err := waitUntil(deadline, "replicas to sync", func() error {
		for _, r := range c.Replicas {
			if err := replicaLinkUp(r); err != nil {
				return fmt.Errorf("%s: %w", r.Addr, err)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// Redis leaves a synced replica out of CLUSTER SLOTS while its
	// replication offset is 0, which on an idle master lasts until the
	// first replication PING (repl-ping-replica-period, 10s). A write
	// moves the offset now; the keyspace is still empty, so FLUSHALL is
	// harmless.
	if replicasPerMaster > 0 {
		for _, m := range c.Masters {
			if _, err := m.do(time.Second, "FLUSHALL"); err != nil {
				return fmt.Errorf("%s: FLUSHALL: %w", m.Addr, err)
			}
		}
	}

	return waitUntil(deadline, "cluster to converge", func() error {
		for _, n := range c.Nodes {
			if err := c.checkNode(n, ids, replicasPerMaster); err != nil {
				return fmt.Errorf("%s: %w", n.Addr, err)
			}
		}
		return nil
	})
}

type nodeEntry struct {
	addr   string
	flags  map[string]bool
	master string // master ID for replicas, "-" for masters
	slots  []string
}

// nodesView parses n's CLUSTER NODES and checks that it knows every node by
// ID at its real address, none of them still in handshake.
func (c *Cluster) nodesView(n *Server, ids map[*Server]string) (map[string]nodeEntry, error) {
	reply, err := n.do(time.Second, "CLUSTER", "NODES")
	if err != nil {
		return nil, fmt.Errorf("%s: CLUSTER NODES: %w", n.Addr, err)
	}
	text, _ := reply.(string)
	view := map[string]nodeEntry{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		// "ip:port@cport[,hostname]"
		addr, _, _ := strings.Cut(f[1], "@")
		e := nodeEntry{addr: addr, flags: map[string]bool{}, master: f[3], slots: f[8:]}
		for _, fl := range strings.Split(f[2], ",") {
			e.flags[fl] = true
		}
		view[f[0]] = e
	}
	for _, other := range c.Nodes {
		e, ok := view[ids[other]]
		switch {
		case !ok:
			return nil, fmt.Errorf("%s does not know %s yet", n.Addr, other.Addr)
		case e.addr != other.Addr:
			return nil, fmt.Errorf("%s sees %s at %q", n.Addr, other.Addr, e.addr)
		case e.flags["handshake"] || e.flags["noaddr"]:
			return nil, fmt.Errorf("%s: %s still in handshake", n.Addr, other.Addr)
		}
	}
	if len(view) != len(c.Nodes) {
		return nil, fmt.Errorf("%s knows %d nodes, want %d", n.Addr, len(view), len(c.Nodes))
	}
	return view, nil
}

// checkNode verifies n's CLUSTER INFO, CLUSTER NODES and CLUSTER SLOTS all
// show the intended topology, and for a replica that its link is up.
func (c *Cluster) checkNode(n *Server, ids map[*Server]string, replicasPerMaster int) error {
	reply, err := n.do(time.Second, "CLUSTER", "INFO")
	if err != nil {
		return err
	}
	info, _ := reply.(string)
	for k, want := range map[string]string{
		"cluster_state":          "ok",
		"cluster_known_nodes":    strconv.Itoa(len(c.Nodes)),
		"cluster_slots_assigned": strconv.Itoa(numSlots),
		"cluster_slots_ok":       strconv.Itoa(numSlots),
		"cluster_size":           strconv.Itoa(len(c.Masters)),
	} {
		if got := infoField(info, k); got != want {
			return fmt.Errorf("CLUSTER INFO %s=%q, want %q", k, got, want)
		}
	}

	view, err := c.nodesView(n, ids)
	if err != nil {
		return err
	}
	for i, m := range c.Masters {
		e := view[ids[m]]
		lo, hi := slotRange(i, len(c.Masters))
		want := strconv.Itoa(lo)
		if hi != lo {
			want += "-" + strconv.Itoa(hi)
		}
		if !e.flags["master"] || e.flags["fail"] || e.flags["fail?"] {
			return fmt.Errorf("CLUSTER NODES: %s has flags %v, want a healthy master", m.Addr, e.flags)
		}
		if len(e.slots) != 1 || e.slots[0] != want {
			return fmt.Errorf("CLUSTER NODES: %s serves %v, want %s", m.Addr, e.slots, want)
		}
	}
	for j, r := range c.Replicas {
		e := view[ids[r]]
		m := c.Masters[c.masterOf(j, replicasPerMaster)]
		if !e.flags["slave"] || e.flags["fail"] || e.flags["fail?"] || e.master != ids[m] {
			return fmt.Errorf("CLUSTER NODES: %s has flags %v master %s, want a replica of %s", r.Addr, e.flags, e.master, m.Addr)
		}
	}

	if err := c.checkSlots(n, replicasPerMaster); err != nil {
		return err
	}

	if indexOf(c.Replicas, n) >= 0 {
		return replicaLinkUp(n)
	}
	return nil
}

func replicaLinkUp(r *Server) error {
	reply, err := r.do(time.Second, "INFO", "replication")
	if err != nil {
		return err
	}
	info, _ := reply.(string)
	if got := infoField(info, "master_link_status"); got != "up" {
		return fmt.Errorf("master_link_status=%q, want up", got)
	}
	return nil
}

// checkSlots verifies n's CLUSTER SLOTS: one range per master, served by
// that master plus all its replicas. Redis only lists replicas there once
// they have synced, so this also waits for replication.
func (c *Cluster) checkSlots(n *Server, replicasPerMaster int) error {
	reply, err := n.do(time.Second, "CLUSTER", "SLOTS")
	if err != nil {
		return err
	}
	ranges, _ := reply.([]any)
	if len(ranges) != len(c.Masters) {
		return fmt.Errorf("CLUSTER SLOTS has %d ranges, want %d", len(ranges), len(c.Masters))
	}
	for _, rg := range ranges {
		r, _ := rg.([]any)
		if len(r) < 3 {
			return fmt.Errorf("CLUSTER SLOTS: malformed range %v", rg)
		}
		lo, _ := r[0].(int64)
		mi := -1
		for i := range c.Masters {
			if l, _ := slotRange(i, len(c.Masters)); int64(l) == lo {
				mi = i
			}
		}
		if mi < 0 {
			return fmt.Errorf("CLUSTER SLOTS: unexpected range starting at %d", lo)
		}
		want := append([]*Server{c.Masters[mi]}, c.Replicas[mi*replicasPerMaster:(mi+1)*replicasPerMaster]...)
		got := r[2:]
		if len(got) != len(want) {
			return fmt.Errorf("CLUSTER SLOTS: range %d has %d nodes, want %d", lo, len(got), len(want))
		}
		if addr := slotNodeAddr(got[0]); addr != c.Masters[mi].Addr {
			return fmt.Errorf("CLUSTER SLOTS: range %d master is %q, want %s", lo, addr, c.Masters[mi].Addr)
		}
		for _, g := range got[1:] {
			if addr := slotNodeAddr(g); indexOfAddr(want[1:], addr) < 0 {
				return fmt.Errorf("CLUSTER SLOTS: range %d lists unexpected replica %q", lo, addr)
			}
		}
	}
	return nil
}

// slotNodeAddr turns a CLUSTER SLOTS node entry [ip, port, id, ...] into
// "ip:port".
func slotNodeAddr(v any) string {
	e, _ := v.([]any)
	if len(e) < 2 {
		return ""
	}
	ip, _ := e[0].(string)
	port, _ := e[1].(int64)
	return ip + ":" + strconv.FormatInt(port, 10)
}

func indexOf(list []*Server, s *Server) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func indexOfAddr(list []*Server, addr string) int {
	for i, x := range list {
		if x.Addr == addr {
			return i
		}
	}
	return -1
}

// waitUntil polls check until it succeeds or the deadline passes, then
// reports the last reason it was not yet satisfied.
func waitUntil(deadline time.Time, what string, check func() error) error {
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s: %w", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
