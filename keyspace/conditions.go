package keyspace

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
)

// Conditions narrow a selection by the keys' expiry; they combine with any
// target (a key must belong to a target and meet the conditions). The zero
// value admits every key.
type Conditions struct {
	NoTTL    bool          // keys without an expiry
	TTLBelow time.Duration // keys whose remaining TTL is below it; keys without a TTL never match
}

// Active reports whether the conditions narrow anything.
func (c Conditions) Active() bool { return c.NoTTL || c.TTLBelow > 0 }

func (c Conditions) validate() error {
	switch {
	case c.TTLBelow < 0:
		return option.Errorf("--ttl-below must be positive")
	case c.NoTTL && c.TTLBelow > 0:
		return option.Errorf("--no-ttl and --ttl-below exclude each other: a key without a TTL has none below anything")
	}
	return nil
}

// admits reports whether a key whose PTTL replied ttl meets the conditions.
// go-redis gives -1 (no expiry) and -2 (no key) as raw values.
func (c Conditions) admits(ttl time.Duration) bool {
	switch {
	case ttl == -2:
		return false
	case c.NoTTL:
		return ttl == -1
	case c.TTLBelow > 0:
		return ttl >= 0 && ttl < c.TTLBelow
	}
	return true
}

// unlinkIfScript re-checks a key's PTTL and unlinks it in one atomic step,
// so that a key whose TTL was set or refreshed since the scan checked it
// survives. ARGV[1] is "no-ttl" or "below", ARGV[2] the bound in ms. One key
// per call: it runs on a cluster node like UNLINK of that key would.
const unlinkIfScript = `local t = redis.call('PTTL', KEYS[1])
if t == -2 then return 0 end
if ARGV[1] == 'no-ttl' then
  if t ~= -1 then return 0 end
elseif t < 0 or t >= tonumber(ARGV[2]) then
  return 0
end
return redis.call('UNLINK', KEYS[1])`

// unlink queues the UNLINK of one key on p, conditional when c is active.
func (c Conditions) unlink(ctx context.Context, p redis.Pipeliner, key string) *redis.IntCmd {
	if !c.Active() {
		return p.Unlink(ctx, key)
	}
	mode := "below"
	if c.NoTTL {
		mode = "no-ttl"
	}
	cmd := redis.NewIntCmd(ctx, "eval", unlinkIfScript, 1, key, mode, c.TTLBelow.Milliseconds())
	_ = p.Process(ctx, cmd)
	return cmd
}

// filter keeps the keys (and their targets) that meet the conditions, with
// one pipelined PTTL per key on r. A key the node redirects (it moved to
// another master) makes the page fail like an UNLINK redirect does.
func (c Conditions) filter(ctx context.Context, r redis.Cmdable, addr string, keys []string, targets []int) ([]string, []int, error) {
	if !c.Active() || len(keys) == 0 {
		return keys, targets, nil
	}
	cmds := make([]*redis.DurationCmd, len(keys))
	_, err := r.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.PTTL(ctx, k)
		}
		return nil
	})
	if err != nil && !isReply(err) {
		return nil, nil, fmt.Errorf("pttl on %s: %w", addr, err)
	}
	var keep []string
	var kept []int
	moved := 0
	for i, cmd := range cmds {
		ttl, err := cmd.Result()
		switch {
		case isRedirect(err):
			moved++
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("pttl on %s: %w", addr, err)
		}
		if c.admits(ttl) {
			keep = append(keep, keys[i])
			kept = append(kept, targets[i])
		}
	}
	if moved > 0 {
		return nil, nil, fmt.Errorf("%w: %d keys were no longer on %s", errKeysMoved, moved, addr)
	}
	return keep, kept, nil
}

// classify returns the keys of a SCAN page that belong to a target of sel,
// with the index of each one's target.
func classify(sel Selection, page []string) (keys []string, targets []int) {
	for _, k := range page {
		if i := sel.Classify(k); i >= 0 {
			keys = append(keys, k)
			targets = append(targets, i)
		}
	}
	return keys, targets
}

// CountWhere is Count for the keys of sel that also meet cond (checked
// with one pipelined PTTL per SCAN page).
func CountWhere(ctx context.Context, c redis.UniversalClient, sel Selection, count int64, cond Conditions) ([]int64, error) {
	n, _, err := CountPaced(ctx, c, sel, CountConfig{Count: count, Conditions: cond})
	return n, err
}

// OldVersions is the matcher of an old-versions target: keys
// PREFIX:V:LOGICAL where V is a version number other than Current and
// LOGICAL matches one of the Logical globs (a group's patterns). Sessions
// and anything else under the prefix match no group's pattern, and a
// segment that is not a number is not a version.
type OldVersions struct {
	Prefix  string   `json:"prefix"`
	Current int      `json:"current"`
	Logical []string `json:"logical"`
}

func (o *OldVersions) match(key string) bool {
	rest, ok := strings.CutPrefix(key, o.Prefix+":")
	if !ok {
		return false
	}
	v, logical, ok := strings.Cut(rest, ":")
	if !ok || v == "" || strings.Trim(v, "0123456789") != "" {
		return false
	}
	if n, err := strconv.Atoi(v); err != nil || n == o.Current {
		return false
	}
	for _, g := range o.Logical {
		if Match(g, logical) {
			return true
		}
	}
	return false
}

// OldVersions turns each target of sel into its keys under every version
// but the schema's: "products" becomes "products@old", the keys
// PREFIX:V:product:* and PREFIX:V:products:* for every V other than the
// current one, as a Django deploy that bumps VERSION leaves them.
func (s Schema) OldVersions(sel Selection) Selection {
	ns := EscapeGlob(s.Namespace())
	out := make(Selection, len(sel))
	for i, t := range sel {
		if t.Old != nil {
			out[i] = t
			continue
		}
		old := &OldVersions{Prefix: s.Prefix, Current: s.Version}
		for _, g := range t.Globs {
			if l, ok := strings.CutPrefix(g, ns); ok {
				old.Logical = append(old.Logical, l)
			}
		}
		out[i] = Target{Name: t.Name + "@old", Globs: []string{EscapeGlob(s.Prefix+":") + "*"}, Old: old}
	}
	return out
}
