package inspect

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
)

var update = flag.Bool("update", false, "capture the INFO fixtures in testdata/ again from private redis-servers")

// The fixtures are INFO EVERYTHING from real servers after the same known
// traffic (see putTraffic). TestLiveInfo captures it again from the installed
// redis-server and runs the same checks on the live text as on the fixture,
// so the fixtures cannot drift from what a real server says; -update saves
// the live text as the new fixtures.
const (
	fixtureStandalone  = "standalone.txt"   // a master with one replica attached
	fixtureReplica     = "replica.txt"      // that replica
	fixtureClusterNode = "cluster-node.txt" // a cluster master with one replica
)

// putTraffic writes what the checks expect to find in INFO: two keys in db0
// (one with a TTL), one in db1, one hit, two misses and three failed commands.
func putTraffic(t *testing.T, c *redis.Client, withDB1 bool) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "ecommerce:1:product:1", "x", 0).Err())
	must(c.Set(ctx, "ecommerce:1:categories:all", "[]", time.Hour).Err())
	must(c.Get(ctx, "ecommerce:1:product:1").Err())
	for _, k := range []string{"ecommerce:1:product:2", "ecommerce:1:product:3"} {
		if err := c.Get(ctx, k).Err(); err != redis.Nil {
			t.Fatalf("GET %s: %v, want a miss", k, err)
		}
	}
	// Errors for errorstats: unknown command, not an integer, wrong type.
	_ = c.Do(ctx, "NOSUCHCOMMAND").Err()
	_ = c.Incr(ctx, "ecommerce:1:product:1").Err()
	_ = c.LPush(ctx, "ecommerce:1:product:1", "x").Err()
	if withDB1 {
		// A pipeline keeps SELECT 1 on one connection.
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Select(ctx, 1)
			p.Set(ctx, "other", "y", 0)
			p.Select(ctx, 0)
			return nil
		})
		must(err)
	}
}

func infoEverything(t *testing.T, c *redis.Client) string {
	t.Helper()
	text, err := c.Info(context.Background(), "everything").Result()
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Eventually(t, 20*time.Second, what, cond)
}

// captureLive starts a standalone master with a replica and a cluster, puts
// the known traffic on them and returns their INFO by fixture name.
func captureLive(t *testing.T) map[string]string {
	master := redistest.Start(t)
	replica := redistest.Start(t, redistest.Options{Args: []string{"--replicaof", "127.0.0.1", fmt.Sprint(master.Port)}})
	mc, rc := client(t, master), client(t, replica)
	putTraffic(t, mc, true)
	waitFor(t, "the replica to sync", func() bool {
		in := ParseInfo(infoEverything(t, rc))
		link, _ := in.Get("master_link_status")
		return link == "up" && in.Keyspace()[1].Keys == 1 && in.Keyspace()[0].Keys == 2
	})
	waitFor(t, "the master to estimate avg_ttl", func() bool {
		return ParseInfo(infoEverything(t, mc)).Keyspace()[0].AvgTTLMs > 0
	})
	waitFor(t, "the master to see its replica online", func() bool {
		r := ParseInfo(infoEverything(t, mc)).Replicas()
		return len(r) == 1 && r[0].State == "online"
	})

	cluster := redistest.StartCluster(t, 1, 1)
	cc := client(t, cluster.Masters[0])
	putTraffic(t, cc, false)
	// avg_ttl is an estimate the expire cycle refreshes a few times a second.
	waitFor(t, "the cluster node to estimate avg_ttl", func() bool {
		return ParseInfo(infoEverything(t, cc)).Keyspace()[0].AvgTTLMs > 0
	})

	return map[string]string{
		fixtureStandalone:  infoEverything(t, mc),
		fixtureReplica:     infoEverything(t, rc),
		fixtureClusterNode: infoEverything(t, cc),
	}
}

