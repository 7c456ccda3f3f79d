package keyspace

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// sizing is one key of a SCAN page to size for its target.
type sizing struct {
	target int
	key    string
}

// sizeKeys reads MEMORY USAGE of one page's keys in one pipeline and keeps
// the largest per target. A refusal (NOPERM) stops sizing for that target on
// this node; a key gone since SCAN is skipped.
func sizeKeys(ctx context.Context, node *redis.Client, page []sizing, np []nodePart, n int) error {
	if len(page) == 0 {
		return nil
	}
	cmds := make([]*redis.IntCmd, len(page))
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range page {
			cmds[i] = p.MemoryUsage(ctx, s.key)
		}
		return nil
	})
	var replyErr redis.Error
	if err != nil && !errors.Is(err, redis.Nil) && !errors.As(err, &replyErr) {
		return fmt.Errorf("size keys on %s: %w", NodeAddr(node), err)
	}
	for i, s := range page {
		b, err := cmds[i].Result()
		switch {
		case isNoPerm(err):
			np[s.target].noSize = true
		case err == nil:
			np[s.target].big.add(KeySample{Key: s.key, TTL: -1, Bytes: b}, n)
		}
	}
	return nil
}

// topKeys keeps the n largest keys seen, in a min-heap by size, each key once.
type topKeys struct{ keys []KeySample }

func (t *topKeys) Len() int           { return len(t.keys) }
func (t *topKeys) Less(i, j int) bool { return t.keys[i].Bytes < t.keys[j].Bytes }
func (t *topKeys) Swap(i, j int)      { t.keys[i], t.keys[j] = t.keys[j], t.keys[i] }
func (t *topKeys) Push(x any)         { t.keys = append(t.keys, x.(KeySample)) }
func (t *topKeys) Pop() any {
	k := t.keys[len(t.keys)-1]
	t.keys = t.keys[:len(t.keys)-1]
	return k
}

// add offers k; a key already kept is updated in place (a sample's entry
// carries its TTL, the scan's does not).
func (t *topKeys) add(k KeySample, n int) {
	for i := range t.keys {
		if t.keys[i].Key == k.Key {
			t.keys[i] = k
			heap.Fix(t, i)
			return
		}
	}
	switch {
	case len(t.keys) < n:
		heap.Push(t, k)
	case k.Bytes > t.keys[0].Bytes:
		t.keys[0] = k
		heap.Fix(t, 0)
	}
}

// sorted returns the kept keys, largest first (ties by name).
func (t *topKeys) sorted() []KeySample {
	out := make([]KeySample, len(t.keys))
	copy(out, t.keys)
	sortBySizeDesc(out)
	return out
}

func sortBySizeDesc(ks []KeySample) {
	slices.SortFunc(ks, func(a, b KeySample) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return cmpString(a.Key, b.Key)
	})
}
