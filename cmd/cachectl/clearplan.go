package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/keyspace"
)

// runClearPlan is clear --plan: keyspace.MakePlan, written to the file.
func runClearPlan(ctx context.Context, opts *clearOptions, schema keyspace.Schema, conn *redisconn.Conn, sel keyspace.Selection) error {
	p, err := keyspace.MakePlan(ctx, conn.Client, sel, keyspace.PlanConfig{ClearConfig: opts.ClearConfig, Asked: opts.Asked, Schema: schema})
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
	cfg := keyspace.ApplyConfig{ClearConfig: opts.ClearConfig, AllowDrift: opts.AllowDrift,
		Confirm: opts.gate(conn).ConfirmApply(func(d keyspace.Drift) (bool, error) { return render.AskApply(ctx, opts.IO, conn, p, d) })}
	prog := opts.progress(ctx, conn)
	cfg.Wrap, cfg.Progress = conn.Hook, prog.Update
	res, err := keyspace.Apply(ctx, conn.Client, p, cfg)
	prog.Done()
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
