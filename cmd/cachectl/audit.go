package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/render"
)

type auditOptions struct {
	common
	Path       string // the trail file
	Stream     string // the team stream's key
	FromStream bool
	Since      time.Duration
	Limit      int
}

func newAuditCmd(f *factory, runF func(context.Context, *auditOptions) error) *cobra.Command {
	opts := &auditOptions{}
	cmd := newCommand(f, "audit", "Show the trail of destructive actions: who deleted what, when", opts,
		[]output.Format{output.Table, output.JSON}, func(*cobra.Command) error {
			if opts.Since < 0 || opts.Limit < 0 {
				return usageErrorf("--since and --limit must not be negative")
			}
			opts.Path, opts.Stream = f.auditPath(), audit.StreamKey(f.opts.Prefix)
			return nil
		}, runF, runAudit)
	fl := cmd.Flags()
	fl.DurationVar(&opts.Since, "since", 0, "only the actions of the last DUR (e.g. 24h)")
	fl.IntVar(&opts.Limit, "limit", 0, "only the last N actions (0: all)")
	fl.BoolVar(&opts.FromStream, "stream", false, "read the team stream PREFIX:cachectl:audit in Redis instead of the file")
	return cmd
}

func runAudit(ctx context.Context, opts *auditOptions) error {
	entries, bad, err := readTrail(ctx, opts)
	if err != nil {
		return err
	}
	if bad > 0 && !opts.Quiet {
		opts.IO.Warnf("%d lines of the trail are not entries (torn by a crash?): skipped", bad)
	}
	var since time.Time
	if opts.Since > 0 {
		since = time.Now().Add(-opts.Since)
	}
	return render.Audit(opts.IO, opts.Format, audit.Last(entries, since, opts.Limit))
}

// readTrail reads the file, or the stream with --stream.
func readTrail(ctx context.Context, opts *auditOptions) ([]audit.Entry, int, error) {
	if !opts.FromStream {
		if opts.Path == "" {
			return nil, 0, usageErrorf("no audit trail: neither XDG_STATE_HOME nor HOME is set; give --audit-file")
		}
		return audit.Read(opts.Path)
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return nil, 0, err
	}
	return audit.ReadStream(ctx, conn.Client, opts.Stream)
}
