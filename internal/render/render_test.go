package render

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
)

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Piped, top prints a header once and raw numbers; a person sees sizes and
// percents; a failed reading says so in the same column.
func TestTopLines(t *testing.T) {
	snap := inspect.Snapshot{Memory: inspect.Memory{Used: 3 << 20}, Clients: 2, DBs: map[int]inspect.DB{0: {Keys: 7}}}
	r := inspect.Reading{At: at, Snapshot: snap, Rate: inspect.Rate{OpsPerSec: 2.25, HitRate: 0.5, HitRateOK: true}}
	down := inspect.Reading{At: at, Err: &inspect.NodeError{Addr: "127.0.0.1:6379", Op: "INFO", Err: errors.New("connection refused")}}

	ios, _, out, _ := iostreams.Test()
	lines := NewTopLines(ios, false, 0)
	lines.Print(r)
	lines.Print(down)
	got := strings.Split(out.String(), "\n")
	if len(got) != 4 || !strings.HasPrefix(got[0], "time ") || !strings.Contains(got[1], " 0.500 ") || !strings.Contains(got[1], " 3145728 ") {
		t.Errorf("piped:\n%s", out)
	}
	if !strings.HasPrefix(got[2], "12:00:00 disconnected, retrying: 127.0.0.1:6379: ") {
		t.Errorf("disconnected line %q", got[2])
	}

	ios, _, out, _ = iostreams.Test()
	ios.SetStdoutTTY(true)
	NewTopLines(ios, false, 0).Print(r)
	if s := out.String(); !strings.Contains(s, " 50.0% ") || !strings.Contains(s, " 3.0M ") || !strings.Contains(s, " 2.2 ") {
		t.Errorf("on a terminal:\n%s", s)
	}

	ios, _, out, _ = iostreams.Test()
	NewTopLines(ios, true, 0).Print(down)
	if s := out.String(); !strings.HasPrefix(s, `{"op":"top","time":"2026-03-01T12:00:00Z"`) || !strings.Contains(s, `"error":"disconnected, retrying: `) {
		t.Errorf("json: %s", s)
	}
}

// A cluster's nodes follow ping's list, with their state.
func TestPingCluster(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	ios.SetStdoutTTY(true)
	res := PingResult{Reply: "PONG", Addr: "redis://10.0.0.5:7000", RTTMs: 0.25, Version: "7.2.4", Role: "master", Cluster: true,
		Nodes: []redisconn.Node{{Addr: "10.0.0.5:7000", Role: "master", Slots: 16384, Connected: true}, {Addr: "10.0.0.6:7000", Role: "replica", Failing: true}}}
	if err := Ping(ios, output.Table, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PONG from redis://10.0.0.5:7000 in 0.25 ms", "cluster, 1 masters, 1 replicas", "NODE", "failing"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "\ndb ") {
		t.Errorf("a cluster has no db line:\n%s", out)
	}
}

// Stats keeps db2 before db10 and the groups in name order, piped.
func TestStatsPipedOrder(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	rep := inspect.Report{
		Snapshot: inspect.Snapshot{DBs: map[int]inspect.DB{10: {Keys: 1}, 2: {Keys: 2}}},
		Groups:   []inspect.GroupCount{{Name: "products", Keys: 3}, {Name: "colors"}},
	}
	if err := Stats(ios, output.Table, StatsOf("redis://127.0.0.1:6379/0", false, rep)); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Index(s, "db2.keys") > strings.Index(s, "db10.keys") || strings.Index(s, "group.colors") > strings.Index(s, "group.products") {
		t.Errorf("order:\n%s", s)
	}
}
