package inspect

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// RetryEvery bounds the wait between two readings while Redis is away,
// whatever the interval: a watcher notices a recovery within 2 s.
const RetryEvery = 2 * time.Second

// Reading is one turn of Watch: a snapshot and its rates against the
// previous good one, or the error that left this turn without one.
type Reading struct {
	At       time.Time
	Snapshot Snapshot
	Rate     Rate
	// Err is set when Redis could not be read; Watch tries again.
	Err error
}

// WatchConfig paces Watch.
type WatchConfig struct {
	// Interval between the starts of two readings; 1 s when 0.
	Interval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Watch reads a snapshot every interval and hands each reading to fn until
// ctx ends (it returns ctx.Err()) or the server refuses INFO to this user
// (it returns that error: retrying will not help). While Redis cannot be
// read it tries again every min(interval, RetryEvery). The next reading is
// due one interval after the last one started, so a slow INFO does not
// stretch the interval.
func Watch(ctx context.Context, c redis.UniversalClient, cfg WatchConfig, fn func(Reading)) error {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var prev Snapshot
	for {
		start := cfg.Now()
		tctx, cancel := context.WithTimeout(ctx, max(cfg.Interval, RetryEvery))
		snap, err := Take(tctx, c)
		cancel()
		wait := cfg.Interval
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && NotPermitted(err):
			return err
		case err != nil:
			fn(Reading{At: start, Err: err})
			wait = min(cfg.Interval, RetryEvery)
		default:
			fn(Reading{At: start, Snapshot: snap, Rate: Rates(prev, snap)})
			prev = snap
		}
		if err := sleep(ctx, wait-cfg.Now().Sub(start)); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
