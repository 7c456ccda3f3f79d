package keyspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
)

// faultRuns is how many times each fault scenario runs: a few by default,
// more with CACHECTL_FAULT_RUNS (perf/faults/run.sh sets it) to measure how
// often a fault that depends on timing would have slipped through.
func faultRuns(t *testing.T) int {
	if n, err := strconv.Atoi(os.Getenv("CACHECTL_FAULT_RUNS")); err == nil && n > 0 {
		return n
	}
	return 2
}

// clientOptions are the options cachectl itself connects with (short
// timeouts, one retry), for addr.
func clientOptions(addr string) *redis.Options {
	return &redis.Options{Addr: addr, Protocol: 2, MaxRetries: 1, DialerRetries: 1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second}
}

// dial connects to addr with clientOptions; the client closes when the test
// ends.
func dial(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(clientOptions(addr))
	t.Cleanup(func() { c.Close() })
	return c
}

// countMatching counts the distinct keys matching match on c (SCAN may
// return a key twice while the server resizes its table).
func countMatching(t *testing.T, c *redis.Client, match string) int {
	t.Helper()
	seen := map[string]bool{}
	err := ScanNode(context.Background(), c, match, 1000, func(keys []string) error {
		for _, k := range keys {
			seen[k] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("count %s on %s: %v", match, NodeAddr(c), err)
	}
	return len(seen)
}

// seedProductsAndColors seeds products product keys, a clear's target,
// and colors product_colors keys beside them, all with a TTL.
func seedProductsAndColors(t *testing.T, c redis.UniversalClient, s Schema, products, colors int) {
	t.Helper()
	seedWithTTL(t, c, productKeys(s, products))
	others := make([]string, colors)
	for i := range others {
		others[i] = s.Key(fmt.Sprintf("product_colors:%d", i))
	}
	seedWithTTL(t, c, others)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() error) {
	t.Helper()
	testwait.Until(t, d, what, cond)
}

func TestClearFailoverBehindOneEndpoint(t *testing.T) {
	// A primary with a replica behind one address (a Sentinel VIP, a managed
	// Redis's DNS name). Part way through the clear the replica is promoted
	// and new connections go to it. A SCAN cursor from the old primary
	// means nothing on the new one: the clear must either start over there
	// and finish, or say it is incomplete. Never "complete" with keys left.
	s := New(DefaultPrefix, DefaultVersion)
	const products, colors = 40000, 2000
	sel := Selection{must(t)(s.Group(GroupProducts))}
	kill := func(_ *testing.T, primary, _ *redistest.Server) { primary.Stop() }
	oldPrimary := []struct {
		name string
		act  func(t *testing.T, primary, replica *redistest.Server)
		// maxImpact paces the clear: its probe's connection breaks with
		// the old primary and finds the new one behind the address.
		maxImpact time.Duration
	}{
		{"old primary stays up", func(*testing.T, *redistest.Server, *redistest.Server) {}, 0},
		{"old primary killed", kill, 0},
		{"old primary killed, paced", kill, time.Millisecond},
		{"old primary demoted", func(t *testing.T, primary, replica *redistest.Server) {
			if err := primary.Client(t).ReplicaOf(context.Background(), "127.0.0.1", strconv.Itoa(replica.Port)).Err(); err != nil {
				t.Errorf("demote: %v", err)
			}
		}, 0},
	}
	for _, op := range oldPrimary {
		t.Run(op.name, func(t *testing.T) {
			for run := range faultRuns(t) {
				ctx := context.Background()
				primary, replica := redistest.Start(t), redistest.Start(t)
				pc, rc := primary.Client(t), replica.Client(t)
				seedProductsAndColors(t, pc, s, products, colors)
				if err := rc.ReplicaOf(ctx, "127.0.0.1", strconv.Itoa(primary.Port)).Err(); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the replica to sync", 20*time.Second, func() error {
					if n := rc.DBSize(ctx).Val(); n != products+colors {
						return fmt.Errorf("replica has %d keys", n)
					}
					return nil
				})

				proxy := startProxy(t, primary.Addr)
				res, err := Clear(ctx, dial(t, proxy.Addr), sel, ClearConfig{Batch: 200, MaxImpact: op.maxImpact, Progress: faultAt(products/5, func() {
					if err := rc.ReplicaOf(ctx, "NO", "ONE").Err(); err != nil {
						t.Errorf("promote: %v", err)
					}
					proxy.Switch(replica.Addr)
					op.act(t, primary, replica)
				})})
				left := countMatching(t, rc, s.Key("product:*"))
				t.Logf("run %d: complete=%v passes=%d deleted=%d err=%v; left on the new primary: %d", run+1, res.Complete, res.Passes, res.Deleted, err, left)
				if res.Complete && left > 0 {
					t.Errorf("complete, yet %d product keys are left on the server the address leads to now", left)
					continue
				}
				if res.Complete != (err == nil) {
					t.Fatalf("complete=%v with err %v", res.Complete, err)
				}
				// The clear starts over on the new primary and finishes there.
				if !res.Complete || res.Passes < 2 {
					t.Errorf("complete=%v after %d passes, want complete after a second pass", res.Complete, res.Passes)
				}
				if n := countMatching(t, rc, s.Key("product_colors:*")); n != colors {
					t.Errorf("%d of %d keys outside the target are left", n, colors)
				}
				if op.maxImpact > 0 && (res.Impact == nil || res.Impact.Probes == 0) {
					t.Errorf("a paced clear reports no probe: impact %+v", res.Impact)
				}
			}
		})
	}
}

