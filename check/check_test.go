package check

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

const testToken = "check-engine-token"

// testConfig is a checklist against a small reference catalog cached in a
// private redis-server, with a warm step that runs the built-in plan.
func testConfig(t *testing.T) (Config, *redis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	schema := keyspace.New("checkengine", 1)
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{Redis: srv.ClientOptions(), Store: catalog.StoreConfig{SeedProducts: 40},
		Schema: schema, AdminToken: testToken, RedisTimeout: time.Second})
	hc, base := catalogapi.NewClient(api.URL)
	var groups keyspace.Selection
	for _, name := range []string{keyspace.GroupProducts, keyspace.GroupCategories, keyspace.GroupColors} {
		g, err := schema.Group(name)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g)
	}
	cfg := Config{
		Redis: func(ctx context.Context) (*redisconn.Conn, error) {
			conn, err := redisconn.Open(ctx, redisconn.Config{URL: srv.URL(), Timeout: time.Second})
			if err == nil {
				t.Cleanup(func() { conn.Close() })
			}
			return conn, err
		},
		Schema: schema, Groups: groups, API: catalogapi.New(base, hc).WithTimeout(10 * time.Second),
		RedisAddr: srv.URL(),
		Warm: func(ctx context.Context, c redis.UniversalClient) (*warm.RoundReport, error) {
			return warm.Round(ctx, warm.RoundConfig{Config: warm.Config{Client: hc}, API: base, Schema: schema, Redis: c})
		},
	}
	c := srv.Client(t)
	return cfg, c
}

func stepNames(rep Report) string {
	var names []string
	for _, s := range rep.Steps {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

// Every step passes against the reference server, the write probe included,
// and each step reaches the callback as it ends.
func TestRunPasses(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.AdminToken = testToken
	var seen []Step
	rep, err := Run(t.Context(), cfg, func(s Step) { seen = append(seen, s) })
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Steps {
		t.Logf("%-24s ok=%v %s", s.Name, s.OK, s.Detail)
	}
	if !rep.Passed || len(seen) != len(rep.Steps) || rep.Failed() != 0 {
		t.Fatalf("passed %v, %d steps seen of %d", rep.Passed, len(seen), len(rep.Steps))
	}
	names := stepNames(rep)
	if !strings.HasPrefix(names, "connect,api,clear,warm,endpoint ") || !strings.HasSuffix(names, ",keys,stats,invalidation") {
		t.Errorf("steps %s", names)
	}
	inv := rep.Steps[len(rep.Steps)-1]
	if inv.Skipped || !strings.Contains(inv.Detail, "(Authorization: Bearer): gone product:") {
		t.Errorf("invalidation: %+v", inv)
	}
}

// A wrong token fails the write probe, says why, and changes nothing.
func TestRunWrongToken(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.AdminToken = "wrong"
	rep, err := Run(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, failed := rep.FirstFailure()
	if !failed || rep.Passed || s.Name != "invalidation" || !strings.Contains(s.Detail, "the API refused the write") {
		t.Errorf("first failure %+v (failed %v)", s, failed)
	}
}

// A clear that is not confirmed ends the checklist before anything is deleted.
func TestRunClearRefused(t *testing.T) {
	cfg, rdb := testConfig(t)
	key := cfg.Schema.Key("product:999999")
	if err := rdb.Set(t.Context(), key, "mine", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	asked := int64(0)
	cfg.Confirm = func(_ context.Context, _ *redisconn.Conn, _ []int64, total int64) (bool, error) {
		asked = total
		return false, nil
	}
	rep, err := Run(t.Context(), cfg, nil)
	if !errors.Is(err, ErrClearRefused) || asked < 1 || rep.Passed || stepNames(rep) != "connect,api,clear" {
		t.Errorf("error %v, asked about %d keys, steps %s", err, asked, stepNames(rep))
	}
	if n, _ := rdb.Exists(t.Context(), key).Result(); n != 1 {
		t.Error("the refused clear deleted a key")
	}
}

// No token: the write probe is skipped, not failed.
func TestRunWithoutToken(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.SkipClear = true
	rep, err := Run(t.Context(), cfg, nil)
	if err != nil || !rep.Passed {
		t.Fatalf("%v, passed %v", err, rep.Passed)
	}
	if s := rep.Steps[len(rep.Steps)-1]; s.Name != "invalidation" || !s.Skipped || !s.OK {
		t.Errorf("last step %+v", s)
	}
	if s := rep.Steps[2]; s.Name != "clear" || !s.Skipped {
		t.Errorf("clear %+v", s)
	}
}
