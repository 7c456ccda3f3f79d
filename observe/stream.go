package observe

import (
	"context"
	"fmt"
	"sync"
)

// stream is what a reader goroutine has received so far of one window's
// stream (MONITOR lines, tracking invalidations): its entries, where each
// marker stands among them, and the error that ended it. The reader adds;
// await and between read from other goroutines.
type stream[T any] struct {
	name    string // "monitor", "tracking": named when the stream ended early
	mu      sync.Mutex
	entries []T
	marks   map[string]int // marker -> index in entries where it arrived
	err     error
	wake    chan struct{} // closed and replaced whenever a marker arrives or the stream ends
}

func newStream[T any](name string) *stream[T] {
	return &stream[T]{name: name, marks: map[string]int{}, wake: make(chan struct{})}
}

// add appends entries that are not markers.
func (s *stream[T]) add(entries ...T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, entries...)
}

// mark appends the entry that carries marker and wakes those awaiting it.
func (s *stream[T]) mark(marker string, entry T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, entry)
	s.marks[marker] = len(s.entries) - 1
	s.signal()
}

// end records why the stream stopped and wakes every waiter.
func (s *stream[T]) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	s.signal()
}

func (s *stream[T]) signal() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// await returns the index of marker in the stream once it has arrived.
func (s *stream[T]) await(ctx context.Context, marker string) (int, error) {
	for {
		s.mu.Lock()
		i, ok := s.marks[marker]
		err, wake := s.err, s.wake
		s.mu.Unlock()
		if ok {
			return i, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s stream ended: %w", s.name, err)
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// between returns the entries after marker index a and before marker index b.
func (s *stream[T]) between(a, b int) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]T(nil), s.entries[a+1:b]...)
}
