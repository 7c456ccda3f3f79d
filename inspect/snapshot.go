package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redisconn"
)

// ErrNotPermitted marks a command the server refused for this ACL user
// (NOPERM); it is redisconn.ErrNotPermitted.
var ErrNotPermitted = redisconn.ErrNotPermitted

// NodeError is a failure of one command on one server.
type NodeError struct {
	Addr string // host:port of the node
	Op   string // the command, e.g. "INFO"
	Err  error
}

func (e *NodeError) Error() string {
	return strings.ToLower(e.Op) + " " + e.Addr + ": " + e.Err.Error()
}

// Unwrap exposes the cause, and ErrNotPermitted for a NOPERM reply.
func (e *NodeError) Unwrap() []error {
	if isNoPerm(e.Err) {
		return []error{ErrNotPermitted, e.Err}
	}
	return []error{e.Err}
}

// NotPermitted reports whether err is an ACL refusal (NOPERM) from any
// command, wrapped or not.
func NotPermitted(err error) bool { return redisconn.NotPermitted(err) }

func isNoPerm(err error) bool { return redisconn.NotPermitted(err) }

// Memory is the memory part of a snapshot, in bytes.
type Memory struct {
	Used          int64   // used_memory
	Peak          int64   // used_memory_peak
	Max           int64   // maxmemory; 0 means no limit
	RSS           int64   // used_memory_rss
	Policy        string  // maxmemory_policy
	Fragmentation float64 // mem_fragmentation_ratio (RSS / used)
}

// Snapshot is what one server (or, aggregated, a whole cluster) said about
// itself at one moment. Counters are cumulative since the server started;
// Rates turns two snapshots into per-second figures.
type Snapshot struct {
	Addr    string        // host:port; the caller's label for an aggregate
	Time    time.Time     // when the reply arrived (local clock, monotonic)
	Took    time.Duration // round trip of INFO (slowest node for an aggregate)
	RunID   string        // run_id: changes when the server restarts
	Version string
	Role    string
	Cluster bool
	UptimeS int64

	Clients int64 // connected_clients
	Memory  Memory
	DBs     map[int]DB // keyspace section: databases that hold keys

	Hits        int64   // keyspace_hits
	Misses      int64   // keyspace_misses
	Evicted     int64   // evicted_keys
	Expired     int64   // expired_keys
	OpsPerSec   float64 // instantaneous_ops_per_sec: the server's own recent average
	Commands    int64   // total_commands_processed
	NetInBytes  int64   // total_net_input_bytes
	NetOutBytes int64   // total_net_output_bytes
	CPUSys      float64 // used_cpu_sys, seconds
	CPUUser     float64 // used_cpu_user, seconds

	// Missing lists the INFO fields this snapshot reads that the server did
	// not send; their values above are zero and should be shown as unknown.
	Missing []string
	// Nodes holds one snapshot per master when this one aggregates a cluster.
	Nodes []Snapshot
}

// HitRate is hits / (hits + misses) since the server started; ok is false
// before the first lookup.
func (s Snapshot) HitRate() (rate float64, ok bool) {
	return ratio(s.Hits, s.Misses)
}

// Keys returns the number of keys in database db (0 when it holds none).
func (s Snapshot) Keys(db int) int64 { return s.DBs[db].Keys }

// Has reports whether the server sent the INFO field a snapshot value comes from.
func (s Snapshot) Has(field string) bool { return !slices.Contains(s.Missing, field) }

func ratio(hits, misses int64) (float64, bool) {
	if hits+misses <= 0 {
		return 0, false
	}
	return float64(hits) / float64(hits+misses), true
}

// FromInfo builds a snapshot from a parsed INFO reply (which should hold the
// default sections: server, clients, memory, stats, replication, cpu,
// cluster, keyspace). Addr and Time are left to the caller.
func FromInfo(in Info) Snapshot {
	var s Snapshot
	var missing []string
	str := func(field string) string {
		v, ok := in.Get(field)
		if !ok {
			missing = append(missing, field)
		}
		return v
	}
	i64 := func(field string) int64 {
		v, ok := in.Int(field)
		if !ok {
			missing = append(missing, field)
		}
		return v
	}
	f64 := func(field string) float64 {
		v, ok := in.Float(field)
		if !ok {
			missing = append(missing, field)
		}
		return v
	}
	if v, ok := in.Version(); ok {
		s.Version = v
	} else {
		missing = append(missing, "redis_version")
	}
	s.RunID = str("run_id")
	s.Role = str("role")
	s.Cluster, _ = in.ClusterEnabled()
	s.UptimeS = i64("uptime_in_seconds")
	s.Clients = i64("connected_clients")
	s.Memory = Memory{
		Used:          i64("used_memory"),
		Peak:          i64("used_memory_peak"),
		Max:           i64("maxmemory"),
		RSS:           i64("used_memory_rss"),
		Policy:        str("maxmemory_policy"),
		Fragmentation: f64("mem_fragmentation_ratio"),
	}
	s.DBs = in.Keyspace()
	s.Hits = i64("keyspace_hits")
	s.Misses = i64("keyspace_misses")
	s.Evicted = i64("evicted_keys")
	s.Expired = i64("expired_keys")
	s.OpsPerSec = f64("instantaneous_ops_per_sec")
	s.Commands = i64("total_commands_processed")
	s.NetInBytes = i64("total_net_input_bytes")
	s.NetOutBytes = i64("total_net_output_bytes")
	s.CPUSys = f64("used_cpu_sys")
	s.CPUUser = f64("used_cpu_user")
	s.Missing = missing
	return s
}

