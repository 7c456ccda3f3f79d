package render

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/progress"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// clearGroup is one target's line of the `clear` JSON contract.
type clearGroup struct {
	Matched int64 `json:"matched"`
	Deleted int64 `json:"deleted"`
}

// ClearReport is the JSON of `cachectl clear` (DESIGN.md, JSON contracts).
type ClearReport struct {
	Op         string                `json:"op"`
	Target     string                `json:"target"`
	Groups     map[string]clearGroup `json:"groups"`
	Matched    int64                 `json:"matched"`
	Deleted    int64                 `json:"deleted"`
	Complete   bool                  `json:"complete"`
	DryRun     bool                  `json:"dry_run"`
	Errors     int                   `json:"errors"`
	Passes     int                   `json:"passes"`
	DurationMs float64               `json:"duration_ms"`
	Impact     *ImpactReport         `json:"impact,omitempty"`
}

// Clear prints the result of a clear of addr (redacted) that took d: one
// JSON document, or a table per target, with a closing sentence for a person.
func Clear(ios *iostreams.IOStreams, fm output.Format, addr string, res keyspace.Result, d time.Duration) error {
	if fm == output.JSON {
		return output.WriteJSON(ios, newClearReport(addr, res, d))
	}
	if err := clearTable(ios, res); err != nil {
		return err
	}
	if !ios.IsStdoutTTY() {
		if res.Impact != nil { // not in the parseable table
			ios.Notef("%s", ImpactLine(*res.Impact))
		}
		return nil
	}
	defer func() {
		if res.Impact != nil {
			fmt.Fprintln(ios.Out, ImpactLine(*res.Impact))
		}
	}()
	switch {
	case res.DryRun:
		fmt.Fprintf(ios.Out, "dry run: %d keys would be deleted from %s; nothing was deleted\n", res.Matched, addr)
	case res.Complete:
		fmt.Fprintf(ios.Out, "deleted %d keys from %s in %s\n", res.Deleted, addr, d.Round(time.Millisecond))
	default:
		fmt.Fprintf(ios.Out, "incomplete: deleted %d keys from %s before stopping\n", res.Deleted, addr)
	}
	return nil
}

func newClearReport(addr string, res keyspace.Result, d time.Duration) ClearReport {
	out := ClearReport{
		Op: "clear", Target: addr, Groups: map[string]clearGroup{},
		Matched: res.Matched, Deleted: res.Deleted, Complete: res.Complete, DryRun: res.DryRun,
		Errors: res.Errors, Passes: res.Passes, DurationMs: format.Millis(d), Impact: impactReport(res.Impact),
	}
	for _, t := range res.Targets {
		out.Groups[t.Name] = clearGroup{Matched: t.Matched, Deleted: t.Deleted}
	}
	return out
}

// clearTable is a table of the targets of res: matched and deleted.
func clearTable(ios *iostreams.IOStreams, res keyspace.Result) error {
	tp := output.NewTable(ios, "GROUP", "MATCHED", "DELETED")
	if !ios.IsStdoutTTY() {
		tp = output.NewTable(ios, "group", "matched", "deleted")
	}
	for _, t := range res.Targets {
		tp.AddRow(t.Name, strconv.FormatInt(t.Matched, 10), strconv.FormatInt(t.Deleted, 10))
	}
	if len(res.Targets) > 1 {
		tp.AddRow("total", strconv.FormatInt(res.Matched, 10), strconv.FormatInt(res.Deleted, 10))
	}
	return tp.Render()
}

// ClearProgress is a clear's status line on stderr, redrawn at most ten
// times a second through internal/progress.
type ClearProgress struct {
	line   *progress.Status
	total  int64 // DBSIZE when the clear started
	count  int64
	start  time.Time
	dryRun bool
}

// NewClearProgress is the status line of a clear over a database of total
// keys, scanned with SCAN COUNT count. Its rate counts from the first
// update (what comes before, a plan's rescan and its question, is not the
// clear's). Off a terminal it draws nothing.
func NewClearProgress(ios *iostreams.IOStreams, total, count int64, dryRun bool) *ClearProgress {
	return &ClearProgress{line: progress.New(ios, 100*time.Millisecond), total: total, count: count, dryRun: dryRun}
}

// Update redraws the line; it is a keyspace.ClearConfig Progress function.
func (p *ClearProgress) Update(pr keyspace.Progress) {
	if p == nil {
		return
	}
	if p.start.IsZero() {
		p.start = time.Now()
	}
	// SCAN visits about COUNT slots of the table per call: a fair measure of
	// how far through the keyspace the pass is.
	examined := min(pr.ScanCalls*p.count, p.total)
	rate := func(n int64) float64 { // none yet in the first 10 ms
		if e := time.Since(p.start).Seconds(); e >= 0.01 {
			return float64(n) / e
		}
		return 0
	}
	if p.dryRun {
		p.line.Updatef("scanned ~%d/%d  matched %d  %.0f keys/s", examined, p.total, pr.Matched, rate(pr.Matched))
	} else {
		p.line.Updatef("scanned ~%d/%d  matched %d  deleted %d  %.0f keys/s", examined, p.total, pr.Matched, pr.Deleted, rate(pr.Deleted))
	}
}