func TestClearServerRestartedBehindTheAddress(t *testing.T) {
	// The server restarts mid-clear and reloads its data from disk: its new
	// run_id says the old cursor is void, so the clear starts over.
	s := New(DefaultPrefix, DefaultVersion)
	srv := redistest.Start(t, redistest.Options{Args: []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always"}})
	admin := srv.Client(t)
	const total = 30000
	seedWithTTL(t, admin, productKeys(s, total))
	res, err := Clear(context.Background(), dial(t, srv.Addr), Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{Batch: 200,
		Progress: faultAt(6000, func() { srv.Restart(t) })})
	left := admin.DBSize(context.Background()).Val()
	t.Logf("complete=%v passes=%d deleted=%d err=%v left=%d", res.Complete, res.Passes, res.Deleted, err, left)
	if res.Complete && left > 0 {
		t.Fatalf("complete with %d keys left after a restart", left)
	}
	if !res.Complete || res.Passes < 2 {
		t.Errorf("complete=%v passes=%d, want complete after starting over", res.Complete, res.Passes)
	}
}

// clusterCounts returns the keys matching match on every master.
func clusterCounts(t *testing.T, cl *redistest.Cluster, match string) (total int, per []int) {
	t.Helper()
	for _, m := range cl.Masters {
		n := countMatching(t, m.Client(t), match)
		per = append(per, n)
		total += n
	}
	return total, per
}

func TestClearDuringSlotMigration(t *testing.T) {
	// A rebalance moves slots, one at a time, while the clear runs: keys
	// leave an unscanned part of one master for an already scanned part of
	// another, or for a master that joined after the clear began. The clear
	// must notice (slot map, config epochs, MIGRATING/IMPORTING) and start
	// over or report incomplete; after the rebalance a re-run finishes.
	s := New(DefaultPrefix, DefaultVersion)
	const products, colors = 30000, 1500
	sel := Selection{must(t)(s.Group(GroupProducts))}
	for _, dest := range []string{"to an existing master", "to a new master"} {
		t.Run(dest, func(t *testing.T) {
			for run := range faultRuns(t) {
				ctx := context.Background()
				cl := redistest.StartCluster(t, 3, 0)
				cc := cl.Client(t)
				seedProductsAndColors(t, cc, s, products, colors)
				from, to := cl.Masters[0], cl.Masters[1]
				if dest == "to a new master" {
					to = cl.AddMaster(t)
				}
				slots := cl.SlotsOf(t, from)

				// Throttled like a production rebalance: one slot, then a
				// pause. It stops between slots when the clear has ended,
				// so that no slot is left half moved.
				var (
					wg      sync.WaitGroup
					ended   atomic.Bool
					moved   int
					migErr  error
					started = make(chan struct{})
				)
				wg.Go(func() {
					close(started)
					for _, slot := range slots[len(slots)-40:] {
						if ended.Load() {
							return
						}
						if migErr = cl.MigrateSlot(ctx, slot, from, to); migErr != nil {
							return
						}
						moved++
						// Paced on purpose, so that the migration spans the clear.
						time.Sleep(15 * time.Millisecond)
					}
				})
				<-started
				res, err := Clear(ctx, redisClusterClient(t, cl), sel, ClearConfig{Batch: 200})
				ended.Store(true)
				wg.Wait()
				if migErr != nil {
					t.Fatalf("migration: %v", migErr)
				}
				left, per := clusterCounts(t, cl, s.Key("product:*"))
				var ce *ClearError
				errors.As(err, &ce)
				t.Logf("run %d: %d slots moved; complete=%v passes=%d deleted=%d err=%v; left %d %v",
					run+1, moved, res.Complete, res.Passes, res.Deleted, err, left, per)
				if res.Complete && left > 0 {
					t.Errorf("complete, yet %d product keys are left %v", left, per)
				}
				if !res.Complete && (ce == nil || !ce.Retry) {
					t.Errorf("incomplete with %v: want a *ClearError that says running again helps", err)
				}
				if n, _ := clusterCounts(t, cl, s.Key("product_colors:*")); n != colors {
					t.Errorf("%d of %d keys outside the target are left", n, colors)
				}
				// The rebalance is over: the same clear finishes the job.
				again, err := Clear(ctx, redisClusterClient(t, cl), sel, ClearConfig{})
				if left, per = clusterCounts(t, cl, s.Key("product:*")); err != nil || !again.Complete || left != 0 {
					t.Fatalf("re-run after the rebalance: complete=%v err=%v, %d left %v", again.Complete, err, left, per)
				}
			}
		})
	}
}

// redisClusterClient is a cluster client seeded with every master, as cachectl builds one.
func redisClusterClient(t *testing.T, cl *redistest.Cluster) *redis.ClusterClient {
	var addrs []string
	for _, m := range cl.Masters {
		addrs = append(addrs, m.Addr)
	}
	o := clientOptions("")
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Protocol: 2, MaxRetries: 1,
		DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClearSeedMasterKilled(t *testing.T) {
	// The master the clear was seeded with dies part way. Without a
	// replica to take over, the clear is incomplete and names a master that
	// still answers, so that the hint can say where to run it again. With
	// one, the clear may start over on the new topology and finish; if it
	// does not, a clear seeded where the error says finishes after the
	// failover.
	s := New(DefaultPrefix, DefaultVersion)
	sel := Selection{must(t)(s.Group(GroupProducts))}
	for _, replicas := range []int{0, 1} {
		t.Run(fmt.Sprintf("%d replicas", replicas), func(t *testing.T) {
			cl := redistest.StartCluster(t, 3, replicas)
			seedWithTTL(t, cl.Client(t), productKeys(s, 30000))
			seed := cl.Masters[0]
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{seed.Addr}, Protocol: 2, MaxRetries: 1, DialerRetries: 1,
				DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
			defer c.Close()
			res, err := Clear(context.Background(), c, sel, ClearConfig{Batch: 100, Progress: faultAt(3000, seed.Stop)})
			survivors := append([]*redistest.Server{}, cl.Masters[1:]...)
			survivors = append(survivors, cl.Replicas...)
			left := func() (n int) {
				for _, m := range survivors {
					n += countMatching(t, m.Client(t), s.Key("product:*"))
				}
				return n
			}
			var ce *ClearError
			errors.As(err, &ce)
			t.Logf("complete=%v passes=%d deleted=%d err=%v left=%d", res.Complete, res.Passes, res.Deleted, err, left())
			if res.Complete {
				if replicas == 0 || left() != 0 {
					t.Fatalf("complete with the seed dead (%d replicas), %d keys left", replicas, left())
				}
				return
			}
			if ce == nil || !ce.Retry || ce.Live == "" || ce.Live == seed.Addr {
				t.Fatalf("err %v: want a *ClearError with a retry on a live master other than %s", err, seed.Addr)
			}
			live := dial(t, ce.Live)
			if err := live.Ping(context.Background()).Err(); err != nil {
				t.Fatalf("the named master %s does not answer: %v", ce.Live, err)
			}
			if replicas == 0 {
				return
			}
			waitFor(t, "the replica to take over", 30*time.Second, func() error {
				slots, err := live.ClusterSlots(context.Background()).Result()
				if err != nil {
					return err
				}
				for _, r := range slots {
					if r.Start == 0 && len(r.Nodes) > 0 && r.Nodes[0].Addr != seed.Addr {
						return nil
					}
				}
				return fmt.Errorf("slot 0 is still served by %s", seed.Addr)
			})
			again := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{ce.Live}, Protocol: 2})
			defer again.Close()
			if res, err := Clear(context.Background(), again, sel, ClearConfig{}); err != nil || !res.Complete || left() != 0 {
				t.Fatalf("re-run at %s after the failover: complete=%v err=%v, %d left", ce.Live, res.Complete, err, left())
			}
		})
	}
}

func TestClearDuringAPlannedClusterFailover(t *testing.T) {
	// An operator fails one master over to its replica (CLUSTER FAILOVER
	// TAKEOVER, as a managed Redis's maintenance does) while the clear
	// runs: the old master stays up as a replica, its slots move to the new
	// one. The clear must finish, or say it is incomplete and that running
	// again helps; never "complete" with keys left on the masters that
	// serve them now. Paced, the probe of the demoted master must not stop
	// it either.
	s := New(DefaultPrefix, DefaultVersion)
	const products, colors = 30000, 1500
	sel := Selection{must(t)(s.Group(GroupProducts))}
	for _, maxImpact := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprintf("max-impact %v", maxImpact), func(t *testing.T) {
			ctx := context.Background()
			cl := redistest.StartCluster(t, 3, 1)
			cc := cl.Client(t)
			seedProductsAndColors(t, cc, s, products, colors)
			old := cl.Masters[0]
			replica := cl.ReplicaOf(old)
			serving := append([]*redistest.Server{replica}, cl.Masters[1:]...)
			count := func(match string) (n int) {
				for _, m := range serving {
					n += countMatching(t, m.Client(t), match)
				}
				return n
			}
			waitFor(t, "the replica to sync", 20*time.Second, func() error {
				if n := countMatching(t, replica.Client(t), "*"); n != countMatching(t, old.Client(t), "*") {
					return fmt.Errorf("replica has %d keys", n)
				}
				return nil
			})
			var fired bool
			res, err := Clear(ctx, redisClusterClient(t, cl), sel, ClearConfig{Batch: 200, MaxImpact: maxImpact,
				Progress: faultAt(products/4, func() {
					fired = true
					if err := dial(t, replica.Addr).Do(ctx, "CLUSTER", "FAILOVER", "TAKEOVER").Err(); err != nil {
						t.Errorf("failover: %v", err)
					}
				})})
			if !fired {
				t.Fatal("the failover did not start during the clear")
			}
			cl.Promote(t, replica) // wait until every node names the new master
			left := count(s.Key("product:*"))
			var ce *ClearError
			errors.As(err, &ce)
			t.Logf("complete=%v passes=%d deleted=%d err=%v; left on the serving masters: %d", res.Complete, res.Passes, res.Deleted, err, left)
			if res.Complete && left > 0 {
				t.Errorf("complete, yet %d product keys are left", left)
			}
			if !res.Complete && (ce == nil || !ce.Retry) {
				t.Errorf("incomplete with %v: want a *ClearError that says running again helps", err)
			}
			if n := count(s.Key("product_colors:*")); n != colors {
				t.Errorf("%d of %d keys outside the target are left", n, colors)
			}
			if maxImpact > 0 && (res.Impact == nil || res.Impact.Probes == 0) {
				t.Errorf("a paced clear reports no probe: impact %+v", res.Impact)
			}
			again, err := Clear(ctx, redisClusterClient(t, cl), sel, ClearConfig{})
			if left = count(s.Key("product:*")); err != nil || !again.Complete || left != 0 {
				t.Fatalf("re-run after the failover: complete=%v err=%v, %d left", again.Complete, err, left)
			}
		})
	}
}

