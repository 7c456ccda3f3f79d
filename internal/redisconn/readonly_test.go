package redisconn

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
)

// A read-only client reads, and refuses every write before it reaches the
// server: the key set is what it was.
func TestReadOnlyRefusesWritesBeforeSending(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client(t)
	ctx := context.Background()
	admin.Set(ctx, "ecommerce:1:product:1", "x", 0)

	ro := srv.Client(t)
	ReadOnly(ro)
	if v, err := ro.Get(ctx, "ecommerce:1:product:1").Result(); err != nil || v != "x" {
		t.Fatalf("read-only GET = %q, %#v; want the value", v, err)
	}
	if _, _, err := ro.Scan(ctx, 0, "ecommerce:*", 100).Result(); err != nil {
		t.Fatalf("read-only SCAN: %v", err)
	}
	if err := ro.Do(ctx, "client", "info").Err(); err != nil {
		t.Fatalf("read-only CLIENT INFO: %v", err)
	}
	cases := map[string]func() error{
		"UNLINK":      func() error { return ro.Unlink(ctx, "ecommerce:1:product:1").Err() },
		"SET":         func() error { return ro.Set(ctx, "ecommerce:1:product:2", "y", 0).Err() },
		"FLUSHDB":     func() error { return ro.FlushDB(ctx).Err() },
		"CONFIG SET":  func() error { return ro.ConfigSet(ctx, "maxmemory", "1").Err() },
		"CLIENT KILL": func() error { return ro.ClientKillByFilter(ctx, "TYPE", "normal").Err() },
		"XADD":        func() error { return ro.XAdd(ctx, &xadd).Err() },
		"EVAL": func() error {
			return ro.Eval(ctx, "return redis.call('del', KEYS[1])", []string{"ecommerce:1:product:1"}).Err()
		},
		"pipelined DEL": func() error {
			_, err := ro.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Get(ctx, "ecommerce:1:product:1")
				p.Del(ctx, "ecommerce:1:product:1")
				return nil
			})
			return err
		},
	}
	for name, run := range cases {
		err := run()
		var ro *ReadOnlyError
		if !errors.Is(err, ErrReadOnly) || !errors.As(err, &ro) {
			t.Errorf("%s: err %v, want a read-only refusal", name, err)
		}
	}
	if n := admin.DBSize(ctx).Val(); n != 1 || admin.Exists(ctx, "ecommerce:1:product:1").Val() != 1 {
		t.Fatalf("after refused writes the server holds %d keys, want the one key untouched", n)
	}
	if got := admin.ConfigGet(ctx, "maxmemory").Val()["maxmemory"]; got != "0" {
		t.Fatalf("maxmemory is %s: CONFIG SET went through", got)
	}
}

var xadd = redis.XAddArgs{Stream: "ecommerce:cachectl:audit", Values: []any{"a", "b"}}

// On a cluster, Config.ReadOnly covers every node: a command sent to a
// master directly (ForEachMaster, as keyspace's surveys do) is refused too.
func TestReadOnlyClusterRefusesOnEveryNode(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 0)
	admin := cl.Client(t)
	ctx := context.Background()
	admin.Set(ctx, "ecommerce:1:product:1", "x", 0)
	conn, err := Open(ctx, Config{URL: cl.SeedURL(), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cc := conn.Client.(*redis.ClusterClient)
	if err := cc.Unlink(ctx, "ecommerce:1:product:1").Err(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("cluster UNLINK: %v, want a read-only refusal", err)
	}
	err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		if err := n.Ping(ctx).Err(); err != nil {
			return err
		}
		return n.FlushDB(ctx).Err()
	})
	if !errors.Is(err, ErrReadOnly) {
		t.Errorf("FLUSHDB on a master: %v, want a read-only refusal", err)
	}
	if admin.Exists(ctx, "ecommerce:1:product:1").Val() != 1 {
		t.Fatal("the key is gone: a write went through")
	}
}