// client connects as cachectl does: without go-redis's CLIENT SETINFO
// handshake, which Redis 7.0 answers with an error that would show in errorstats.
func client(t *testing.T, s *redistest.Server) *redis.Client {
	opt := s.ClientOptions()
	opt.DisableIdentity = true
	opt.Protocol = 2
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var versionRE = regexp.MustCompile(`^\d+\.\d+\.\d+`)

// checkCaptured asserts what a user of stats would read from each kind of server.
func checkCaptured(t *testing.T, name, text string) {
	t.Helper()
	in := ParseInfo(text)
	s := FromInfo(in)
	if len(s.Missing) > 0 {
		t.Errorf("%s: fields missing from a real server's INFO: %v", name, s.Missing)
	}
	if !versionRE.MatchString(s.Version) {
		t.Errorf("%s: version %q", name, s.Version)
	}
	for _, sec := range []string{"server", "clients", "memory", "stats", "replication", "cpu", "cluster", "keyspace", "commandstats", "errorstats"} {
		if in.Section(sec) == nil {
			t.Errorf("%s: no %s section; got %v", name, sec, in.Sections())
		}
	}
	if s.UptimeS < 0 || s.Memory.Used <= 0 || s.Memory.Peak < s.Memory.Used/2 || s.Memory.Policy == "" || s.Memory.Fragmentation <= 0 {
		t.Errorf("%s: implausible memory %+v uptime %d", name, s.Memory, s.UptimeS)
	}
	if s.Clients < 1 {
		t.Errorf("%s: %d clients, want at least the one asking", name, s.Clients)
	}
	// The error counts: one unknown command (ERR), one INCR on a non-number
	// (ERR), one LPUSH on a string (WRONGTYPE); the replica saw none.
	wantErr := map[string]int64{"ERR": 2, "WRONGTYPE": 1}
	if name == fixtureReplica {
		wantErr = map[string]int64{}
	}
	if got := in.ErrorStats(); fmt.Sprint(got) != fmt.Sprint(wantErr) {
		t.Errorf("%s: errorstats %v, want %v", name, got, wantErr)
	}
	switch name {
	case fixtureStandalone, fixtureClusterNode:
		if s.Role != "master" {
			t.Errorf("%s: role %q", name, s.Role)
		}
		if s.Hits != 1 || s.Misses != 2 {
			t.Errorf("%s: hits %d misses %d, want 1 and 2", name, s.Hits, s.Misses)
		}
		if r, ok := s.HitRate(); !ok || r < 0.333 || r > 0.334 {
			t.Errorf("%s: hit rate %v %v, want 1/3", name, r, ok)
		}
		get := in.CommandStats()["get"]
		// Three GETs can take under a microsecond in all: usec may be 0, but
		// it must agree with usec_per_call.
		if get.Calls != 3 || get.Usec < 0 || math.Abs(get.UsecPerCall-float64(get.Usec)/3) > 0.01 {
			t.Errorf("%s: cmdstat get %+v, want 3 calls and usec_per_call = usec / calls", name, get)
		}
		if in.CommandStats()["incr"].FailedCalls != 1 {
			t.Errorf("%s: cmdstat incr %+v, want 1 failed call", name, in.CommandStats()["incr"])
		}
		if r := in.Replicas(); len(r) != 1 || r[0].State != "online" || !strings.HasPrefix(r[0].Addr, "127.0.0.1:") {
			t.Errorf("%s: replicas %+v, want one online", name, r)
		}
	case fixtureReplica:
		if s.Role != "slave" {
			t.Errorf("%s: role %q", name, s.Role)
		}
		if link, _ := in.Get("master_link_status"); link != "up" {
			t.Errorf("%s: master_link_status %q", name, link)
		}
		if s.Hits != 0 || s.Misses != 0 {
			t.Errorf("%s: hits %d misses %d on an unread replica", name, s.Hits, s.Misses)
		}
	}
	wantDBs := "map[0:{0 2 1} 1:{1 1 0}]"
	if name == fixtureClusterNode {
		wantDBs = "map[0:{0 2 1}]"
	}
	if got := fmt.Sprint(dbCounts(s.DBs)); got != wantDBs {
		t.Errorf("%s: keyspace %s, want %s (index keys expires)", name, got, wantDBs)
	}
	// A replica does not run the expire cycle that estimates avg_ttl: it says 0.
	if db := s.DBs[0]; name != fixtureReplica && (db.AvgTTLMs <= 0 || db.AvgTTLMs > time.Hour.Milliseconds()) {
		t.Errorf("%s: db0 avg_ttl %d ms, want within the hour the key was given", name, db.AvgTTLMs)
	}
	if enabled, ok := in.ClusterEnabled(); !ok || enabled != (name == fixtureClusterNode) {
		t.Errorf("%s: cluster_enabled %v %v", name, enabled, ok)
	}
}

type dbCount struct {
	Index         int
	Keys, Expires int64
}

func dbCounts(dbs map[int]DB) map[int]dbCount {
	out := map[int]dbCount{}
	for i, db := range dbs {
		out[i] = dbCount{db.Index, db.Keys, db.Expires}
	}
	return out
}

func TestLiveInfo(t *testing.T) {
	live := captureLive(t)
	for name, text := range live {
		t.Run(name, func(t *testing.T) {
			checkCaptured(t, name, text)
			path := filepath.Join("testdata", name)
			if *update {
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestCapturedFixtures(t *testing.T) {
	for _, name := range []string{fixtureStandalone, fixtureReplica, fixtureClusterNode} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatalf("%v (capture it with go test ./inspect -run TestLiveInfo -update)", err)
			}
			if !strings.Contains(string(data), "\r\n") {
				t.Errorf("%s lost its \\r\\n line ends; the fixture must be the server's bytes", name)
			}
			checkCaptured(t, name, string(data))
		})
	}
}
