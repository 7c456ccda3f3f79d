package redistest

import (
	"fmt"
	"testing"
	"time"
)

// ReplicaOf returns the first replica of master, or nil when it has none.
func (c *Cluster) ReplicaOf(master *Server) *Server {
	i := indexOf(c.Masters, master)
	if i < 0 || len(c.Replicas) == 0 {
		return nil
	}
	return c.Replicas[i*len(c.Replicas)/len(c.Masters)]
}

// ConfigSet runs CONFIG SET param value on every running node.
func (c *Cluster) ConfigSet(t testing.TB, param, value string) {
	t.Helper()
	for _, n := range c.Nodes {
		if !n.running() {
			continue
		}
		if _, err := n.do(time.Second, "CONFIG", "SET", param, value); err != nil {
			t.Fatalf("redistest: %s: CONFIG SET %s %s: %v", n.Addr, param, value, err)
		}
	}
}

// Promote makes replica a master with CLUSTER FAILOVER TAKEOVER, which needs
// neither its master (it may be stopped) nor a vote, unless it is one already
// (an automatic failover), and returns once every running node's CLUSTER
// SLOTS names replica as the master of a slot range. Masters and Replicas
// keep the roles the cluster started with.
func (c *Cluster) Promote(t testing.TB, replica *Server) {
	t.Helper()
	reply, err := replica.do(time.Second, "INFO", "replication")
	if err != nil {
		t.Fatalf("redistest: %s: INFO replication: %v", replica.Addr, err)
	}
	if info, _ := reply.(string); infoField(info, "role") != "master" {
		if _, err := replica.do(time.Second, "CLUSTER", "FAILOVER", "TAKEOVER"); err != nil {
			t.Fatalf("redistest: %s: CLUSTER FAILOVER TAKEOVER: %v", replica.Addr, err)
		}
	}
	err = waitUntil(time.Now().Add(clusterTimeout), "the replica to be promoted", func() error {
		for _, n := range c.Nodes {
			if !n.running() {
				continue
			}
			if err := servesSlots(n, replica.Addr); err != nil {
				return fmt.Errorf("%s: %w", n.Addr, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
}

// servesSlots checks that n's CLUSTER SLOTS has a range whose master is addr.
func servesSlots(n *Server, addr string) error {
	reply, err := n.do(time.Second, "CLUSTER", "SLOTS")
	if err != nil {
		return err
	}
	ranges, _ := reply.([]any)
	for _, rg := range ranges {
		if r, _ := rg.([]any); len(r) >= 3 && slotNodeAddr(r[2]) == addr {
			return nil
		}
	}
	return fmt.Errorf("CLUSTER SLOTS gives %s no slots yet", addr)
}

// running reports whether the server's process is up (it may be paused).
func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.Exited()
}
