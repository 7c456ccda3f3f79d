package observe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// tracker is one tracking window: a subscriber to __redis__:invalidate on
// a connection of its own, and a connection whose CLIENT TRACKING (BCAST on
// the prefix) is redirected to it. Markers are PINGs on the subscriber:
// Redis queues an invalidation when the command runs, so the PONG of a
// PING sent after the request's response follows every invalidation the
// request caused.
type tracker struct {
	sub *redis.Client
	ps  *redis.PubSub
	trk *redis.Conn
	// keys, and markers as "\x00"+payload
	*stream[string]
	done chan struct{}
}

func (o *Observer) startTracking(ctx context.Context) (*tracker, error) {
	node, ok := o.rdb.(*redis.Client)
	if !ok {
		return nil, errors.New("CLIENT TRACKING: standalone servers only")
	}
	opt := *node.Options()
	opt.PoolSize, opt.MinIdleConns, opt.MaxIdleConns, opt.Protocol = 1, 0, 1, 2
	var id int64
	opt.OnConnect = func(ctx context.Context, cn *redis.Conn) (err error) {
		id, err = cn.ClientID(ctx).Result()
		return err
	}
	t := &tracker{sub: redis.NewClient(&opt), stream: newStream[string]("tracking"), done: make(chan struct{})}
	t.ps = t.sub.Subscribe(ctx, "__redis__:invalidate")
	if _, err := t.ps.Receive(ctx); err != nil {
		close(t.done)
		t.close(ctx)
		return nil, fmt.Errorf("CLIENT TRACKING: subscribe: %w", err)
	}
	t.trk = node.Conn()
	err := t.trk.Do(ctx, "CLIENT", "TRACKING", "ON", "REDIRECT", id, "BCAST", "PREFIX", o.opts.Prefix).Err()
	if err != nil {
		close(t.done)
		t.close(ctx)
		return nil, fmt.Errorf("CLIENT TRACKING refused: %w", err)
	}
	go t.read(ctx)
	return t, nil
}

func (t *tracker) read(ctx context.Context) {
	defer close(t.done)
	for {
		msg, err := t.ps.Receive(context.WithoutCancel(ctx))
		switch m := msg.(type) {
		case *redis.Message:
			t.add(m.PayloadSlice...)
			if m.Payload != "" {
				t.add(m.Payload)
			}
		case *redis.Pong:
			t.mark(m.Payload, "\x00"+m.Payload)
		}
		if err != nil {
			t.end(err)
			return
		}
	}
}

func (t *tracker) close(ctx context.Context) {
	if t.trk != nil {
		_ = t.trk.Do(ctx, "CLIENT", "TRACKING", "OFF").Err()
		_ = t.trk.Close()
	}
	_ = t.ps.Close()
	_ = t.sub.Close()
	<-t.done
}

// viaTracking: markers around a guard before and after the request, as
// with MONITOR. Keys invalidated in a guard show a concurrent writer, whose
// other keys cannot be told from the request's: the trace is then not exact.
func (o *Observer) viaTracking(ctx context.Context, request func(context.Context)) (Trace, error) {
	tr, err := o.startTracking(ctx)
	if err != nil {
		return Trace{}, err
	}
	defer tr.close(ctx)
	id := nonce()
	ping := func(i int) func() error {
		return func() error { return tr.ps.Ping(ctx, markerName(id, i)) }
	}
	var before, after [2]int64
	steps := []func() error{
		ping(0), func() error { return sleep(ctx, o.opts.Guard) }, ping(1),
		func() (err error) { before, err = o.counters(ctx); return err },
		func() error { request(ctx); return nil },
		func() (err error) { after, err = o.counters(ctx); return err },
		ping(2), func() error { return sleep(ctx, o.opts.Guard) }, ping(3),
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Trace{}, err
		}
	}
	wait, cancel := context.WithTimeout(ctx, o.opts.Timeout)
	defer cancel()
	var at [4]int
	for i := range 4 {
		if at[i], err = tr.await(wait, markerName(id, i)); err != nil {
			return Trace{}, fmt.Errorf("tracking marker %d: %w", i, err)
		}
	}
	guards := append(tr.between(at[0], at[1]), tr.between(at[2], at[3])...)
	t := Trace{Hits: after[0] - before[0], Misses: after[1] - before[1]}
	for _, k := range guards {
		t.Noise.Commands++
		if len(t.Noise.Keys) < MaxNoiseKeys && !slices.Contains(t.Noise.Keys, k) {
			t.Noise.Keys = append(t.Noise.Keys, k)
		}
	}
	seen := map[string]bool{}
	for _, k := range tr.between(at[1], at[2]) {
		if seen[k] || !strings.HasPrefix(k, o.opts.Prefix) {
			continue
		}
		seen[k] = true
		d, err := o.rdb.PTTL(ctx, k).Result()
		if err != nil {
			return Trace{}, fmt.Errorf("PTTL %s: %w", k, err)
		}
		if d == -2 {
			t.Deletes = append(t.Deletes, KeyOp{Key: k})
			continue
		}
		t.Writes = append(t.Writes, KeyOp{Key: k, TTLAfter: d})
	}
	// Other writers were at work around the window: some of the keys in it
	// may be theirs, and tracking cannot say which.
	t.State, t.Exact = trackedState(t), len(t.Writes) > 0 && len(guards) == 0
	return t, nil
}

// trackedState: a write is a MISS; without one, the hit and miss deltas
// are the only sign, and an approximate one.
func trackedState(t Trace) State {
	switch {
	case len(t.Writes) > 0:
		return Miss
	case t.Misses > 0:
		return Bypass
	case t.Hits > 0:
		return Hit
	}
	return Uncached
}