func TestClearSeedThatLeftTheCluster(t *testing.T) {
	// A node removed from the cluster (redis-cli --cluster del-node ends
	// with CLUSTER RESET SOFT; the process stays up) is still the first
	// seed. It knows only itself: the clear must take the cluster's
	// members from a node that sees every slot served, not from it.
	ctx := context.Background()
	s := New(DefaultPrefix, DefaultVersion)
	cl := redistest.StartCluster(t, 3, 0)
	seedWithTTL(t, cl.Client(t), productKeys(s, 3000))
	masters := slices.Clone(cl.Masters)
	x := cl.AddMaster(t)
	addrs := []string{x.Addr}
	for _, m := range masters {
		addrs = append(addrs, m.Addr)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Protocol: 2, MaxRetries: 1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	defer cc.Close()
	if err := cc.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	xid := x.NodeID(t)
	for _, m := range masters {
		if err := m.Client(t).Do(ctx, "CLUSTER", "FORGET", xid).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Client(t).Do(ctx, "CLUSTER", "RESET", "SOFT").Err(); err != nil {
		t.Fatal(err)
	}
	sel := Selection{must(t)(s.Group(GroupProducts))}
	counts, err := Count(ctx, cc, sel, 0)
	if err != nil || counts[0] != 3000 {
		t.Errorf("Count with a stale first seed: %v %v, want 3000", counts, err)
	}
	res, err := Clear(ctx, cc, sel, ClearConfig{})
	left, per := clusterCounts(t, &redistest.Cluster{Masters: masters}, s.Key("product:*"))
	if err != nil || !res.Complete || left != 0 || res.Deleted != 3000 {
		t.Errorf("complete=%v deleted=%d err=%v; %d left %v: want all 3000 deleted", res.Complete, res.Deleted, err, left, per)
	}
}

func TestClearOrphanKeysSayRunningAgainWillNotHelp(t *testing.T) {
	// A master holds a key of a slot it does not own, as an interrupted
	// migration leaves it. The cluster stands still, so no number of passes
	// removes it: the clear says so, and does not spend its passes.
	ctx := context.Background()
	s := New(DefaultPrefix, DefaultVersion)
	cl := redistest.StartCluster(t, 3, 0)
	cc := cl.Client(t)
	seedWithTTL(t, cc, productKeys(s, 3000))
	owner, other := cl.Masters[0], cl.Masters[1]
	slot := cl.SlotsOf(t, owner)[5]
	oc := other.Client(t)
	if err := oc.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", owner.NodeID(t)).Err(); err != nil {
		t.Fatal(err)
	}
	var key string
	for i := 0; key == ""; i++ {
		if k := s.Key(fmt.Sprintf("product:orphan:%d", i)); cc.ClusterKeySlot(ctx, k).Val() == int64(slot) {
			key = k
		}
	}
	conn := oc.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "ASKING").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Set(ctx, key, "x", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := oc.Do(ctx, "CLUSTER", "SETSLOT", slot, "STABLE").Err(); err != nil {
		t.Fatal(err)
	}
	res, err := Clear(ctx, redisClusterClient(t, cl), Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{})
	var ce *ClearError
	if !errors.As(err, &ce) || res.Complete || ce.Retry || !errors.Is(err, errOrphanKeys) || res.Passes != 1 {
		t.Fatalf("orphan key: complete=%v passes=%d err=%v, want incomplete after one pass, saying running again will not help", res.Complete, res.Passes, err)
	}
}

func TestClearLimitHoldsForEachPass(t *testing.T) {
	// A restart reloads the last snapshot mid-clear: the second pass finds
	// keys the first had deleted. They are not keys beyond the count, so
	// --max-keys (Limit) does not stop the clear.
	ctx := context.Background()
	s := New(DefaultPrefix, DefaultVersion)
	srv := redistest.Start(t)
	admin := srv.Client(t)
	const total = 20000
	seedWithTTL(t, admin, productKeys(s, total))
	if err := admin.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := Clear(ctx, dial(t, srv.Addr), Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{Batch: 200, Limit: total,
		Progress: faultAt(total/2, func() { srv.Restart(t) })})
	if err != nil || !res.Complete || res.Passes < 2 || admin.DBSize(ctx).Val() != 0 {
		t.Errorf("complete=%v passes=%d err=%v, %d left: want complete after starting over within the limit", res.Complete, res.Passes, err, admin.DBSize(ctx).Val())
	}
}

func TestClearReconnectsToTheSameServer(t *testing.T) {
	// The link drops, and the address may refuse connections for a moment:
	// the clear dials again until the same server (same run_id) answers,
	// keeps its cursor, and finishes in one pass.
	s := New(DefaultPrefix, DefaultVersion)
	for _, outage := range []time.Duration{0, 150 * time.Millisecond} {
		t.Run(outage.String(), func(t *testing.T) {
			srv := redistest.Start(t)
			admin := srv.Client(t)
			seedWithTTL(t, admin, productKeys(s, 20000))
			proxy := startProxy(t, srv.Addr)
			res, err := Clear(context.Background(), dial(t, proxy.Addr), Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{Batch: 100,
				Progress: faultAt(2000, func() {
					proxy.Cut()
					time.AfterFunc(outage, proxy.Heal)
				})})
			if err != nil || !res.Complete || res.Passes != 1 || admin.DBSize(context.Background()).Val() != 0 {
				t.Errorf("complete=%v passes=%d err=%v: want complete in one pass", res.Complete, res.Passes, err)
			}
		})
	}
}

func TestClearIPv6Cluster(t *testing.T) {
	// CLUSTER NODES writes an IPv6 node as "::1:7000": it is dialled as [::1]:7000.
	ctx := context.Background()
	s := New(DefaultPrefix, DefaultVersion)
	srv := startOneNodeCluster(t, "--bind", "127.0.0.1", "::1", "--cluster-announce-ip", "::1")
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"[::1]:" + strconv.Itoa(srv.Port)}, Protocol: 2})
	defer cc.Close()
	seedWithTTL(t, cc, productKeys(s, 500))
	res, err := Clear(ctx, cc, Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{})
	if err != nil || !res.Complete || res.Deleted != 500 {
		t.Errorf("IPv6 cluster: complete=%v deleted=%d err=%v", res.Complete, res.Deleted, err)
	}
}