// Done erases the line, if it was drawn.
func (p *ClearProgress) Done() {
	if p != nil {
		p.line.Clear()
	}
}

// ClearHint says what to do after an incomplete clear, and never promises
// that running again finishes the job when the server would refuse again.
func ClearHint(err error, conn *redisconn.Conn, maxKeys int64) string {
	const again = "run the same command again to finish the job"
	var ce *keyspace.ClearError
	if !errors.As(err, &ce) {
		return "nothing is lost by stopping: " + again
	}
	msg := ce.Cause.Error()
	switch {
	case errors.Is(err, keyspace.ErrLimit):
		return fmt.Sprintf("more keys appeared after the count than --max-keys %d allows; check what writes them, then run again", maxKeys)
	case errors.Is(err, context.Canceled):
		return "nothing is lost by stopping: " + again
	case redisconn.NotPermitted(ce.Cause):
		cmd := clearDeniedCommand(ce.Cause)
		return fmt.Sprintf("this user may not run %s: grant it (ACL SETUSER <user> +%s; a clear needs +scan +unlink +info, and on a cluster +cluster|nodes +cluster|myid) or connect as a user that has it",
			strings.ToUpper(strings.ReplaceAll(cmd, "|", " ")), cmd)
	case strings.Contains(msg, "unknown command"):
		return "this server has no such command (UNLINK needs Redis 4.0 or newer, and a config may rename it); cachectl never falls back to DEL: running again will not help"
	case redisconn.ReplyCode(ce.Cause) == "CROSSSLOT":
		return "these keys live in several hash slots, so this is a Redis Cluster node that could not be detected (this user may not run INFO or CLUSTER INFO): add --cluster"
	case redisconn.ReplyCode(ce.Cause) == "READONLY":
		return "the server at this address is a read-only replica: point --redis at the primary"
	case strings.Contains(msg, "redis-cli --cluster fix"):
		return "run redis-cli --cluster fix on the cluster, then the same command again; until then every clear finds those keys where their slot is not served"
	case !ce.Retry:
		return "the server refused; running again will not help until the cause above is fixed"
	}
	var h string
	switch {
	case ce.Changed != "" && conn.Cluster:
		h = fmt.Sprintf("the cluster changed under the clear (%s): run the same command again once the failover or rebalance has finished (redis-cli --cluster check shows no open slots)", ce.Changed)
	case ce.Changed != "":
		h = fmt.Sprintf("the server changed under the clear (%s): run the same command again once the failover or restart is over", ce.Changed)
	case ce.MasterDown != "":
		h = fmt.Sprintf("master %s does not answer: run the same command again once it is back or its replica has taken over", ce.MasterDown)
	case conn.Cluster:
		h = "a master did not answer: " + again + " once it is back or its replica has taken over"
	default:
		return "nothing is lost by stopping: " + again
	}
	if conn.Cluster && ce.SeedDown && ce.Live != "" {
		h += fmt.Sprintf("; the seed %s does not answer: give --redis %s (a live master), or several seeds (--redis redis://host1:port,host2:port)",
			ce.Seed, redisconn.WithHost(conn.Addr, ce.Live))
	}
	return h
}

// clearDeniedCommand is the command a NOPERM reply names, lower case, or
// "scan or unlink" if it names none.
func clearDeniedCommand(err error) string {
	if cmd := redisconn.DeniedCommand(err); cmd != "" {
		return cmd
	}
	return "scan or unlink"
}

// ClearTarget names where a clear goes, in prompts and refusals.
func ClearTarget(conn *redisconn.Conn) string {
	if conn.Cluster {
		return conn.Addr + " (cluster, every master)"
	}
	return fmt.Sprintf("%s db %d", conn.Addr, conn.DB)
}

// AskClear shows the target and the keys of each target of sel, and asks
// on stderr; only y or yes, read from stdin, agree. Ctrl-C while it waits
// returns the context's error, with nothing deleted.
func AskClear(ctx context.Context, ios *iostreams.IOStreams, schema keyspace.Schema, conn *redisconn.Conn, sel keyspace.Selection, counts []int64, total int64) (bool, error) {
	fmt.Fprintf(ios.ErrOut, "about to delete %d keys under %q from %s\n  %s\ndelete them? [y/N] ",
		total, schema.Namespace(), ClearTarget(conn), sel.Summary(counts))
	return askYes(ctx, ios)
}

// askYes reads the answer to a question already asked: only y or yes agree.
func askYes(ctx context.Context, ios *iostreams.IOStreams) (bool, error) {
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(ios.In).ReadString('\n')
		answer <- line
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(ios.ErrOut)
		return false, ctx.Err()
	case line := <-answer:
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return true, nil
		}
		return false, nil
	}
}

// ClearInterrupted says, after Ctrl-C, what a clear did and how to finish:
// the exit-code mapping prints only "interrupted".
func ClearInterrupted(ios *iostreams.IOStreams, deleted int64) {
	fmt.Fprintf(ios.ErrOut, "incomplete: deleted %d keys before the interruption; run the same command again to finish the job\n", deleted)
}
