package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
	"github.com/cachectl/cachectl/warm"
)

func (c *checker) connect(ctx context.Context) (result, error) {
	conn, err := c.cfg.Redis(ctx)
	if err != nil {
		return result{}, err
	}
	c.conn = conn
	c.rep.Redis = conn.Addr
	start := time.Now()
	reply, err := conn.Client.Ping(ctx).Result()
	if err != nil {
		return result{}, &redisconn.Error{Addr: conn.Addr, Op: "reach", Cause: err}
	}
	rtt := time.Since(start)
	version, role := inspect.Identity(ctx, conn.Client)
	mode := "standalone"
	if conn.Cluster {
		nodes, err := redisconn.ClusterNodes(ctx, conn.Client)
		if err != nil {
			return result{}, err
		}
		masters := 0
		for _, n := range nodes {
			if n.Role == "master" {
				masters++
			}
		}
		mode = fmt.Sprintf("cluster of %d masters", masters)
	}
	return passed("%s in %.2f ms · redis %s · %s · %s · %s", reply, format.Millis(rtt), version, role, mode, conn.Addr), nil
}

func (c *checker) api(ctx context.Context) (result, error) {
	cats, err := c.cfg.API.Categories(ctx)
	var se *catalogapi.StatusError
	switch {
	case errors.As(err, &se):
		return failed("%s", se), nil
	case errors.As(err, new(*catalogapi.ShapeError)):
		return failed("GET %s: neither a JSON list of categories nor a page of them (count, results)", c.cfg.API.URL("/api/categories/")), nil
	case err != nil:
		return result{}, err
	}
	return passed("HTTP 200 in %.1f ms · %d categories · %s", format.Millis(cats.Response.Latency), cats.Total, c.cfg.API.Base()), nil
}

func (c *checker) clear(ctx context.Context) (result, error) {
	switch {
	case c.cfg.ReadOnly != "":
		return skipped("skipped: read-only (%s): the keys already cached stay", c.cfg.ReadOnly), nil
	case c.cfg.SkipClear:
		return skipped("skipped (--skip-clear): the keys already cached stay"), nil
	}
	sel := c.cfg.Groups
	if c.cfg.Confirm != nil {
		if err := c.confirmClear(ctx, sel); err != nil {
			return result{}, err
		}
	}
	res, err := keyspace.Clear(ctx, c.conn.Client, sel, keyspace.ClearConfig{})
	if c.cfg.Cleared != nil {
		c.cfg.Cleared(res, err)
	}
	if err != nil {
		if isFatal(err) {
			return result{}, err
		}
		return failed("deleted %d keys, then: %s", res.Deleted, firstLine(err.Error())), nil
	}
	parts := make([]string, len(res.Targets))
	for i, t := range res.Targets {
		parts[i] = fmt.Sprintf("%s %d", t.Name, t.Deleted)
	}
	return passed("deleted %s under %s (%s)", format.Keys(res.Deleted), c.cfg.Schema.Namespace(), strings.Join(parts, ", ")), nil
}

// confirmClear counts what the clear would delete and asks; nothing to
// delete needs no question.
func (c *checker) confirmClear(ctx context.Context, sel keyspace.Selection) error {
	counts, err := keyspace.Count(ctx, c.conn.Client, sel, keyspace.DefaultScanCount)
	if err != nil {
		return c.redisErr("SCAN", err)
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return nil
	}
	ok, err := c.cfg.Confirm(ctx, c.conn, counts, total)
	switch {
	case err != nil:
		return err
	case !ok:
		return ErrClearRefused
	}
	return nil
}

// Settings of the warm step's round when Config.Warm is nil.
const (
	WarmConcurrency = 8
	WarmRetries     = 2
)

// warmRound is the warm step's round: the built-in plan through the API
// client (its timeout and headers), verified in rdb.
func (c *checker) warmRound(ctx context.Context, rdb redis.UniversalClient) (*warm.RoundReport, error) {
	if c.cfg.Warm != nil {
		return c.cfg.Warm(ctx, rdb)
	}
	api := c.cfg.API
	cfg := warm.Config{Client: api.HTTP(), Concurrency: WarmConcurrency, Retries: WarmRetries,
		RequestTimeout: api.Timeout(), Header: api.Header()}
	return warm.Round(ctx, warm.RoundConfig{Config: cfg, API: api.Base(), Schema: c.cfg.Schema, Redis: rdb})
}

