package main

import (
	"context"

	"github.com/cachectl/cachectl/internal/audit"
)

// What each command that may write would write, for --read-only's refusal
// (refuseWrites); "" when this run only reads. clear's, bench's and
// serve's own Writes say theirs; check runs its read-only steps instead
// (check.Config.ReadOnly); the other commands only read.

func (o *benchOptions) Writes() string { return o.Job.Writes(o.API) }

func (o *demoOptions) Writes() string {
	if o.RedisExplicit {
		return "demo clears and fills the --redis it is given; without --redis it runs on a private one"
	}
	return ""
}

// record adds a destructive action's line to the audit trail.
func (c *common) record(ctx context.Context, e audit.Entry) {
	if c.Record != nil {
		c.Record(ctx, e)
	}
}
