package keyspace

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
)

func TestOldVersionsRemovesOtherVersionsOfTheGroupsOnly(t *testing.T) {
	ctx := context.Background()
	c := redistest.Start(t).Client(t)
	s := New("shop", 3) // VERSION was bumped twice
	old := []string{
		"shop:1:product:1", "shop:1:products:list:ab", "shop:2:product:1:variants", "shop:2:categories:all",
		"shop:1:product_colors:all", "shop:12:product:7",
	}
	keep := []string{
		"shop:3:product:1", "shop:3:categories:all", // the current version
		"shop:1:django.contrib.sessions.cacheabc", "shop:sessions:abc", "shop:2:session:xyz", // sessions
		"shop:x1:product:1", "shop::product:1", "shop:1", "other:1:product:1", "shop:1:productivity:1", // not a version, or not a group
	}
	seedWithTTL(t, c, slices.Concat(old, keep))
	sel := s.OldVersions(Selection{must(t)(s.Group(GroupAll))})
	if sel[0].Name != "all@old" {
		t.Errorf("target name %q", sel[0].Name)
	}
	dry, err := Clear(ctx, c, sel, ClearConfig{DryRun: true})
	if err != nil || dry.Matched != int64(len(old)) || dry.Deleted != 0 {
		t.Fatalf("dry run: %+v, %v; want %d matched", dry, err, len(old))
	}
	res, err := Clear(ctx, c, sel, ClearConfig{})
	if err != nil || res.Deleted != int64(len(old)) {
		t.Fatalf("clear: %+v, %v", res, err)
	}
	checkSurvivors(t, c, keep)

	// With one group, only that group's old keys go.
	seedWithTTL(t, c, old)
	res, err = Clear(ctx, c, s.OldVersions(Selection{must(t)(s.Group(GroupProducts))}), ClearConfig{})
	if err != nil || res.Deleted != 4 {
		t.Fatalf("products@old: %+v, %v; want 4 deleted", res, err)
	}
	checkSurvivors(t, c, append(slices.Clone(keep), "shop:2:categories:all", "shop:1:product_colors:all"))
}

func TestTTLConditionsCombineWithTheTarget(t *testing.T) {
	ctx := context.Background()
	c := redistest.Start(t).Client(t)
	s := New(DefaultPrefix, DefaultVersion)
	long := []string{s.Key("product:1"), s.Key("product:2"), s.Key("category:1")} // 1 h
	short := []string{s.Key("product:3"), s.Key("category:2")}                    // 10 s
	persist := []string{s.Key("product:4"), s.Key("product_colors:all")}          // no TTL
	seedWithTTL(t, c, long)
	for _, k := range short {
		c.Set(ctx, k, "v", 10*time.Second)
	}
	for _, k := range persist {
		c.Set(ctx, k, "v", 0)
	}
	products := Selection{must(t)(s.Group(GroupProducts))}
	left := func() []string { return allKeys(t, c) }

	counts, err := CountWhere(ctx, c, products, 0, Conditions{NoTTL: true})
	if err != nil || counts[0] != 1 {
		t.Fatalf("count --no-ttl: %v, %v; want 1", counts, err)
	}
	res, err := Clear(ctx, c, products, ClearConfig{Conditions: Conditions{NoTTL: true}, DryRun: true})
	if err != nil || res.Matched != 1 {
		t.Fatalf("dry run --no-ttl: %+v, %v", res, err)
	}
	res, err = Clear(ctx, c, products, ClearConfig{Conditions: Conditions{NoTTL: true}})
	if err != nil || res.Deleted != 1 {
		t.Fatalf("--no-ttl: %+v, %v", res, err)
	}
	want := slices.Sorted(slices.Values(slices.Concat(long, short, []string{s.Key("product_colors:all")})))
	if got := left(); !slices.Equal(got, want) {
		t.Fatalf("after --no-ttl: %q, want %q", got, want)
	}

	all := Selection{must(t)(s.Group(GroupAll))}
	res, err = Clear(ctx, c, all, ClearConfig{Conditions: Conditions{TTLBelow: time.Minute}})
	if err != nil || res.Deleted != 2 {
		t.Fatalf("--ttl-below 1m: %+v, %v", res, err)
	}
	want = slices.Sorted(slices.Values(append(slices.Clone(long), s.Key("product_colors:all"))))
	if got := left(); !slices.Equal(got, want) {
		t.Fatalf("after --ttl-below: %q, want %q", got, want)
	}
	if ttl := c.PTTL(ctx, long[0]).Val(); ttl < 59*time.Minute {
		t.Errorf("survivor TTL %s", ttl)
	}
}

func TestConditionalUnlinkChecksTheTTLAgain(t *testing.T) {
	// A key whose TTL changed between the scan and the UNLINK survives: the
	// script checks it again, atomically.
	ctx := context.Background()
	c := redistest.Start(t).Client(t)
	c.Set(ctx, "k:refreshed", "v", time.Hour)
	c.Set(ctx, "k:short", "v", 5*time.Second)
	c.Set(ctx, "k:persist", "v", 0)
	below, noTTL := Conditions{TTLBelow: time.Minute}, Conditions{NoTTL: true}
	cases := []struct {
		cond Conditions
		key  string
		want int64
	}{
		{below, "k:refreshed", 0}, {below, "k:persist", 0}, {noTTL, "k:short", 0}, {noTTL, "k:gone", 0},
		{below, "k:short", 1}, {noTTL, "k:persist", 1},
	}
	cmds := make([]*redis.IntCmd, len(cases))
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, tc := range cases {
			cmds[i] = tc.cond.unlink(ctx, p, tc.key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		if got := cmds[i].Val(); got != tc.want {
			t.Errorf("%+v on %s: unlinked %d, want %d", tc.cond, tc.key, got, tc.want)
		}
	}
	if left := allKeys(t, c); !slices.Equal(left, []string{"k:refreshed"}) {
		t.Errorf("left %q", left)
	}
}
