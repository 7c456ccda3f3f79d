package bench

import (
	"context"
	"fmt"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

// ColdError is a cold/warm measurement that would mean nothing: the
// endpoint then fails with Reason, and the other endpoints are measured.
type ColdError struct{ Reason string }

func (e *ColdError) Error() string { return e.Reason }

// learned is what makes an endpoint cold.
type learned struct {
	names   []string // logical keys, or globs when from is "patterns"
	from    string   // "header", "redis" or "patterns"
	invalid string   // why nothing can make it cold
}

// patterns are the globs clearKeys takes.
func (k learned) patterns() []string {
	if k.from == "patterns" {
		return k.names
	}
	out := make([]string, len(k.names))
	for i, n := range k.names {
		out[i] = keyspace.EscapeGlob(n)
	}
	return out
}

// learn sends the endpoint's first request and learns its own cache keys:
// those the server names in X-Cache-Key, else those Redis showed the
// request reading and finding or writing (when cfg.Observer can name keys),
// else the endpoint's clear patterns. Nothing else is ever cleared.
func learn(ctx context.Context, cfg Config, ep Endpoint) (*catalogapi.Response, learned, error) {
	var prime *catalogapi.Response
	var err error
	send := func(ctx context.Context) { prime, err = do(ctx, cfg, ep) }
	var trace *observe.Trace
	if o := cfg.Observer; o != nil && o.Mechanism() != observe.Info {
		t, oerr := o.Observe(ctx, send)
		if oerr != nil {
			return prime, learned{}, oerr
		}
		trace = &t
	} else {
		send(ctx)
	}
	if err != nil {
		return prime, learned{}, err
	}
	switch {
	case prime.Key != "" && trace != nil && trace.UsedAnotherKey(cfg.Observer.Prefix()+prime.Key):
		// The app caches it elsewhere: a key of that name here is not its.
		return prime, learned{from: "header", invalid: fmt.Sprintf(
			"X-Cache-Key names %s, but Redis showed the request use no such key under %s in this db: check --prefix, --key-version and the db in --redis",
			prime.Key, cfg.Observer.Prefix())}, nil
	case prime.Key != "":
		return prime, learned{names: []string{prime.Key}, from: "header"}, nil
	case trace != nil:
		keys := trace.CacheKeys()
		if len(keys) == 0 {
			return prime, learned{from: "redis", invalid: fmt.Sprintf(
				"Redis showed no cache key for it (%s, %d keys read, %d written): nothing makes it cold", trace.State, len(trace.Reads), len(trace.Writes))}, nil
		}
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = observe.Logical(k, cfg.Observer.Prefix())
		}
		return prime, learned{names: names, from: "redis"}, nil
	case len(ep.Clear) > 0:
		return prime, learned{names: ep.Clear, from: "patterns"}, nil
	case cfg.Redis == nil:
		return prime, learned{}, nil // nothing is cleared: the caller measures the server alone
	}
	return prime, learned{invalid: "no key to clear: the API sends no X-Cache-Key, Redis could not be observed, and the endpoint names no clear patterns"}, nil
}
