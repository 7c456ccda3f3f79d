package observe

import (
	"context"
	"fmt"
)

// Stores counts, for one key, the commands that stored a value in it
// during a Burst window.
type Stores struct {
	Key      string `json:"key"`
	Commands int    `json:"commands"`
}

// Burst runs request (many concurrent requests, a stampede) inside one
// MONITOR window bounded by markers, and counts the commands that stored a
// value (SET, SETEX, MSET, … and the SETs of scripts; not EXPIRE or
// PERSIST, which store nothing) in each key under the prefix that match
// accepts, by any client but cachectl's own. Unlike Observe it does not
// look for one request's clients: a stampede's requests reach Redis over
// many connections at once, and every store of the key is one of theirs.
// A server that stores after it has answered is seen only if the store
// lands before the end marker. Only the monitor mechanism can count:
// otherwise the error is ErrUnavailable, and request has not run.
func (o *Observer) Burst(ctx context.Context, match func(key string) bool, request func(context.Context)) ([]Stores, error) {
	if o.mech != Monitor {
		why := o.degraded
		if why == "" {
			why = "the " + string(o.mech) + " mechanism sees no command counts"
		}
		return nil, fmt.Errorf("%w: counting stores needs MONITOR: %s", ErrUnavailable, why)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	ss, err := o.openSessions(ctx)
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	defer closeSessions(ss)
	id := nonce()
	if err := mark(ctx, ss, id, 0); err != nil {
		return nil, err
	}
	request(ctx)
	if err := mark(ctx, ss, id, 1); err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, o.opts.Timeout)
	defer cancel()
	var out []Stores
	index := map[string]int{}
	for _, s := range ss {
		for i := range 2 {
			if s.at[i], err = s.mon.await(wait, markerName(id, i)); err != nil {
				return nil, fmt.Errorf("observe: monitor %s: marker %d: %w", s.node.Options().Addr, i, err)
			}
		}
		for _, l := range s.mon.between(s.at[0], s.at[1]) {
			if l.Client == s.addr || l.DB != s.db {
				continue
			}
			for _, op := range ops(l.Args, o.opts.Prefix) {
				if op.Kind != Write || !stores(op.Cmd) || !match(op.Key) {
					continue
				}
				i, ok := index[op.Key]
				if !ok {
					i = len(out)
					index[op.Key] = i
					out = append(out, Stores{Key: op.Key})
				}
				out[i].Commands++
			}
		}
	}
	return out, nil
}

// stores reports a write command that stores a value, as opposed to one
// that only changes an expiry.
func stores(cmd string) bool {
	switch cmd {
	case "EXPIRE", "PEXPIRE", "PERSIST":
		return false
	}
	return true
}
