package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// NodeID returns the node's cluster ID (CLUSTER MYID).
func (s *Server) NodeID(t testing.TB) string {
	t.Helper()
	id, err := s.do(time.Second, "CLUSTER", "MYID")
	if err != nil {
		t.Fatalf("redistest: %s: CLUSTER MYID: %v", s.Addr, err)
	}
	str, _ := id.(string)
	return str
}

// AddMaster starts one more cluster-enabled node, joins it to the cluster as
// a master without slots (CLUSTER MEET, as redis-cli --cluster add-node
// does) and returns once every master knows it. It is appended to Nodes and
// Masters. Move slots to it with MigrateSlot.
func (c *Cluster) AddMaster(t testing.TB) *Server {
	t.Helper()
	n := start(t, Options{}, true)
	if _, err := c.Masters[0].do(time.Second, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(n.Port)); err != nil {
		t.Fatalf("redistest: CLUSTER MEET %s: %v", n.Addr, err)
	}
	id := n.NodeID(t)
	err := waitUntil(time.Now().Add(clusterTimeout), "the new master to be known", func() error {
		for _, m := range append(c.Masters, n) {
			reply, err := m.do(time.Second, "CLUSTER", "NODES")
			if err != nil {
				return err
			}
			text, _ := reply.(string)
			if !strings.Contains(text, id+" "+n.Addr) || strings.Contains(text, "handshake") {
				return fmt.Errorf("%s does not know %s yet", m.Addr, n.Addr)
			}
		}
		// It must know who serves every slot before it can import one.
		reply, err := n.do(time.Second, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if info, _ := reply.(string); infoField(info, "cluster_state") != "ok" {
			return fmt.Errorf("%s: cluster_state is not ok yet", n.Addr)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("redistest: adding master %s: %v", n.Addr, err)
	}
	c.Nodes = append(c.Nodes, n)
	c.Masters = append(c.Masters, n)
	return n
}

// MigrateSlot moves one slot and its keys from one master to another with
// the protocol redis-cli --cluster reshard uses: SETSLOT IMPORTING on the
// target, SETSLOT MIGRATING on the source, MIGRATE of the keys in batches,
// then SETSLOT NODE on the target, the source and every other master.
// Clients see ASK and MOVED redirections meanwhile, as in production.
func (c *Cluster) MigrateSlot(ctx context.Context, slot int, from, to *Server) error {
	src, dst := nodeClient(from), nodeClient(to)
	defer src.Close()
	defer dst.Close()
	fromID, err := src.ClusterMyID(ctx).Result()
	if err != nil {
		return fmt.Errorf("%s: CLUSTER MYID: %w", from.Addr, err)
	}
	toID, err := dst.ClusterMyID(ctx).Result()
	if err != nil {
		return fmt.Errorf("%s: CLUSTER MYID: %w", to.Addr, err)
	}
	s := strconv.Itoa(slot)
	if err := dst.Do(ctx, "CLUSTER", "SETSLOT", s, "IMPORTING", fromID).Err(); err != nil {
		return fmt.Errorf("%s: SETSLOT %d IMPORTING: %w", to.Addr, slot, err)
	}
	if err := src.Do(ctx, "CLUSTER", "SETSLOT", s, "MIGRATING", toID).Err(); err != nil {
		return fmt.Errorf("%s: SETSLOT %d MIGRATING: %w", from.Addr, slot, err)
	}
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, slot, 100).Result()
		if err != nil {
			return fmt.Errorf("%s: GETKEYSINSLOT %d: %w", from.Addr, slot, err)
		}
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", "127.0.0.1", to.Port, "", 0, 5000, "REPLACE", "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		if err := src.Do(ctx, args...).Err(); err != nil {
			return fmt.Errorf("%s: MIGRATE slot %d to %s: %w", from.Addr, slot, to.Addr, err)
		}
	}
	// Target first, so that it owns the slot before the source redirects there.
	order := []*Server{to, from}
	for _, m := range c.Masters {
		if m != from && m != to {
			order = append(order, m)
		}
	}
	for _, m := range order {
		n := nodeClient(m)
		err := n.Do(ctx, "CLUSTER", "SETSLOT", s, "NODE", toID).Err()
		n.Close()
		if err != nil {
			return fmt.Errorf("%s: SETSLOT %d NODE: %w", m.Addr, slot, err)
		}
	}
	return nil
}

// SlotsOf returns the slots master m serves by its own account (the
// "myself" line of its CLUSTER NODES).
func (c *Cluster) SlotsOf(t testing.TB, m *Server) []int {
	t.Helper()
	reply, err := m.do(time.Second, "CLUSTER", "NODES")
	if err != nil {
		t.Fatalf("redistest: %s: CLUSTER NODES: %v", m.Addr, err)
	}
	text, _ := reply.(string)
	var slots []int
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.Contains(f[2], "myself") {
			continue
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue
			}
			lo, hi, isRange := strings.Cut(r, "-")
			a, _ := strconv.Atoi(lo)
			b := a
			if isRange {
				b, _ = strconv.Atoi(hi)
			}
			for s := a; s <= b; s++ {
				slots = append(slots, s)
			}
		}
	}
	return slots
}

func nodeClient(s *Server) *redis.Client {
	o := s.ClientOptions()
	o.PoolSize = 1
	return redis.NewClient(o)
}
