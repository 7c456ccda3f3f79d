package catalog

import (
	"context"
	"errors"
	"fmt"
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
// single-key commands (and one single-key script), in an order that makes
// them hold:
//
// Writing a value (setClustered): the key goes into the family's index first,
// tagged with the fence the reader read ("FENCE|KEY"), while the fence is read
// again; the value is SET only if the fence still holds the reader's, with a
// short provisional expiry, and the fence is read once more. If it moved in
// between, the reader UNLINKs what it wrote; if not, the value gets its real
// expiry, and a last read of the fence removes the key should a write have
// come meanwhile (the key may by then hold a copy of another reader's that
// raced that write). A write elsewhere that raced the reader is thus undone
// by the reader itself, or found in the index by the invalidation; a reader
// that dies or loses Redis before its checks leaves a value that expires
// within provisionalTTL. The SET, the expiry and the UNLINKs each leave
// alone a key that holds another writer's value by then (setOwned,
// pexpireAtOwned, unlinkOwned).
//
// Invalidating (invalidateClustered): move the fence to N (bumpFence), UNLINK
// the fixed keys and every indexed key tagged with a fence below N, and only
// then ZREM exactly those members. Members tagged N or more were written by
// readers that read the fence after this move, so they hold data newer than
// the write. When the fence had been lost (expired, evicted, a master that
// came back without it), its old values are unknown and every member counts
// as older.
//
// What is weaker than on a single server: between a racing reader's SET and
// its own UNLINK (a round trip, or at most provisionalTTL if the reader
// fails there), another process may read the old value. One corner is wider:
// a reader that found no fence is fooled if the fence is created and lost
// again while it loads. Within one process none of this can happen: a
// writer takes its family's lock before it bumps the local generation, and a
// reader holds it from its generation check until it is done, so the
// writer's invalidation always comes after that.

// bumpFence moves a fence (fenceBumpLua) and returns its new value and 1 when
// it had been lost. One key: it runs on a cluster too, at maxmemory as well.
var bumpFence = newOOMScript(fenceBumpLua + `
return {string.format('%.0f', v), lost}
`)

// A reader's single-key commands on its value, each only while the key holds
// nothing or one of the server's values (ownedLua; ARGV[1] is valueMark), so
// that another writer's value that took the key meanwhile is left as it is.
var (
	// setOwned is SET KEYS[1] ARGV[2] PX ARGV[3]; it returns 0 for a foreign value.
	setOwned = redis.NewScript(ownedLua + `
if not owned(KEYS[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)
	// pexpireAtOwned is PEXPIREAT KEYS[1] ARGV[2].
	pexpireAtOwned = redis.NewScript(ownedLua + `
if not owned(KEYS[1]) then return 0 end
return redis.call('PEXPIREAT', KEYS[1], ARGV[2])
`)
	// unlinkOwned is UNLINK KEYS[1].
	unlinkOwned = redis.NewScript(ownedLua + `
if not owned(KEYS[1]) then return 0 end
return redis.call('UNLINK', KEYS[1])
`)
)

// provisionalTTL is how long a value lives until its reader has checked the
// fence after writing it: the longest a stale value can outlive a reader that
// fails between the two.
func (c *cache) provisionalTTL(ttl time.Duration) time.Duration {
	return min(ttl, max(time.Second, 4*c.timeout))
}

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
// format (one written by a single-server script: the whole member is the
// key), which is treated as old.
func memberFence(m string) (fence int64, key string, ok bool) {
	f, k, found := strings.Cut(m, "|")
	if !found {
		return 0, m, false
	}
	n, err := strconv.ParseInt(f, 10, 64)
	if err != nil {
		return 0, m, false
	}
	return n, k, true
}

func parseFence(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Stages of setClustered at which a test may hold a reader.
const (
	stageBeforeSet = "before set"     // the fence held before the SET
	stageSet       = "after set"      // the value is in, provisionally (cluster only)
	stageChecked   = "after re-check" // the fence held after it, too
)

// step runs one round trip to Redis with its own deadline.
func (c *cache) step(ctx context.Context, f func(ctx context.Context) error) error {
	sctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return f(sctx)
}

// setClustered is set for a Redis Cluster. Every step has its own deadline.
func (c *cache) setClustered(ctx context.Context, e entry, key, fenceKey, fence string, gen uint64, body []byte) {
	lock := c.locks.of(e.fam.name)
	lock.RLock()
	defer lock.RUnlock()
	index := c.schema.Key(indexKeyPrefix + e.fam.name)
	keys := []string{key, fenceKey}
	if e.fam.indexed {
		keys = append(keys, index)
	}
	if c.gen(e.fam.name) != gen || !c.usable(e.fam.name, keys...) {
		return
	}
	step := func(f func(ctx context.Context) error) error { return c.step(ctx, f) }
	expireAt := time.Now().Add(e.ttl)
	var held bool
	err := step(func(ctx context.Context) error {
		// The index entry and the first fence check, in one round trip: the
		// entry must be in place before the SET, and expires with the value.
		var get *redis.StringCmd
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			if e.fam.indexed {
				p.ZAdd(ctx, index, redis.Z{Score: float64(expireAt.UnixMilli()), Member: indexMember(fence, key)})
				p.ZRemRangeByScore(ctx, index, "-inf", strconv.FormatInt(time.Now().Add(-indexSlack).UnixMilli(), 10))
				p.PExpire(ctx, index, indexTTL)
			}
			get = p.Get(ctx, fenceKey)
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		held = fenceOrZero(get.Val()) == fence
		return nil
	})
	if c.setRefused(err) {
		return
	}
	if err != nil {
		c.fail("set", err)
		return
	}
	if !held {
		return // a write moved the fence during the load: keep nothing
	}
	c.testHook(stageBeforeSet)
	var set int64
	err = step(func(ctx context.Context) (err error) {
		set, err = setOwned.Run(ctx, c.rdb, []string{key}, valueMark, markValue(body), c.provisionalTTL(e.ttl).Milliseconds()).Int64()
		return err
	})
	if c.setRefused(err) {
		return
	}
	if err != nil {
		// The SET may have landed: make sure a stale copy cannot outlive Redis's answer.
		c.fail("set", err)
		c.rememberKey(e.fam, e.logical)
		return
	}
	c.stored()
	if set == 0 {
		c.log.Debug("another writer stored a value while this one loaded: left in place", "key", key)
		return
	}
	c.testHook(stageSet)
	err = step(func(ctx context.Context) error {
		f, err := c.rdb.Get(ctx, fenceKey).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if held = fenceOrZero(f) == fence; !held {
			// A write elsewhere moved the fence while this value was loading: undo.
			return c.unlinkOwned(ctx, key)
		}
		return nil
	})
	if err != nil {
		c.fail("set", err)
		c.rememberKey(e.fam, e.logical)
		return
	}
	if !held {
		return
	}
	c.testHook(stageChecked)
	// Any invalidation from now on finds the key in the index (or by name):
	// the value may live its full TTL, which the index entry shares. What is
	// under the key by now may be another reader's copy, loaded before a
	// write that came after this reader's check; so the fence is checked a
	// last time, and a moved fence removes whatever the PEXPIREAT extended.
	err = step(func(ctx context.Context) error {
		if err := pexpireAtOwned.Run(ctx, c.rdb, []string{key}, valueMark, expireAt.UnixMilli()).Err(); err != nil {
			return err
		}
		f, err := c.rdb.Get(ctx, fenceKey).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if fenceOrZero(f) != fence {
			return c.unlinkOwned(ctx, key)
		}
		return nil
	})
	if err != nil {
		c.fail("set", err)
		c.rememberKey(e.fam, e.logical)
	}
}

// unlinkOwned undoes a reader's own write, unless another writer's value
// has taken the key since.
func (c *cache) unlinkOwned(ctx context.Context, key string) error {
	return unlinkOwned.Run(ctx, c.rdb, []string{key}, valueMark).Err()
}

// fenceOrZero reads a missing fence as "0", as readers do.
func fenceOrZero(f string) string {
	if f == "" {
		return "0"
	}
	return f
}

// rememberKey keeps an invalidation of fam pending that also deletes one key
// by name: a value whose fence could not be checked after it was written.
func (c *cache) rememberKey(fam family, logical string) {
	fam.fixed = append(fam.fixed[:len(fam.fixed):len(fam.fixed)], logical)
	c.remember(fam)
}

// invalidateClustered is runInvalidation for a Redis Cluster; it returns the
// number of keys removed. Every step has its own deadline.
func (c *cache) invalidateClustered(ctx context.Context, f family) (int64, error) {
	fenceKey := c.schema.Key(fenceKeyPrefix + f.name)
	index := c.schema.Key(indexKeyPrefix + f.name)
	var now int64
	var lost bool
	var old []string // index members written under an earlier fence
	err := c.step(ctx, func(ctx context.Context) error {
		r, err := bumpFence.run(ctx, c.rdb, &c.unflagged, []string{fenceKey}, fenceTTL.Milliseconds()).Slice()
		if err != nil {
			return err
		}
		if len(r) != 2 {
			return fmt.Errorf("fence %s: unexpected reply %v", fenceKey, r)
		}
		s, _ := r[0].(string)
		flag, _ := r[1].(int64)
		now, lost = parseFence(s), flag == 1
		return nil
	})
	if err == nil && f.indexed {
		err = c.step(ctx, func(ctx context.Context) error {
			members, err := c.rdb.ZRange(ctx, index, 0, -1).Result()
			for _, m := range members {
				if n, _, ok := memberFence(m); lost || !ok || n < now {
					old = append(old, m)
				}
			}
			return err
		})
	}
	if err != nil {
		return 0, err
	}
	var n int64
	err = c.step(ctx, func(ctx context.Context) error {
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
		for _, u := range unlinks {
			n += u.Val()
		}
		return err
	})
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
		if err := c.step(ctx, func(ctx context.Context) error { return c.rdb.ZRem(ctx, index, args...).Err() }); err != nil {
			return n, err
		}
	}
	return n, nil
}
