package render

import (
	"fmt"
	"time"

	"github.com/cachectl/cachectl/internal/iostreams"
)

// ExporterListening says on stderr where the metrics are served, what is
// surveyed and how often.
func ExporterListening(ios *iostreams.IOStreams, addr, redis string, groups int, refresh time.Duration) {
	fmt.Fprintf(ios.ErrOut, "serving metrics on http://%s/metrics (redis %s, %d groups surveyed every %s; scrapes never scan)\n",
		addr, redis, groups, refresh)
}
