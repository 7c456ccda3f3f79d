package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

func TestClearHintNamesALiveMaster(t *testing.T) {
	// When the seed of a cluster clear is gone, the hint names a master that
	// answered, with the user's own URL otherwise unchanged; when the seed
	// answers, it says what went wrong and names no other node.
	conn := &redisconn.Conn{Cluster: true, Addr: "redis://ops:***@10.0.0.1:7000/0", Seeds: []string{"10.0.0.1:7000"}}
	err := &keyspace.ClearError{Cause: errors.New("connect to 10.0.0.1:7000: connection refused"), Retry: true,
		Live: "10.0.0.2:7001", Seed: "10.0.0.1:7000", SeedDown: true, MasterDown: "10.0.0.1:7000"}
	hint := ClearHint(err, conn, 0)
	for _, want := range []string{"master 10.0.0.1:7000 does not answer", "once it is back or its replica has taken over",
		"the seed 10.0.0.1:7000 does not answer: give --redis redis://ops:***@10.0.0.2:7001/0"} {
		if !strings.Contains(hint, want) {
			t.Errorf("hint %q lacks %q", hint, want)
		}
	}
	conn.Seeds = []string{"cache.internal:7000"} // a host name the cluster lists by its IP
	err = &keyspace.ClearError{Cause: errors.New("the cluster changed"), Retry: true, Changed: "slot 42 migrating from a to b", Live: "10.0.0.1:7000"}
	hint = ClearHint(err, conn, 0)
	if !strings.Contains(hint, "slot 42 migrating") || !strings.Contains(hint, "rebalance has finished") || strings.Contains(hint, "--redis") {
		t.Errorf("hint %q should say what changed and when to run again, naming no other seed", hint)
	}
}
