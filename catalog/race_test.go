package catalog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// holdSecondRead arms the store's test hook so that the next request to reach
// its second query stops there until release is closed: the request has
// already read the product row (the old data) and not yet cached anything.
func holdSecondRead(s *Store) (entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	var armed atomic.Bool
	armed.Store(true)
	s.beforeRead = func(ctx context.Context) {
		qc, _ := ctx.Value(queryCountKey{}).(*queryCount)
		if qc != nil && qc.n.Load() == 2 && armed.CompareAndSwap(true, false) {
			close(entered)
			<-release
		}
	}
	return entered, release
}

// A reader that read the old product before a write must not put it back
// into the cache after the write returned.
func TestNoStaleSetAfterAWrite(t *testing.T) { testNoStaleSet(t) }

func testNoStaleSet(t *testing.T, opts ...envOption) {
	for _, path := range []string{"/api/products/7/", "/api/products/?category=2"} {
		t.Run(path, func(t *testing.T) {
			for round := range 3 {
				e := newEnv(t, opts...)
				entered, release := holdSecondRead(e.store)
				done := make(chan response)
				go func() { done <- e.get(path) }()
				<-entered

				name := fmt.Sprintf("After The Write %d", round)
				if r := e.admin(http.MethodPatch, "/api/products/7/", `{"name":"`+name+`","category":2}`); r.status != 200 {
					t.Fatalf("write: %d %s", r.status, r.body)
				}
				close(release)
				if slow := <-done; slow.cache() != "MISS" {
					t.Fatalf("slow reader: %s, want MISS", slow.cache())
				}
				for range 3 {
					r := e.mustGet(path)
					if !strings.Contains(r.body, name) {
						t.Fatalf("round %d: after the write returned, a read (%s) still shows the old product: %.200s",
							round, r.cache(), r.body)
					}
				}
			}
		})
	}
}

// Many readers and one writer: once the writer is done, every read shows its
// last write.
func TestManyReadersOneWriterEndOnTheLastWrite(t *testing.T) { testManyReadersOneWriter(t) }

func testManyReadersOneWriter(t *testing.T, opts ...envOption) {
	for round := range 3 {
		e := newEnv(t, opts...)
		// Shuffle the interleavings: each query waits a random moment (the
		// sleep is the point, not a wait for something).
		e.store.beforeRead = func(context.Context) { time.Sleep(time.Duration(rand.IntN(800)) * time.Microsecond) }
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					e.get("/api/products/8/")
					e.get("/api/products/?category=2&page_size=100")
				}
			}()
		}
		last := ""
		for i := range 15 {
			last = fmt.Sprintf("Version %d-%d", round, i)
			if r := e.admin(http.MethodPatch, "/api/products/8/", `{"name":"`+last+`","category":2}`); r.status != 200 {
				t.Fatalf("write: %d", r.status)
			}
			time.Sleep(time.Millisecond) // room for reads between two writes, on purpose
		}
		close(stop)
		wg.Wait()
		for range 3 {
			for _, p := range []string{"/api/products/8/", "/api/products/?category=2&page_size=100"} {
				if r := e.mustGet(p); !strings.Contains(r.body, last) {
					t.Fatalf("round %d: %s (%s) does not show the last write %q", round, p, r.cache(), last)
				}
			}
		}
	}
}

func TestConcurrentMissesMakeOneDatabaseLoad(t *testing.T) { testConcurrentMisses(t) }

func testConcurrentMisses(t *testing.T, opts ...envOption) {
	e := newEnv(t, opts...)
	// Every query is slow, so that all 100 requests miss while the load runs
	// (a deliberate stall, not a wait).
	e.store.beforeRead = func(context.Context) { time.Sleep(300 * time.Millisecond) }
	before := e.store.Queries()
	bodies := e.getConcurrently(100, "/api/products/9/")
	for i, r := range bodies {
		if r.status != 200 || r.body != bodies[0].body {
			t.Fatalf("request %d: %d, body differs", i, r.status)
		}
	}
	// One load of a product detail is two queries: the row and its variants.
	if q := e.store.Queries() - before; q != 2 {
		t.Fatalf("100 concurrent misses made %d queries, want the 2 of one load", q)
	}
}

// heldGet starts a GET of path on e whose value, once loaded, stops at stage
// of its write until release is called (at the latest when the test ends, so
// that a failed test does not hang); it returns once the GET is held there.
func heldGet(t *testing.T, e *testEnv, stage, path string) (done <-chan response, release func()) {
	entered, held := make(chan struct{}), make(chan struct{})
	var armed atomic.Bool
	armed.Store(true)
	e.srv.cache.hook = func(at string) {
		if at == stage && armed.CompareAndSwap(true, false) {
			close(entered)
			<-held
		}
	}
	release = sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	res := make(chan response, 1)
	go func() { res <- e.get(path) }()
	<-entered
	return res, release
}

// A write through another server of the same deployment lands while this
// server is writing what it loaded before the write: just before the value
// is written (only the fence can tell), or just after it was written and
// found current (only the index or the key's name can find it). No server may
// serve the old product afterwards.
func TestWriteThroughAnotherServerIsNotUndone(t *testing.T) { testWriteElsewhere(t) }

func testWriteElsewhere(t *testing.T, opts ...envOption) {
	for _, stage := range []string{stageBeforeSet, stageChecked} {
		for _, path := range []string{"/api/products/7/", "/api/products/?category=2"} {
			t.Run(stage+" "+path, func(t *testing.T) {
				e := newEnv(t, opts...)
				other := e.another()
				done, release := heldGet(t, e, stage, path)

				const name = "Written Elsewhere"
				if r := other.admin(http.MethodPatch, "/api/products/7/", `{"name":"`+name+`","category":2}`); r.status != 200 {
					t.Fatalf("write: %d %s", r.status, r.body)
				}
				release()
				if slow := <-done; slow.cache() != "MISS" {
					t.Fatalf("slow reader: %s, want MISS", slow.cache())
				}
				for _, env := range []*testEnv{e, other, e} {
					if r := env.mustGet(path); !strings.Contains(r.body, name) {
						t.Fatalf("after the write, a read (%s) shows the old product: %.200s", r.cache(), r.body)
					}
				}
			})
		}
	}
}
