package render

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/observe"
)

// ClearURLReport is the JSON of `cachectl clear --url`: clear's fields
// (op, target, matched, deleted, complete, dry_run, errors, duration_ms),
// with urls in place of groups. errors counts the URLs whose key was not
// learned or did not come back.
type ClearURLReport struct {
	Op         string     `json:"op"`
	Target     string     `json:"target"`
	Mechanism  string     `json:"mechanism"`
	Degraded   *string    `json:"degraded"`
	URLs       []ClearURL `json:"urls"`
	Matched    int        `json:"matched"`
	Deleted    int        `json:"deleted"`
	Complete   bool       `json:"complete"`
	DryRun     bool       `json:"dry_run"`
	Errors     int        `json:"errors"`
	DurationMs float64    `json:"duration_ms"`
}

// ClearURL is one URL of the report. rewarmed and ttl_s are null without
// --rewarm (and ttl_s when the key did not come back).
type ClearURL struct {
	URL      string        `json:"url"`
	Source   string        `json:"source"` // x-cache-key, or the observation's mechanism
	Keys     []ClearURLKey `json:"keys"`
	Error    *string       `json:"error"`
	Rewarmed *bool         `json:"rewarmed"`
	TTLS     *float64      `json:"ttl_s"`
}

// ClearURLKey is one key of a URL.
type ClearURLKey struct {
	Key     string `json:"key"`
	Logical string `json:"logical"`
	Deleted bool   `json:"deleted"`
}

// NewClearURLReport shapes a clear --url of addr under prefix for output.
func NewClearURLReport(addr, prefix string, res observe.URLClearResult) ClearURLReport {
	r := ClearURLReport{Op: "clear", Target: addr, Mechanism: string(res.Mechanism), URLs: []ClearURL{},
		Matched: len(res.Keys()), Deleted: res.Deleted(), Complete: res.Complete, DryRun: res.DryRun,
		DurationMs: format.Millis(res.Duration)}
	if res.Degraded != "" {
		r.Degraded = &res.Degraded
	}
	for _, u := range res.URLs {
		cu := ClearURL{URL: redact.URL(u.URL), Source: u.Source, Keys: []ClearURLKey{}}
		for _, k := range u.Keys {
			cu.Keys = append(cu.Keys, ClearURLKey{Key: k.Key, Logical: observe.Logical(k.Key, prefix), Deleted: k.Deleted})
		}
		if u.Err != nil {
			cu.Error = ptr(u.Err.Error())
		}
		if rw := u.Rewarm; rw != nil {
			cu.Rewarmed = &rw.OK
			if rw.OK {
				cu.TTLS = ptr(rw.TTL.Seconds())
			}
		}
		if cu.Error != nil || cu.Rewarmed != nil && !*cu.Rewarmed {
			r.Errors++
		}
		r.URLs = append(r.URLs, cu)
	}
	return r
}

// ClearURLNote says what learning a URL's key costs, before it is done.
func ClearURLNote(ios *iostreams.IOStreams) {
	ios.Notef("learning each URL's cache key requests it once with GET (a MISS caches it first)")
}

// ClearURLs prints a clear --url: JSON, or one row per key (TSV when
// piped), then on stderr why each URL without a key has none, and whose
// key did not come back after --rewarm (ClearURLProblems).
func ClearURLs(ios *iostreams.IOStreams, fm output.Format, r ClearURLReport) error {
	if fm == output.JSON {
		return output.WriteJSON(ios, r)
	}
	rewarm := false
	for _, u := range r.URLs {
		rewarm = rewarm || u.Rewarmed != nil
	}
	cols := []string{"URL", "KEY", "DELETED"}
	if rewarm {
		cols = append(cols, "REWARMED", "TTL")
	}
	if !ios.IsStdoutTTY() {
		for i := range cols {
			cols[i] = strings.ToLower(cols[i])
		}
	}
	tp := output.NewTable(ios, cols...)
	for _, u := range r.URLs {
		for _, k := range u.Keys {
			row := []string{u.URL, k.Logical, yesNo(k.Deleted)}
			if rewarm {
				row = append(row, rewarmCells(u)...)
			}
			tp.AddRow(row...)
		}
	}
	if err := tp.Render(); err != nil {
		return err
	}
	ClearURLProblems(ios, r)
	if !ios.IsStdoutTTY() {
		return nil
	}
	d := time.Duration(r.DurationMs * float64(time.Millisecond)).Round(time.Millisecond)
	if r.DryRun {
		fmt.Fprintf(ios.Out, "dry run: %d keys would be deleted from %s; nothing was deleted\n", r.Matched, r.Target)
	} else {
		fmt.Fprintf(ios.Out, "deleted %d keys from %s in %s\n", r.Deleted, r.Target, d)
	}
	return nil
}

// ClearURLProblems says on stderr why each URL without a key has none,
// and whose key did not come back after --rewarm.
func ClearURLProblems(ios *iostreams.IOStreams, r ClearURLReport) {
	for _, u := range r.URLs {
		switch {
		case u.Error != nil:
			ios.Errorf("%s: %s", u.URL, *u.Error)
		case u.Rewarmed != nil && !*u.Rewarmed:
			ios.Errorf("%s: its key did not come back with a TTL after the GET", u.URL)
		}
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func rewarmCells(u ClearURL) []string {
	if u.Rewarmed == nil {
		return []string{"-", "-"}
	}
	if u.TTLS == nil {
		return []string{yesNo(*u.Rewarmed), "-"}
	}
	return []string{yesNo(*u.Rewarmed), format.TTL(time.Duration(*u.TTLS * float64(time.Second)))}
}

// AskClearURLs shows the keys learned for the URLs (observe.LogicalKeys) and asks
// on stderr, as AskClear does.
func AskClearURLs(ctx context.Context, ios *iostreams.IOStreams, prefix string, conn *redisconn.Conn, keys []string) (bool, error) {
	fmt.Fprintf(ios.ErrOut, "about to delete %d keys under %q from %s\n  %s\ndelete them? [y/N] ",
		len(keys), prefix, ClearTarget(conn), strings.Join(keys, "\n  "))
	return askYes(ctx, ios)
}
