package render

import (
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
)

// Audit prints the trail's entries, oldest first: the lines as one JSON
// array, or a table (tab-separated when piped, with RFC 3339 times).
func Audit(ios *iostreams.IOStreams, fm output.Format, entries []audit.Entry) error {
	if fm == output.JSON {
		if entries == nil {
			entries = []audit.Entry{}
		}
		return output.WriteJSON(ios, entries)
	}
	tty := ios.IsStdoutTTY()
	tp := output.NewTable(ios, "TIME", "USER@HOST", "COMMAND", "TARGETS", "DELETED", "COMPLETE", "DURATION")
	for _, e := range entries {
		when, complete, took := e.Time.Format(time.RFC3339), strconv.FormatBool(e.Complete), strconv.FormatFloat(e.DurationMs, 'f', 1, 64)
		if tty {
			when, complete = e.Time.Local().Format("2006-01-02 15:04:05"), "yes"
			if !e.Complete {
				complete = "no: " + e.Error
			}
			took = format.Latency(time.Duration(e.DurationMs * float64(time.Millisecond)))
		}
		tp.AddRow(when, e.User+"@"+e.Host, e.Command, strings.Join(e.Targets, ","), strconv.FormatInt(e.Deleted, 10), complete, took)
	}
	if len(entries) == 0 && tty {
		ios.Notef("the audit trail is empty")
		return nil
	}
	return tp.Render()
}
