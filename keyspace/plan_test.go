package keyspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
)

// planFixture seeds n product keys and keys that no products plan may
// touch, and returns the product keys and every key.
func planFixture(t *testing.T, c redis.UniversalClient, s Schema, n int) (products, all []string) {
	t.Helper()
	products = productKeys(s, n)
	others := []string{s.Key("product_colors:all"), s.Key("categories:all"), s.Key("session:abc"), "other:1:product:1"}
	all = slices.Concat(products, others)
	seedWithTTL(t, c, all)
	return products, all
}

// roundTrip writes p and reads it back, as a file would carry it.
func roundTrip(t *testing.T, p *Plan, gz bool) *Plan {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePlan(&buf, p, gz); err != nil {
		t.Fatal(err)
	}
	if gz != bytes.HasPrefix(buf.Bytes(), []byte{0x1f, 0x8b}) {
		t.Fatalf("gzip %v, but the file starts %q", gz, buf.Bytes()[:2])
	}
	back, err := ReadPlan(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func productsPlan(t *testing.T, c redis.UniversalClient, s Schema) *Plan {
	t.Helper()
	p, err := MakePlan(context.Background(), c, Selection{must(t)(s.Group(GroupProducts))}, PlanConfig{Schema: s, ClearConfig: ClearConfig{Batch: 7}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanThenApplyDeletesExactlyThePlannedKeys(t *testing.T) {
	s := New(DefaultPrefix, DefaultVersion)
	srv := redistest.Start(t)
	c := srv.Client(t)
	products, all := planFixture(t, c, s, 40)
	p := productsPlan(t, c, s)
	checkSurvivors(t, c, all) // a plan deletes nothing

	want := slices.Sorted(slices.Values(products))
	if !slices.Equal(p.KeySet, want) || p.Keys != 40 || p.Targets[0].Keys != 40 {
		t.Fatalf("plan: %d keys %q, target %+v; want the 40 product keys", p.Keys, p.KeySet, p.Targets[0])
	}
	runID := infoValue(c.Info(context.Background(), "server").Val(), "run_id")
	if p.Server.Cluster || len(p.Server.Nodes) != 1 || p.Server.Nodes[0].RunID != runID || p.Server.Nodes[0].Addr != srv.Addr || p.Server.Nodes[0].Keys != 40 {
		t.Errorf("server: %+v, want %s run_id %s with 40 keys", p.Server, srv.Addr, runID)
	}
	if !strings.HasPrefix(p.Digest, "sha256:") || len(p.Targets[0].Samples) != DefaultSamples || p.BytesEstimate <= 0 {
		t.Errorf("digest %q, %d samples, bytes %d", p.Digest, len(p.Targets[0].Samples), p.BytesEstimate)
	}

	confirmed := int64(-1)
	res, err := Apply(context.Background(), c, roundTrip(t, p, true), ApplyConfig{Confirm: func(n int64, d Drift) error {
		confirmed = n
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if confirmed != 40 || !res.Complete || res.Deleted != 40 || res.Planned != 40 || res.Drift.Added+res.Drift.Gone != 0 {
		t.Errorf("confirmed %d, result %+v", confirmed, res)
	}
	checkSurvivors(t, c, without(all, products))
}

func TestApplyRefusesDriftAndAllowsABoundedOne(t *testing.T) {
	ctx := context.Background()
	s, c := onRedis(t)
	products, all := planFixture(t, c, s, 20)
	p := roundTrip(t, productsPlan(t, c, s), false)

	added := []string{s.Key("product:900"), s.Key("product:901"), s.Key("products:list:new")}
	seedWithTTL(t, c, added)
	gone := products[:2]
	if err := c.Unlink(ctx, gone...).Err(); err != nil {
		t.Fatal(err)
	}
	left := without(slices.Concat(all, added), gone)

	asked := false
	_, err := Apply(ctx, c, p, ApplyConfig{Confirm: func(int64, Drift) error { asked = true; return nil }})
	var de *DriftError
	if !errors.As(err, &de) || !errors.Is(err, ErrPlanRefused) || !strings.Contains(err.Error(), "3 added, 2 gone") {
		t.Fatalf("err = %v, want a drift refusal naming 3 added, 2 gone", err)
	}
	if asked || !slices.Equal(de.AddedSample, added) || !slices.Equal(de.GoneSample, gone) {
		t.Errorf("asked %v, drift %+v", asked, de.Drift)
	}
	checkSurvivors(t, c, left)

	res, err := Apply(ctx, c, p, ApplyConfig{AllowDrift: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 18 || res.Planned != 20 || res.Drift.Gone != 2 || res.Drift.Added != 3 || !res.Complete {
		t.Errorf("result %+v, want 18 of 20 planned deleted, 3 added, 2 gone", res)
	}
	checkSurvivors(t, c, without(left, products)) // the 3 added survive
}

func TestApplyRefusesAnotherServer(t *testing.T) {
	s := New(DefaultPrefix, DefaultVersion)
	a := redistest.Start(t).Client(t)
	b := redistest.Start(t).Client(t)
	_, all := planFixture(t, a, s, 10)
	planFixture(t, b, s, 10)
	p := productsPlan(t, a, s)
	_, err := Apply(context.Background(), b, p, ApplyConfig{})
	var se *PlanServerError
	runA := infoValue(a.Info(context.Background(), "server").Val(), "run_id")
	runB := infoValue(b.Info(context.Background(), "server").Val(), "run_id")
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "the plan was made on run_id "+runA) || !strings.Contains(err.Error(), "this is run_id "+runB) {
		t.Fatalf("err = %v, want a refusal naming both run_ids", err)
	}
	checkSurvivors(t, b, all)
}

// A plan names keys of one database: applied to another database of the
// same server (same run_id), whose keys have the same names, it is refused
// and deletes nothing there.
func TestApplyRefusesAnotherDatabase(t *testing.T) {
	s := New(DefaultPrefix, DefaultVersion)
	srv := redistest.Start(t)
	db0 := srv.Client(t)
	db3 := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: 3})
	t.Cleanup(func() { db3.Close() })
	_, all := planFixture(t, db0, s, 10)
	planFixture(t, db3, s, 10)
	p := productsPlan(t, db3, s)
	_, err := Apply(context.Background(), db0, roundTrip(t, p, false), ApplyConfig{})
	var se *PlanServerError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "db 3; this is run_id ") || !strings.HasSuffix(err.Error(), " db 0") {
		t.Fatalf("err = %v, want a refusal naming both databases", err)
	}
	checkSurvivors(t, db0, all)
}

func TestPlanAndApplyOnACluster(t *testing.T) {
	ctx := context.Background()
	cl := redistest.StartCluster(t, 3, 0)
	c := cl.Client(t)
	s := New(DefaultPrefix, DefaultVersion)
	products, all := planFixture(t, c, s, 300)
	p := roundTrip(t, productsPlan(t, c, s), true)
	if !p.Server.Cluster || len(p.Server.Nodes) != 3 || p.Keys != 300 {
		t.Fatalf("plan: %d keys on %+v, want 300 on 3 masters", p.Keys, p.Server)
	}
	var sum int64
	for _, n := range p.Server.Nodes {
		if n.NodeID == "" || n.RunID == "" || n.Keys == 0 {
			t.Errorf("node %+v: want its node id, run_id and keys", n)
		}
		sum += n.Keys
	}
	if sum != 300 {
		t.Errorf("keys per node sum to %d", sum)
	}
	extra := s.Key("product:5000")
	seedWithTTL(t, c, []string{extra})
	if _, err := Apply(ctx, c, p, ApplyConfig{}); !strings.Contains(fmt.Sprint(err), "1 added, 0 gone") {
		t.Fatalf("err = %v, want 1 added", err)
	}
	res, err := Apply(ctx, c, p, ApplyConfig{AllowDrift: 1})
	if err != nil || res.Deleted != 300 || !res.Complete {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	checkSurvivors(t, c, append(without(all, products), extra))
}

func TestReadPlanRefusesAChangedFile(t *testing.T) {
	s, c := onRedis(t)
	planFixture(t, c, s, 3)
	var buf bytes.Buffer
	if err := WritePlan(&buf, productsPlan(t, c, s), false); err != nil {
		t.Fatal(err)
	}
	text := buf.String() // the key set comes last, after the samples
	i := strings.LastIndex(text, `"ecommerce:1:product:2"`)
	edited := text[:i] + `"ecommerce:1:product:3"` + text[i+len(`"ecommerce:1:product:2"`):]
	if _, err := ReadPlan(strings.NewReader(edited)); !errors.Is(err, ErrBadPlan) || !strings.Contains(err.Error(), "digest") {
		t.Errorf("edited key set: err = %v", err)
	}
	if _, err := ReadPlan(strings.NewReader(`{"format":"other"}`)); !errors.Is(err, ErrBadPlan) {
		t.Errorf("other format: err = %v", err)
	}
}

func TestPlanKeepsBinaryKeys(t *testing.T) {
	s, c := onRedis(t)
	odd := s.Key("product:\xff\x00x")
	seedWithTTL(t, c, []string{odd, s.Key("product:1")})
	p := roundTrip(t, productsPlan(t, c, s), false)
	if !slices.Contains(p.KeySet, odd) {
		t.Fatalf("key set %q lost the binary key", p.KeySet)
	}
	if res, err := Apply(context.Background(), c, p, ApplyConfig{}); err != nil || res.Deleted != 2 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
}
