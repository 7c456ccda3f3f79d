package iostreams

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// HeldWriter passes writes through to W, except while held: then it keeps
// up to HeldMax bytes and writes them out on Release. A full-screen view
// holds stderr so that logs never scribble over it.
type HeldWriter struct {
	W io.Writer

	mu      sync.Mutex
	held    bool
	buf     bytes.Buffer
	dropped int
}

// HeldMax is how much a HeldWriter keeps; what comes after is counted and dropped.
const HeldMax = 64 << 10

func (h *HeldWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.held {
		return h.W.Write(p)
	}
	if h.buf.Len()+len(p) > HeldMax {
		h.dropped += len(p)
		return len(p), nil
	}
	return h.buf.Write(p)
}

// Hold keeps what is written from now on.
func (h *HeldWriter) Hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = true
}

// Release writes out what was kept, says how much was dropped, and passes
// writes through again.
func (h *HeldWriter) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.held {
		return
	}
	h.held = false
	_, _ = h.buf.WriteTo(h.W)
	if h.dropped > 0 {
		fmt.Fprintf(h.W, "%s%d more bytes of log were dropped while the dashboard ran\n", ErrorPrefix, h.dropped)
	}
}
