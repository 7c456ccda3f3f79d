package redisconn

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Node is one line of CLUSTER NODES.
type Node struct {
	ID        string `json:"id"`
	Addr      string `json:"addr"`
	Role      string `json:"role"` // master or replica
	MasterID  string `json:"master_id,omitempty"`
	Slots     int    `json:"slots"`
	Connected bool   `json:"connected"`
	Failing   bool   `json:"failing,omitempty"`

	// What a consistency check needs besides: the config epoch, whether
	// this line is the node that answered, its slot ranges as listed
	// ("0-5460"), and the slots it is migrating or importing ("[42->-id]",
	// "[42-<-id]"). Handshake and noaddr nodes count as Failing.
	Epoch  string `json:"-"`
	Myself bool   `json:"-"`
	// Hostname is the announced host name (cluster-announce-hostname), "" if none.
	Hostname string   `json:"-"`
	Ranges   []string `json:"-"`
	Moves    []string `json:"-"`
}

// ParseClusterNodes parses the text of CLUSTER NODES, masters first, then by address.
func ParseClusterNodes(text string) ([]Node, error) {
	var nodes []Node
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("cluster nodes: short line %q", strings.TrimSpace(line))
		}
		// "ip:port@cport[,hostname[,aux=value...]]"
		endpoint, aux, _ := strings.Cut(f[1], ",")
		addr, _, _ := strings.Cut(endpoint, "@")
		flags := strings.Split(f[2], ",")
		n := Node{ID: f[0], Addr: hostPort(addr), Role: "master", Connected: f[7] == "connected", Epoch: f[6]}
		if h, _, _ := strings.Cut(aux, ","); !strings.Contains(h, "=") {
			n.Hostname = h
		}
		if slices.Contains(flags, "slave") || slices.Contains(flags, "replica") {
			n.Role = "replica"
			n.MasterID = f[3]
		}
		n.Myself = slices.Contains(flags, "myself")
		n.Failing = slices.ContainsFunc(flags, func(fl string) bool {
			return fl == "fail" || fl == "fail?" || fl == "handshake" || fl == "noaddr"
		})
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				n.Moves = append(n.Moves, r) // a slot being migrated or imported
				continue
			}
			n.Ranges = append(n.Ranges, r)
			lo, hi, isRange := strings.Cut(r, "-")
			a, err := strconv.Atoi(lo)
			if err != nil {
				return nil, fmt.Errorf("cluster nodes: bad slot range %q", r)
			}
			b := a
			if isRange {
				if b, err = strconv.Atoi(hi); err != nil {
					return nil, fmt.Errorf("cluster nodes: bad slot range %q", r)
				}
			}
			n.Slots += b - a + 1
		}
		nodes = append(nodes, n)
	}
	slices.SortFunc(nodes, func(a, b Node) int {
		if a.Role != b.Role {
			return strings.Compare(a.Role, b.Role) // "master" < "replica"
		}
		return strings.Compare(a.Addr, b.Addr)
	})
	return nodes, nil
}

// ClusterNodes asks the cluster for its nodes.
func ClusterNodes(ctx context.Context, c redis.UniversalClient) ([]Node, error) {
	text, err := c.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("cluster nodes: %w", err)
	}
	return ParseClusterNodes(text)
}

// hostPort writes "ip:port" as net.JoinHostPort does: CLUSTER NODES prints
// an IPv6 address without brackets ("::1:7000").
func hostPort(addr string) string {
	i := strings.LastIndex(addr, ":")
	if i < 0 || strings.HasPrefix(addr, "[") || strings.Count(addr, ":") == 1 {
		return addr
	}
	return net.JoinHostPort(addr[:i], addr[i+1:])
}