// Take asks every master for INFO and returns a snapshot: the server's own
// for a standalone client, or for a cluster client the sum over its masters
// with one snapshot per master in Nodes. Replicas are not asked: they hold
// copies of the masters' keys, and the dashboard follows the primary traffic.
// A NOPERM reply is reported as ErrNotPermitted.
func Take(ctx context.Context, c redis.UniversalClient) (Snapshot, error) {
	switch c := c.(type) {
	case *redis.Client:
		return takeNode(ctx, c)
	case *redis.ClusterClient:
		var mu sync.Mutex
		var nodes []Snapshot
		err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			s, err := takeNode(ctx, node)
			if err != nil {
				return err
			}
			mu.Lock()
			nodes = append(nodes, s)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return Snapshot{}, err
		}
		return Aggregate(nodes), nil
	default:
		return Snapshot{}, fmt.Errorf("unsupported redis client %T", c)
	}
}

func takeNode(ctx context.Context, node *redis.Client) (Snapshot, error) {
	start := time.Now()
	// Plain INFO (the default sections) works on every server version, unlike
	// INFO with several section names, and costs the server microseconds.
	text, err := node.Info(ctx).Result()
	if err != nil {
		return Snapshot{}, &NodeError{Addr: node.Options().Addr, Op: "INFO", Err: err}
	}
	now := time.Now()
	s := FromInfo(ParseInfo(text))
	s.Addr = node.Options().Addr
	s.Time = now
	s.Took = now.Sub(start)
	return s, nil
}

// Aggregate sums the snapshots of a cluster's masters: counters, clients,
// memory and keys add up; uptime is the youngest node's; the version, role and
// eviction policy are the nodes' common value or "mixed". Nodes are sorted by address.
func Aggregate(nodes []Snapshot) Snapshot {
	nodes = slices.Clone(nodes)
	slices.SortFunc(nodes, func(a, b Snapshot) int { return strings.Compare(a.Addr, b.Addr) })
	agg := Snapshot{Cluster: true, DBs: map[int]DB{}, Nodes: nodes}
	unlimited := false
	for i, n := range nodes {
		if i == 0 || n.Time.After(agg.Time) {
			agg.Time = n.Time
		}
		agg.Took = max(agg.Took, n.Took)
		if i == 0 || n.UptimeS < agg.UptimeS {
			agg.UptimeS = n.UptimeS
		}
		agg.Version = common(i, agg.Version, n.Version)
		agg.Role = common(i, agg.Role, n.Role)
		agg.Memory.Policy = common(i, agg.Memory.Policy, n.Memory.Policy)
		agg.Clients += n.Clients
		agg.Memory.Used += n.Memory.Used
		agg.Memory.Peak += n.Memory.Peak
		agg.Memory.Max += n.Memory.Max
		unlimited = unlimited || n.Memory.Max == 0
		agg.Memory.RSS += n.Memory.RSS
		for idx, db := range n.DBs {
			a := agg.DBs[idx]
			a.Index = idx
			// The average TTL of the union, weighted by keys with a TTL.
			if e := a.Expires + db.Expires; e > 0 {
				a.AvgTTLMs = (a.AvgTTLMs*a.Expires + db.AvgTTLMs*db.Expires) / e
			}
			a.Keys += db.Keys
			a.Expires += db.Expires
			agg.DBs[idx] = a
		}
		agg.Hits += n.Hits
		agg.Misses += n.Misses
		agg.Evicted += n.Evicted
		agg.Expired += n.Expired
		agg.OpsPerSec += n.OpsPerSec
		agg.Commands += n.Commands
		agg.NetInBytes += n.NetInBytes
		agg.NetOutBytes += n.NetOutBytes
		agg.CPUSys += n.CPUSys
		agg.CPUUser += n.CPUUser
		for _, m := range n.Missing {
			if !slices.Contains(agg.Missing, m) {
				agg.Missing = append(agg.Missing, m)
			}
		}
	}
	if unlimited {
		// One node without a limit makes the cluster's total unlimited too.
		agg.Memory.Max = 0
	}
	if agg.Memory.Used > 0 {
		agg.Memory.Fragmentation = float64(agg.Memory.RSS) / float64(agg.Memory.Used)
	}
	return agg
}

func common(i int, acc, v string) string {
	switch {
	case i == 0:
		return v
	case acc == v:
		return acc
	}
	return "mixed"
}
