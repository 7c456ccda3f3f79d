package check

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/observe"
)

// observedEndpoint proves an endpoint's caching in Redis itself: a first
// request names its cache key K (the key it read and found or wrote); K is
// deleted; the next request must write K with a TTL, and the one after must
// read K and write nothing. The API's X-Cache, when sent, must agree.
func (c *checker) observedEndpoint(ctx context.Context, ep bench.Endpoint) (result, error) {
	first, bad, err := c.observed(ctx, ep.URL)
	if err != nil || bad != "" {
		return failed("%s", bad), err
	}
	keys := first.Trace.CacheKeys()
	if len(keys) == 0 && !first.Trace.Exact {
		// Tracking sees writes only, and the endpoint was already cached.
		return c.headerEndpoint(ctx, ep)
	}
	if len(keys) == 0 {
		how := string(c.obs.Mechanism())
		if h := first.Response.Cache; h != "" {
			how += "; X-Cache: " + h
		}
		return failed("Redis showed no cache key: the request %s (%s)", describeTrace(first.Trace), how), nil
	}
	what := c.logical(keys)
	if err := c.conn.Client.Unlink(ctx, keys...).Err(); err != nil {
		return result{}, c.redisErr("UNLINK", err)
	}
	miss, bad, err := c.observed(ctx, ep.URL)
	if err != nil || bad != "" {
		return failed("after deleting %s: %s", what, bad), err
	}
	ttls, missing := writtenWithTTL(miss.Trace, keys)
	if len(missing) > 0 {
		return failed("first request after deleting %s did not store %s with a TTL (it %s)", what, c.logical(missing), describeTrace(miss.Trace)), nil
	}
	if h := miss.Response.Cache; h != "" && h != "MISS" {
		return failed("first request after deleting %s wrote it, yet said X-Cache: %s", what, h), nil
	}
	hit, bad, err := c.observed(ctx, ep.URL)
	if err != nil || bad != "" {
		return failed("second request: %s", bad), err
	}
	if reason := notAHit(hit.Trace, keys); reason != "" {
		return failed("second request %s, want it to read %s and write nothing", reason, what), nil
	}
	if h := hit.Response.Cache; h != "" && h != "HIT" {
		return failed("second request read %s and wrote nothing, yet said X-Cache: %s", what, h), nil
	}
	proof := fmt.Sprintf("in Redis (%s): wrote it with TTL %s, then read it and wrote nothing", c.obs.Mechanism(), ttls)
	if !hit.Trace.Exact {
		proof = fmt.Sprintf("in Redis (%s): wrote it with TTL %s, then wrote nothing and hit (INFO's counters: %s sees no reads)",
			c.obs.Mechanism(), ttls, c.obs.Mechanism())
	}
	return passed("%s · %s · %s", missThenHit(miss.Response, hit.Response, true), what, proof), nil
}

// observed is one GET of u in an observed window; bad says why the request
// failed, err is the observation's own failure.
func (c *checker) observed(ctx context.Context, u string) (observe.Probe, string, error) {
	p, err := c.obs.Get(ctx, c.cfg.API, u)
	switch {
	case err != nil:
		return p, "", err
	case p.Err != nil:
		return p, "", p.Err
	case !p.Response.Success():
		return p, fmt.Sprintf("GET %s: HTTP %d", u, p.Response.Status), nil
	}
	return p, "", nil
}

// writtenWithTTL returns the TTLs the request left on keys, and the keys it
// did not write or left without one.
func writtenWithTTL(t observe.Trace, keys []string) (ttls string, missing []string) {
	var parts []string
	for _, k := range keys {
		i := slices.IndexFunc(t.Writes, func(w observe.KeyOp) bool { return w.Key == k })
		if i < 0 || t.Writes[i].TTLAfter <= 0 {
			missing = append(missing, k)
			continue
		}
		parts = append(parts, format.TTL(t.Writes[i].TTLAfter.Round(time.Second)))
	}
	return strings.Join(parts, ", "), missing
}

// notAHit says why t is not a HIT on keys; "" when it is.
func notAHit(t observe.Trace, keys []string) string {
	for _, w := range t.Writes {
		if slices.Contains(keys, w.Key) {
			return "wrote " + w.Key + " again"
		}
	}
	if !t.Exact {
		if t.State != observe.Hit {
			return fmt.Sprintf("moved no hit counter (%d hits, %d misses)", t.Hits, t.Misses)
		}
		return ""
	}
	for _, k := range keys {
		i := slices.IndexFunc(t.Reads, func(r observe.KeyOp) bool { return r.Key == k })
		if i < 0 || !t.Reads[i].Found {
			return "did not read " + k
		}
	}
	return ""
}

// describeTrace says in a few words what a request did to the cache.
func describeTrace(t observe.Trace) string {
	if len(t.Reads)+len(t.Writes)+len(t.Deletes) == 0 {
		return "issued no command on the cache's keys"
	}
	return fmt.Sprintf("read %d, wrote %d and deleted %d keys: %s", len(t.Reads), len(t.Writes), len(t.Deletes), t.State)
}

// logical names keys without PREFIX:VERSION:.
func (c *checker) logical(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = observe.Logical(k, c.cfg.Schema.Namespace())
	}
	return strings.Join(out, " ")
}