func (c *checker) warm(ctx context.Context) (result, error) {
	rep, err := c.warmRound(ctx, c.conn.Client)
	if err != nil {
		return result{}, err
	}
	verify := rep.Verify
	detail := fmt.Sprintf("%d URLs of the built-in plan, %d ok, %d failed, %s cached now, %s already cached · keys %d → %d",
		rep.URLs, rep.OK, rep.Failed, warm.Count(rep.Misses), warm.Count(rep.Hits), verify.KeysBefore, verify.KeysAfter)
	bypass := 0
	for _, r := range rep.Results {
		if r.Cache == "BYPASS" {
			bypass++
		}
	}
	if bypass > 0 {
		detail += fmt.Sprintf(" · %d answered BYPASS (the API is not using the cache)", bypass)
	}
	for _, r := range rep.Results {
		if !r.OK() {
			return failed("%s; first failure: %s: %s", detail, r.URL, r.Error), nil
		}
	}
	if n := len(verify.Missing); n > 0 {
		return failed("%s; %d keys not in Redis after warming: %s", detail, n, abbreviate(verify.Missing, 3)), nil
	}
	return passed("%s", detail), nil
}

// endpoints runs one step per endpoint bench knows.
func (c *checker) endpoints(ctx context.Context) error {
	if c.cfg.ReadOnly != "" {
		_, err := c.do(ctx, "endpoints", func(context.Context) (result, error) {
			return skipped("skipped: read-only (%s): a MISS then a HIT needs each endpoint's key deleted", c.cfg.ReadOnly), nil
		})
		return err
	}
	api := c.cfg.API
	eps, err := bench.DefaultEndpoints(ctx, api.HTTP(), api.Base(), api.Timeout())
	if err != nil {
		if _, err := c.do(ctx, "endpoints", func(context.Context) (result, error) { return result{}, err }); err != nil {
			return err
		}
	}
	// Each endpoint's MISS and HIT are proven in Redis where the server
	// allows watching keys; INFO's counters alone cannot name a key.
	if o, err := observe.New(ctx, c.conn.Client, observe.Options{Prefix: c.cfg.Schema.Namespace()}); err == nil && o.Mechanism() != observe.Info {
		c.obs = o
	}
	for _, ep := range eps {
		if _, err := c.do(ctx, "endpoint "+ep.Name, func(ctx context.Context) (result, error) { return c.endpoint(ctx, ep) }); err != nil {
			return err
		}
	}
	return nil
}

// endpoint deletes an endpoint's key, then requires a MISS and then a HIT.
func (c *checker) endpoint(ctx context.Context, ep bench.Endpoint) (result, error) {
	if c.obs != nil {
		return c.observedEndpoint(ctx, ep)
	}
	return c.headerEndpoint(ctx, ep)
}

// headerEndpoint is endpoint where Redis cannot name the key: the server's
// X-Cache-Key, or else the endpoint's patterns, are deleted, and X-Cache and
// the keys' presence judge the MISS and the HIT.
func (c *checker) headerEndpoint(ctx context.Context, ep bench.Endpoint) (result, error) {
	first, err := c.get(ctx, ep.URL)
	if err != nil {
		return result{}, err
	}
	if !first.Success() {
		return failed("GET %s: HTTP %d", ep.URL, first.Status), nil
	}
	// The server names the key in X-Cache-Key; otherwise the endpoint's patterns.
	key, patterns := first.Key, ep.Clear
	if key != "" {
		if err := c.conn.Client.Unlink(ctx, c.cfg.Schema.Key(key)).Err(); err != nil {
			return result{}, c.redisErr("UNLINK", err)
		}
	} else if err := c.clearPatterns(ctx, patterns); err != nil {
		return result{}, err
	}
	what := key
	if what == "" {
		what = strings.Join(patterns, " ")
	}

	miss, err := c.get(ctx, ep.URL)
	if err != nil {
		return result{}, err
	}
	if !miss.Success() {
		return failed("after deleting %s: HTTP %d", what, miss.Status), nil
	}
	if miss.Cache != "" && miss.Cache != "MISS" {
		return failed("first request after deleting %s was %s, want MISS", what, miss.Cache), nil
	}
	stored, err := c.cached(ctx, key, patterns)
	if err != nil {
		return result{}, err
	}
	if !stored {
		return failed("%s not in Redis after the first request (%s)", what, orNone(miss.Cache)), nil
	}
	hit, err := c.get(ctx, ep.URL)
	if err != nil {
		return result{}, err
	}
	if !hit.Success() {
		return failed("second request: HTTP %d", hit.Status), nil
	}
	if hit.Cache != "" && hit.Cache != "HIT" {
		return failed("second request was %s, want HIT (%s is in Redis)", hit.Cache, what), nil
	}
	return passed("%s · %s", missThenHit(miss, hit, false), what), nil
}

// missThenHit compares the two requests of an endpoint step; observed
// says Redis showed them a MISS and a HIT, whatever the headers say.
func missThenHit(miss, hit *catalogapi.Response, observed bool) string {
	missName, hitName := "MISS", "HIT"
	if miss.Cache == "" && !observed {
		missName, hitName = "1st", "2nd" // the server does not say; Redis did
	}
	detail := fmt.Sprintf("%s %.1f ms → %s %.1f ms", missName, format.Millis(miss.Latency), hitName, format.Millis(hit.Latency))
	if hit.Latency > 0 {
		detail += fmt.Sprintf(" (%.1fx)", float64(miss.Latency)/float64(hit.Latency))
	}
	if miss.DBQueries >= 0 && hit.DBQueries >= 0 {
		detail += fmt.Sprintf(" · db queries %d → %d", miss.DBQueries, hit.DBQueries)
	}
	return detail
}

