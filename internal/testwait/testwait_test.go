package testwait

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int64
	go func() {
		for n.Load() < 3 {
			n.Add(1)
		}
	}()
	Eventually(t, 5*time.Second, "three", func() bool { return n.Load() >= 3 })
}

func TestUntilFailsWithTheLastReason(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Until(rec, 30*time.Millisecond, "the moon", func() error { return errors.New("still dark") })
	}()
	<-done
	if !strings.Contains(rec.msg, "still waiting for the moon: still dark") {
		t.Errorf("message %q", rec.msg)
	}
}

func TestForEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if For(ctx, func() bool { return false }) {
		t.Error("For says a condition that never holds held")
	}
	if !For(context.Background(), func() bool { return true }) {
		t.Error("For says a condition that holds did not")
	}
}
