package warm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

func startCatalog(t *testing.T, wrap func(http.Handler) http.Handler) (*url.URL, *redistest.Server, keyspace.Schema) {
	t.Helper()
	rs := redistest.Start(t)
	schema := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	api := sandbox.MustStartAPI(t, sandbox.APIOptions{Redis: rs.ClientOptions(), RedisTimeout: 2 * time.Second,
		Store: catalog.StoreConfig{SeedProducts: 40}, Schema: schema, Wrap: wrap})
	return api.URL, rs, schema
}

// One round of the built-in plan fills the cache and proves it in Redis;
// the second finds it warm.
func TestRoundWarmsAndVerifies(t *testing.T) {
	api, rs, schema := startCatalog(t, nil)
	var plans []string
	rc := warm.RoundConfig{API: api, Schema: schema, Redis: rs.Client(t), Deep: true,
		OnPlan: func(p warm.Plan) { plans = append(plans, p.Source) }}
	rep, err := warm.Round(context.Background(), rc)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Succeeded() || rep.OK == 0 || rep.Misses == nil || *rep.Misses != rep.OK || !rep.Verify.Checked ||
		rep.Verify.KeysBefore != 0 || rep.Verify.KeysAfter < int64(rep.OK) || len(rep.Verify.Missing) != 0 {
		t.Errorf("first round: %+v", rep)
	}
	if strings.Join(plans, ",") != "builtin,deep" {
		t.Errorf("OnPlan was told %q, want the built-in plan, then the deep one", plans)
	}
	rc.Deep = false
	again, err := warm.Round(context.Background(), rc)
	if err != nil {
		t.Fatal(err)
	}
	if again.Hits == nil || *again.Hits != again.OK || *again.Misses != 0 || again.Verify.KeysBefore != rep.Verify.KeysAfter {
		t.Errorf("second round: %+v", again)
	}
	if s := again.Summary(); !strings.Contains(s, " 0 cached now, ") || !strings.HasSuffix(s, fmt.Sprintf(" ms, keys %d -> %d", again.Verify.KeysBefore, again.Verify.KeysAfter)) {
		t.Errorf("summary %q", s)
	}
}

// An API whose categories are not a list fits no built-in plan: the error
// says so (ErrShape, not transient for a schedule to outlive silently) and
// hints at --plan.
func TestRoundHintsAtAPlanFileWhenTheAPIDoesNotFit(t *testing.T) {
	api, _, schema := startCatalog(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/categories/" {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"categories": "elsewhere"}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	rep, err := warm.Round(context.Background(), warm.RoundConfig{API: api, Schema: schema})
	var h interface{ Hint() string }
	if rep != nil || !errors.Is(err, warm.ErrShape) || !errors.As(err, &h) || h.Hint() != warm.BuiltinHint || !warm.Transient(err) {
		t.Errorf("report %v, error %v", rep, err)
	}
}

// Every repeats the round until the context ends: the first round fills the
// cache, the next ones find it warm, and a round whose requests fail is that
// round's news, not the end of the schedule.
func TestEveryRepeatsUntilCancelled(t *testing.T) {
	var down atomic.Bool
	api, _, schema := startCatalog(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var outcomes []string
	err := warm.Every(ctx, time.Millisecond, func() warm.RoundConfig {
		return warm.RoundConfig{API: api, Schema: schema}
	}, func(n int, rep *warm.RoundReport, err error) {
		switch {
		case err != nil:
			outcomes = append(outcomes, fmt.Sprintf("%d:error", n))
		case rep.Failed > 0:
			outcomes = append(outcomes, fmt.Sprintf("%d:failed", n))
		case rep.Misses != nil && *rep.Misses > 0:
			outcomes = append(outcomes, fmt.Sprintf("%d:filled", n))
		default:
			outcomes = append(outcomes, fmt.Sprintf("%d:warm", n))
		}
		down.Store(n == 2)
		if n == 4 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Every returned %v, want context.Canceled", err)
	}
	if got := strings.Join(outcomes, " "); got != "1:filled 2:warm 3:failed 4:warm" {
		t.Errorf("rounds: %s", got)
	}
}