func orNone(cache string) string {
	if cache == "" {
		return "no X-Cache header"
	}
	return "X-Cache: " + cache
}

func (c *checker) get(ctx context.Context, u string) (*catalogapi.Response, error) {
	return c.cfg.API.Send(ctx, catalogapi.Request{Method: http.MethodGet, URL: u})
}

// selection is the targets of logical globs.
func (c *checker) selection(patterns []string) (keyspace.Selection, error) {
	var sel keyspace.Selection
	for _, p := range patterns {
		t, err := c.cfg.Schema.Pattern(p)
		if err != nil {
			return nil, err
		}
		sel = append(sel, t)
	}
	return sel, nil
}

// clearPatterns deletes the keys of logical globs, on every master.
func (c *checker) clearPatterns(ctx context.Context, patterns []string) error {
	sel, err := c.selection(patterns)
	if err != nil || len(sel) == 0 {
		return err
	}
	_, err = keyspace.Clear(ctx, c.conn.Client, sel, keyspace.ClearConfig{})
	return err
}

// cached says whether the logical key (or, without one, any key of the
// patterns) is in Redis.
func (c *checker) cached(ctx context.Context, key string, patterns []string) (bool, error) {
	if key != "" {
		n, err := c.conn.Client.Exists(ctx, c.cfg.Schema.Key(key)).Result()
		if err != nil {
			return false, c.redisErr("EXISTS", err)
		}
		return n == 1, nil
	}
	sel, err := c.selection(patterns)
	if err != nil || len(sel) == 0 {
		return false, err
	}
	counts, err := keyspace.Count(ctx, c.conn.Client, sel, keyspace.DefaultScanCount)
	if err != nil {
		return false, c.redisErr("SCAN", err)
	}
	for _, n := range counts {
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

func (c *checker) keys(ctx context.Context) (result, error) {
	counts, err := inspect.CountGroups(ctx, c.conn.Client, c.cfg.Groups, keyspace.DefaultScanCount)
	if err != nil {
		return result{}, c.redisErr("SCAN", err)
	}
	var total int64
	parts := make([]string, len(counts))
	for i, g := range counts {
		total += g.Keys
		parts[i] = fmt.Sprintf("%s %d", g.Name, g.Keys)
	}
	if total == 0 {
		if h := c.elsewhere(ctx); h != "" {
			return failed("no keys under %s: %s", c.cfg.Schema.Namespace(), h), nil
		}
		return failed("no keys under %s: does the API cache into this Redis with the same --prefix and --key-version?", c.cfg.Schema.Namespace()), nil
	}
	return passed("%s: %s", format.Keys(total), strings.Join(parts, " · ")), nil
}

// elsewhere says where the keys probably are (another db, prefix or
// version); "" when it cannot tell.
func (c *checker) elsewhere(ctx context.Context) string {
	e, err := inspect.FindElsewhere(ctx, c.conn.Client, c.conn.DB, c.cfg.Schema)
	if err != nil {
		return ""
	}
	return e.Hint(c.cfg.Schema)
}

func (c *checker) stats(ctx context.Context) (result, error) {
	snap, err := inspect.Take(ctx, c.conn.Client)
	if err != nil {
		if inspect.NotPermitted(err) {
			return skipped("INFO is not permitted for this user: no hit rate or memory figures"), nil
		}
		return result{}, c.redisErr("INFO", err)
	}
	var parts []string
	if snap.Has("keyspace_hits") {
		if rate, ok := snap.HitRate(); ok {
			parts = append(parts, fmt.Sprintf("hit rate %.1f%% (%d hits, %d misses)", 100*rate, snap.Hits, snap.Misses))
		} else {
			parts = append(parts, "no lookups yet")
		}
	}
	if snap.Has("used_memory") {
		maxMem := "no limit"
		if snap.Memory.Max > 0 {
			maxMem = format.Bytes(snap.Memory.Max) + " max"
		}
		parts = append(parts, fmt.Sprintf("memory %s used (%s, policy %s)", format.Bytes(snap.Memory.Used), maxMem, snap.Memory.Policy))
	}
	if snap.Has("evicted_keys") {
		parts = append(parts, fmt.Sprintf("%d evicted", snap.Evicted))
	}
	if len(parts) == 0 {
		return skipped("this server reports no hit, miss or memory statistics in INFO"), nil
	}
	return passed("%s", strings.Join(parts, " · ")), nil
}
