package bench_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

func suite(t *testing.T) bench.Suite {
	t.Helper()
	rs := redistest.Start(t)
	schema := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{Redis: rs.ClientOptions(), RedisTimeout: 2 * time.Second,
		Store: catalog.StoreConfig{SeedProducts: 30}, Schema: schema})
	return bench.Suite{API: api.URL, Config: bench.Config{
		Client: http.DefaultClient, Redis: rs.Client(t), Schema: schema, ColdSamples: 2, Requests: 20, Concurrency: 2,
	}}
}

// Without endpoints the suite discovers the built-in ones from the API,
// measures each, and applies its gates.
func TestSuiteMeasuresTheBuiltinEndpointsAndGates(t *testing.T) {
	s := suite(t)
	rep, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || !rep.Passed || len(rep.Endpoints) < 5 || rep.Schema != bench.SchemaV1 {
		t.Fatalf("report: complete %v, passed %v, %d endpoints", rep.Complete, rep.Passed, len(rep.Endpoints))
	}
	for _, e := range rep.Endpoints {
		if e.Skipped != "" || e.Cold.Samples != 2 || e.Warm.Requests != 20 {
			t.Errorf("%s: skipped %q, %d cold samples, %d requests under load", e.Name, e.Skipped, e.Cold.Samples, e.Warm.Requests)
		}
		// Primed, every request under load is a HIT, and the split says so.
		if hit := e.Warm.ByCache["HIT"]; hit.Requests != 20 || len(e.Warm.ByCache) != 1 || hit.P50 <= 0 || e.Warm.LoadModel != bench.Closed {
			t.Errorf("%s: by cache %+v, model %q", e.Name, e.Warm.ByCache, e.Warm.LoadModel)
		}
	}

	s.Endpoints = []bench.Endpoint{{Name: rep.Endpoints[0].Name, URL: rep.Endpoints[0].URL}}
	s.Gates = bench.Gates{MinSpeedup: 1e9}
	rep, err = s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Breaches()) != 1 || len(rep.Endpoints) != 1 {
		t.Errorf("an impossible speedup gate: passed %v, breaches %q", rep.Passed, rep.Breaches())
	}
}

// Interrupted, the suite returns what it measured, marked incomplete, with
// the context's error.
func TestSuiteInterruptedIsPartial(t *testing.T) {
	s := suite(t)
	ctx, cancel := context.WithCancel(context.Background())
	s.Config.Progress = func(string) { cancel() }
	rep, err := s.Run(ctx)
	if !errors.Is(err, context.Canceled) || rep.Complete || rep.Passed {
		t.Errorf("error %v, complete %v, passed %v", err, rep.Complete, rep.Passed)
	}
}