func TestClearClusterAnnouncedByHostName(t *testing.T) {
	// With cluster-preferred-endpoint-type hostname, clients reach nodes by
	// their announced names; the IP in CLUSTER NODES may be unreachable
	// from here (192.0.2.10 is TEST-NET-1). The clear dials what go-redis
	// dials.
	ctx := context.Background()
	s := New(DefaultPrefix, DefaultVersion)
	srv := startOneNodeCluster(t, "--cluster-announce-ip", "192.0.2.10",
		"--cluster-announce-hostname", "localhost", "--cluster-preferred-endpoint-type", "hostname")
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr}, Protocol: 2,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	defer cc.Close()
	seedWithTTL(t, cc, productKeys(s, 500))
	res, err := Clear(ctx, cc, Selection{must(t)(s.Group(GroupProducts))}, ClearConfig{})
	if err != nil || !res.Complete || res.Deleted != 500 {
		t.Errorf("complete=%v deleted=%d err=%v", res.Complete, res.Deleted, err)
	}
}

// startOneNodeCluster starts a cluster of one master that serves every
// slot, with extra redis-server args (announced addresses and names).
func startOneNodeCluster(t *testing.T, args ...string) *redistest.Server {
	t.Helper()
	ctx := context.Background()
	srv := redistest.Start(t, redistest.Options{Args: append([]string{
		"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(t.TempDir(), "nodes.conf")}, args...)})
	admin := srv.Client(t)
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", "0", "16383").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cluster to be ok", 10*time.Second, func() error {
		if infoValue(admin.ClusterInfo(ctx).Val(), "cluster_state") != "ok" {
			return errors.New("not ok yet")
		}
		return nil
	})
	return srv
}
