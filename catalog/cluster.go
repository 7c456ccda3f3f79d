package catalog

import (
	"context"
	"errors"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// On Redis Cluster the two scripts cannot run: a cached key, its family's
// fence and its family's index hash to different slots, and the seed's key
// names leave no room for a hash tag. The same guarantees are kept with
// single-key commands, in an order that makes them hold:
//
// Writing a value (setClustered): the key goes into the family's index first,
// tagged with the fence the reader read ("FENCE|KEY"), then the fence is read
// again and the value is SET only if it still holds the reader's fence, and
// read once more after the SET; if it moved in between, the reader UNLINKs
// what it wrote. A write elsewhere that raced the reader is thus undone by
// the reader itself, or found in the index by the invalidation.
//
// Invalidating (invalidateClustered): INCR the fence (to N), UNLINK the fixed
// keys and every indexed key tagged with a fence below N, and ZREM exactly
// those members. Members tagged N or more were written by readers that read
// the fence after this INCR, so they hold data newer than the write.
//
// What is weaker than on a single server: between a racing reader's SET and
// its own UNLINK (one round trip), another process may read the old value.
// Within one process even that cannot happen: a writer takes its family's
// lock before it bumps the local generation, and a reader holds it from its
// generation check until its SET is answered, so the writer's invalidation
// always comes after that SET.

// clusterLocks is the per-family reader/writer lock of the cluster path,
// striped so that it needs no map of every product id.
type clusterLocks [64]sync.RWMutex

var lockSeed = maphash.MakeSeed()

func (l *clusterLocks) of(family string) *sync.RWMutex {
	return &l[maphash.String(lockSeed, family)%uint64(len(l))]
}

// indexMember tags a key with the fence its value was loaded under.
func indexMember(fence, key string) string { return fence + "|" + key }

// memberFence splits an index member; ok is false for a member in another
// format (one written by a single-server script), which is treated as old.
func memberFence(m string) (fence int64, key string, ok bool) {
	f, k, found := strings.Cut(m, "|")
	if !found {
		return 0, m, false
	}
	n, err := strconv.ParseInt(f, 10, 64)
	return n, k, err == nil
}

// setClustered is set for a Redis Cluster.
func (c *cache) setClustered(ctx context.Context, e entry, key, fenceKey, fence string, gen uint64, body []byte) {
	lock := c.locks.of(e.fam.name)
	lock.RLock()
	defer lock.RUnlock()
	if c.gen(e.fam.name) != gen || !c.usable(e.fam.name) {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if e.fam.indexed {
		index := c.schema.Key(indexKeyPrefix + e.fam.name)
		now := time.Now().UnixMilli()
		_, err := c.rdb.TxPipelined(rctx, func(p redis.Pipeliner) error {
			p.ZAdd(rctx, index, redis.Z{Score: float64(now + e.ttl.Milliseconds()), Member: indexMember(fence, key)})
			p.ZRemRangeByScore(rctx, index, "-inf", strconv.FormatInt(now, 10))
			p.PExpire(rctx, index, indexTTL)
			return nil
		})
		if err != nil {
			c.fail("set", err)
			return
		}
	}
	if held, err := c.fenceHolds(rctx, fenceKey, fence); err != nil || !held {
		if err != nil {
			c.fail("set", err)
		}
		return
	}
	if c.beforeSet != nil {
		c.beforeSet()
	}
	if err := c.rdb.Set(rctx, key, body, e.ttl).Err(); err != nil {
		// The SET may have landed: make sure a stale copy cannot outlive Redis's answer.
		c.fail("set", err)
		c.rememberKey(e.fam, e.logical)
		return
	}
	held, err := c.fenceHolds(rctx, fenceKey, fence)
	if err == nil && held {
		return
	}
	if err == nil {
		// A write elsewhere moved the fence while this value was loading: undo.
		err = c.rdb.Unlink(rctx, key).Err()
	}
	if err != nil {
		c.fail("set", err)
		c.rememberKey(e.fam, e.logical)
	}
}

// fenceHolds reports whether the fence still reads fence (a missing fence reads "0").
func (c *cache) fenceHolds(ctx context.Context, fenceKey, fence string) (bool, error) {
	f, err := c.rdb.Get(ctx, fenceKey).Result()
	switch {
	case errors.Is(err, redis.Nil):
		f = "0"
	case err != nil:
		return false, err
	}
	return f == fence, nil
}

// rememberKey keeps an invalidation of fam pending that also deletes one key
// by name: a value whose fence could not be checked after it was written.
func (c *cache) rememberKey(fam family, logical string) {
	fam.fixed = append(fam.fixed[:len(fam.fixed):len(fam.fixed)], logical)
	c.remember(fam)
}

// invalidateClustered is runInvalidation for a Redis Cluster; it returns the
// number of keys removed.
func (c *cache) invalidateClustered(ctx context.Context, f family) (int64, error) {
	fenceKey := c.schema.Key(fenceKeyPrefix + f.name)
	index := c.schema.Key(indexKeyPrefix + f.name)
	var incr *redis.IntCmd
	if _, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, fenceKey)
		p.PExpire(ctx, fenceKey, fenceTTL)
		return nil
	}); err != nil {
		return 0, err
	}
	now := incr.Val()
	var old []string // index members written under an earlier fence
	if f.indexed {
		members, err := c.rdb.ZRange(ctx, index, 0, -1).Result()
		if err != nil {
			return 0, err
		}
		for _, m := range members {
			if n, _, ok := memberFence(m); !ok || n < now {
				old = append(old, m)
			}
		}
	}
	var unlinks []*redis.IntCmd
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range old {
			_, key, _ := memberFence(m)
			unlinks = append(unlinks, p.Unlink(ctx, key))
		}
		for _, l := range f.fixed {
			unlinks = append(unlinks, p.Unlink(ctx, c.schema.Key(l)))
		}
		return nil
	})
	var n int64
	for _, u := range unlinks {
		n += u.Val()
	}
	if err != nil {
		return n, err
	}
	// Only now that their keys are gone do the members leave the index.
	for i := 0; i < len(old); i += 500 {
		batch := old[i:min(i+500, len(old))]
		args := make([]any, len(batch))
		for j, m := range batch {
			args[j] = m
		}
		if err := c.rdb.ZRem(ctx, index, args...).Err(); err != nil {
			return n, err
		}
	}
	return n, nil
}
