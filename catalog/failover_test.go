package catalog

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
)

// A master of the cluster dies and its replica takes over. Keys on the other
// masters stay cached throughout; those of the dead master are cached again
// within seconds of the promotion, not at go-redis's periodic reload of the
// slot map a minute later; and a write made in between is not undone by the
// copy the promoted replica kept.
func TestClusterFailoverCachesAgainWithinSeconds(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	// As a deployment that keeps the healthy masters serving while one is
	// down: by default every master refuses every key (CLUSTERDOWN) once the
	// dead one is marked failed, which no client can help.
	cl.ConfigSet(t, "cluster-require-full-coverage", "no")
	// The replica takes over when the test says so, not when gossip does.
	cl.ConfigSet(t, "cluster-replica-no-failover", "yes")
	e := newEnv(t, onCluster(cl))
	dead := cl.Masters[1]
	var victim string
	var healthy []string
	for id := 1; id <= testProducts && (victim == "" || len(healthy) < 4); id++ {
		path := fmt.Sprintf("/api/products/%d/", id)
		switch m := masterOf(t, cl, e.rdb, fmt.Sprintf("ecommerce:1:product:%d", id)); {
		case m == dead && victim == "":
			victim = path
		case m != dead && len(healthy) < 4:
			healthy = append(healthy, path)
		}
	}
	for _, p := range append([]string{victim}, healthy...) {
		e.mustGet(p)
		if r := e.mustGet(p); r.cache() != "HIT" {
			t.Fatalf("second GET %s: %s, want HIT", p, r.cache())
		}
	}
	checkHealthy := func(when string) {
		t.Helper()
		for _, p := range healthy {
			if r := e.mustGet(p); r.cache() != "HIT" {
				t.Fatalf("%s, %s on a healthy master: %s, want HIT", when, p, r.cache())
			}
		}
	}

	replica := cl.ReplicaOf(dead)
	dead.Stop()
	for range 5 {
		if r := e.mustGet(victim); r.cache() != "BYPASS" {
			t.Fatalf("%s on the dead master: %s, want BYPASS", victim, r.cache())
		}
		checkHealthy("with a master down")
	}
	if r := e.mustGet("/readyz"); r.field(t, "redis") != "degraded" || !strings.Contains(r.body, `"redis_down_nodes":["`+dead.Addr+`"]`) {
		t.Fatalf("readyz with a master down: %s", r.body)
	}
	const name = "Written During The Failover"
	if r := e.admin(http.MethodPatch, victim, `{"name":"`+name+`"}`); r.status != 200 {
		t.Fatalf("write with a master down: %d %s", r.status, r.body)
	}

	cl.Promote(t, replica)
	promoted := time.Now()
	testwait.Until(t, 10*time.Second, victim+" to be cached again after its replica took over (the slot map reloaded)", func() error {
		r := e.mustGet(victim)
		if !strings.Contains(r.body, name) {
			t.Fatalf("after the failover a read (%s) shows the product from before the write: %.200s", r.cache(), r.body)
		}
		if r.cache() != "HIT" {
			return fmt.Errorf("still %s", r.cache())
		}
		return nil
	})
	t.Logf("cached again %v after the promotion", time.Since(promoted).Round(time.Millisecond))
	logs := e.logs.String()
	for _, want := range []string{
		`msg="redis master unavailable: serving the keys it holds from the database" node=` + dead.Addr,
		`msg="redis master is back, or its slots moved: caching its keys again" node=` + dead.Addr + " owner=" + replica.Addr,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	checkHealthy("after the failover")
}
