package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// planTarget is one target's line of the clear --plan JSON summary.
type planTarget struct {
	Keys          int64 `json:"keys"`
	BytesEstimate int64 `json:"bytes_estimate"`
}

// ClearPlanReport is the JSON summary of `cachectl clear --plan` (the plan
// itself is in the file).
type ClearPlanReport struct {
	Op            string                `json:"op"`
	Target        string                `json:"target"`
	File          string                `json:"file"`
	Groups        map[string]planTarget `json:"groups"`
	Keys          int64                 `json:"keys"`
	BytesEstimate int64                 `json:"bytes_estimate"`
	Nodes         []keyspace.PlanNode   `json:"nodes"`
	Digest        string                `json:"digest"`
	Apply         string                `json:"apply"`
}

// ClearPlan summarises a plan written to file (- for stdout, then the
// summary goes to stderr): the keys per target with the estimated bytes,
// per node on a cluster, and the command that applies it.
func ClearPlan(ios *iostreams.IOStreams, fm output.Format, addr, file string, p *keyspace.Plan) error {
	apply := "cachectl clear --apply " + shellQuote(file)
	if file == "-" {
		apply = "cachectl clear --apply FILE"
		fmt.Fprintf(ios.ErrOut, "plan: %d keys (%s) from %s, %s; nothing was deleted\n", p.Keys, estimate(p.BytesEstimate), addr, short(p.Digest))
		return nil
	}
	if fm == output.JSON {
		out := ClearPlanReport{Op: "clear-plan", Target: addr, File: file, Groups: map[string]planTarget{}, Keys: p.Keys,
			BytesEstimate: p.BytesEstimate, Nodes: p.Server.Nodes, Digest: p.Digest, Apply: apply}
		for _, t := range p.Targets {
			out.Groups[t.Name] = planTarget{Keys: t.Keys, BytesEstimate: t.BytesEstimate}
		}
		return output.WriteJSON(ios, out)
	}
	tty := ios.IsStdoutTTY()
	tp := output.NewTable(ios, "TARGET", "KEYS", "BYTES (EST.)")
	if !tty {
		tp = output.NewTable(ios, "target", "keys", "bytes_est")
	}
	for _, t := range p.Targets {
		tp.AddRow(t.Name, strconv.FormatInt(t.Keys, 10), bytesCell(t.BytesEstimate, tty))
	}
	if len(p.Targets) > 1 {
		tp.AddRow("total", strconv.FormatInt(p.Keys, 10), bytesCell(p.BytesEstimate, tty))
	}
	if err := tp.Render(); err != nil {
		return err
	}
	if p.Server.Cluster {
		for _, n := range p.Server.Nodes {
			fmt.Fprintf(ios.Out, "  %s (node %s): %d keys\n", n.Addr, n.NodeID[:min(8, len(n.NodeID))], n.Keys)
		}
	}
	w := ios.ErrOut
	if tty {
		w = ios.Out
	}
	fmt.Fprintf(w, "plan written to %s: %d keys (%s) from %s, %s; nothing was deleted\n", file, p.Keys, estimate(p.BytesEstimate), addr, short(p.Digest))
	fmt.Fprintf(w, "to delete exactly these keys: %s\n", apply)
	return nil
}

func bytesCell(n int64, tty bool) string {
	switch {
	case n < 0:
		return "?"
	case tty:
		return format.Bytes(n)
	}
	return strconv.FormatInt(n, 10)
}

func estimate(n int64) string {
	if n < 0 {
		return "size unknown: MEMORY USAGE not permitted"
	}
	return "about " + format.Bytes(n) + ", estimated"
}

// short cuts a digest to what a person compares: "sha256:0123abcd…".
func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19] + "…"
	}
	return digest
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// AskApply shows what a plan deletes and where, and asks on stderr.
func AskApply(ctx context.Context, ios *iostreams.IOStreams, conn *redisconn.Conn, p *keyspace.Plan, d keyspace.Drift) (bool, error) {
	parts := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		parts[i] = fmt.Sprintf("%s: %d", t.Name, t.Keys)
	}
	fmt.Fprintf(ios.ErrOut, "about to delete the %d keys of the plan made %s (%s) from %s\n  %s\n",
		p.Keys, p.Created.Format("2006-01-02 15:04:05 MST"), short(p.Digest), ClearTarget(conn), strings.Join(parts, ", "))
	if d.Added+d.Gone > 0 {
		fmt.Fprintf(ios.ErrOut, "  since then: %d added (left alone), %d gone\n", d.Added, d.Gone)
	}
	fmt.Fprint(ios.ErrOut, "delete them? [y/N] ")
	return askYes(ctx, ios)
}

// ApplyReport is the JSON of `cachectl clear --apply`: the clear's, with
// the plan's count and the drift.
type ApplyReport struct {
	ClearReport
	Planned int64 `json:"planned"`
	Added   int64 `json:"added"`
	Gone    int64 `json:"gone"`
}

// ClearApply prints the result of an apply: the clear's table or JSON, and
// whether the count deleted is the count planned, or why not.
func ClearApply(ios *iostreams.IOStreams, fm output.Format, addr string, res keyspace.ApplyResult) error {
	if fm == output.JSON {
		out := ApplyReport{ClearReport: newClearReport(addr, res.Result, res.Duration), Planned: res.Planned, Added: res.Drift.Added, Gone: res.Drift.Gone}
		out.Op = "clear-apply"
		return output.WriteJSON(ios, out)
	}
	if err := clearTable(ios, res.Result); err != nil {
		return err
	}
	w := ios.ErrOut
	if ios.IsStdoutTTY() {
		w = ios.Out
	}
	applySentence(w, addr, res)
	return nil
}

func applySentence(w io.Writer, addr string, res keyspace.ApplyResult) {
	var why []string
	if res.Drift.Gone > 0 {
		why = append(why, fmt.Sprintf("gone before the apply (expired or deleted): %d", res.Drift.Gone))
	}
	if n := res.Planned - res.Drift.Gone - res.Deleted; n > 0 && res.Complete {
		why = append(why, fmt.Sprintf("gone during it: %d", n))
	}
	if res.Drift.Added > 0 {
		why = append(why, fmt.Sprintf("added since the plan, left alone: %d", res.Drift.Added))
	}
	switch {
	case !res.Complete:
		fmt.Fprintf(w, "incomplete: deleted %d of the %d planned keys from %s before stopping\n", res.Deleted, res.Planned, addr)
	case res.Deleted == res.Planned:
		fmt.Fprintf(w, "deleted all %d planned keys from %s\n", res.Deleted, addr)
	default:
		fmt.Fprintf(w, "deleted %d of the %d planned keys from %s\n", res.Deleted, res.Planned, addr)
	}
	for _, line := range why {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

// ApplyRefusedHint says what to do about a plan that no longer applies.
func ApplyRefusedHint(err error) string {
	var de *keyspace.DriftError
	if errors.As(err, &de) {
		return fmt.Sprintf("make a new plan with --plan and review it, or accept the difference with --allow-drift %d (keys added since the plan are never deleted)", de.Added+de.Gone)
	}
	return "a plan applies only to the server it was made on (a restart or failover makes a new one): make a new plan there"
}
