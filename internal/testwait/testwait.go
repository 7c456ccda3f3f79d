// Package testwait waits in tests for a condition instead of sleeping for a
// while and hoping: it polls the condition, bounded by a timeout or a
// context, and says what it waited for when it gives up.
package testwait

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// interval between two looks at a condition: short against the time a
// test waits, long enough not to busy-loop.
const interval = 10 * time.Millisecond

// Until polls cond until it returns nil, and fails t with what and cond's
// last error once timeout has passed. It must be called from the test's
// goroutine.
func Until(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := poll(ctx, cond); err != nil {
		t.Fatalf("after %s, still waiting for %s: %v", timeout, what, err)
	}
}

// Eventually is Until for a condition that holds or does not.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Until(t, timeout, what, func() error {
		if cond() {
			return nil
		}
		return errors.New("not yet")
	})
}

// For polls cond until it holds or ctx ends, and reports whether it held.
// It fails no test, so any goroutine may use it.
func For(ctx context.Context, cond func() bool) bool {
	return poll(ctx, func() error {
		if cond() {
			return nil
		}
		return errors.New("not yet")
	}) == nil
}

func poll(ctx context.Context, cond func() error) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%v)", err, ctx.Err())
		case <-tick.C:
		}
	}
}
