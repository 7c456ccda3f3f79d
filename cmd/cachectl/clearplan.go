package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/keyspace"
)

// clearPlanOptions are clear's --plan, --apply, --allow-drift and
// --old-versions; --no-ttl and --ttl-below fill ClearConfig.Conditions.
type clearPlanOptions struct {
	Plan, Apply string
	AllowDrift  int64
	OldVersions bool
	asked       []string // the selection's flags as given, for the plan file
}

func (o *clearOptions) planFlags(fl *pflag.FlagSet) {
	fl.StringVar(&o.Plan, "plan", "", "write what would be deleted to FILE (- for stdout; FILE.gz is gzipped), delete nothing")
	fl.StringVar(&o.Apply, "apply", "", "delete exactly the keys of the plan in FILE (- for stdin), on the server it was made on")
	fl.Int64Var(&o.AllowDrift, "allow-drift", 0, "with --apply: accept up to N keys added or gone since the plan")
	fl.BoolVar(&o.OldVersions, "old-versions", false, "the targets' keys under every other version than --key-version")
	fl.BoolVar(&o.Conditions.NoTTL, "no-ttl", false, "only keys without an expiry")
	fl.DurationVar(&o.Conditions.TTLBelow, "ttl-below", 0, "only keys whose remaining TTL is below DUR (keys without one never match)")
}

// planTarget refuses what --plan and --apply do not combine with, and
// keeps the selection's flags for the plan.
func (o *clearOptions) planTarget(fl *pflag.FlagSet) error {
	selecting := append(clearTargetFlags(), "--cascade", "--old-versions", "--no-ttl", "--ttl-below")
	fl.Visit(func(f *pflag.Flag) {
		for _, s := range selecting {
			if name, _, _ := strings.Cut(strings.TrimPrefix(s, "--"), " "); name == f.Name {
				o.asked = append(o.asked, "--"+f.Name+"="+f.Value.String())
			}
		}
	})
	switch {
	case o.AllowDrift < 0:
		return usageErrorf("--allow-drift must not be negative")
	case fl.Changed("allow-drift") && o.Apply == "":
		return usageErrorf("--allow-drift goes with --apply")
	case o.Plan != "" && o.Apply != "":
		return usageErrorf("--plan and --apply exclude each other: make the plan first, then apply it")
	case o.byURL() && (o.Plan != "" || o.OldVersions || o.Conditions.Active()):
		return usageErrorf("--url deletes a URL's keys by name: --plan, --old-versions, --no-ttl and --ttl-below go with the SCAN targets")
	case o.Apply == "":
		return nil
	case len(o.asked) > 0:
		return usageErrorf("--apply takes its targets from the plan: drop %s", strings.SplitN(o.asked[0], "=", 2)[0])
	case fl.Changed("dry-run"):
		return usageErrorf("--apply deletes; the plan was the dry run (make a new one with --plan to see the keys now)")
	}
	return nil
}

// runClearPlan is clear --plan: keyspace.MakePlan, written to the file.
func runClearPlan(ctx context.Context, opts *clearOptions, schema keyspace.Schema, conn *redisconn.Conn, sel keyspace.Selection) error {
	p, err := keyspace.MakePlan(ctx, conn.Client, sel, keyspace.PlanConfig{ClearConfig: opts.ClearConfig, Asked: opts.asked, Schema: schema})
	if errors.As(err, new(*keyspace.ClearError)) {
		return partialError(fmt.Errorf("no plan written: %w", err), render.ClearHint(err, conn, 0))
	} else if err != nil {
		return err
	}
	if err := keyspace.SavePlan(opts.Plan, opts.IO.Out, p); err != nil {
		return err
	}
	if opts.Quiet {
		return nil
	}
	return render.ClearPlan(opts.IO, opts.Format, conn.Addr, opts.Plan, p)
}

// runClearApply is clear --apply: keyspace.Apply behind clear's gate, which
// confirms the plan's count.
func runClearApply(ctx context.Context, opts *clearOptions) error {
	p, err := keyspace.LoadPlan(opts.Apply, opts.IO.In)
	if err != nil {
		return err
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	cfg := keyspace.ApplyConfig{ClearConfig: opts.ClearConfig, AllowDrift: opts.AllowDrift, Confirm: func(n int64, d keyspace.Drift) error {
		if n == 0 {
			return nil
		}
		err := confirmClear(opts, func() (bool, error) { return render.AskApply(ctx, opts.IO, conn, p, d) },
			n, "the plan's keys", render.ClearTarget(conn))
		if h, ok := err.(hintedError); ok {
			h.Suggestion = "add --yes to delete them"
			return h
		}
		return err
	}}
	cfg.Wrap = conn.Hook
	res, err := keyspace.Apply(ctx, conn.Client, p, cfg)
	switch {
	case errors.Is(err, keyspace.ErrPlanRefused):
		return hinted(err, render.ApplyRefusedHint(err))
	case err != nil && !errors.As(err, new(*keyspace.ClearError)):
		return err
	}
	opts.record(ctx, audit.OfClear("clear --apply", res.Result, err))
	if !opts.Quiet {
		if perr := render.ClearApply(opts.IO, opts.Format, conn.Addr, res); perr != nil {
			return perr
		}
	}
	if err != nil {
		return partialError(fmt.Errorf("%w (deleted %d of the %d planned keys, then stopped)", err, res.Deleted, res.Planned), render.ClearHint(err, conn, 0))
	}
	return nil
}
