package main

import (
	"context"
	"errors"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/observe"
	"github.com/cachectl/cachectl/warm"
)

// runClearURLs is clear --url: observe.ClearURLs behind clear's gate.
func runClearURLs(ctx context.Context, opts *clearOptions) error {
	schema, err := opts.Schema()
	if err != nil {
		return err
	}
	base, client, err := opts.API()
	if err != nil {
		return err
	}
	urls, err := warm.URLs(base, opts.URLs, opts.URLFile, opts.IO.In)
	if err != nil {
		return err
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	prefix := schema.Namespace()
	obs, err := observe.New(ctx, conn.Client, observe.Options{Prefix: prefix})
	if err != nil {
		return err
	}
	if !opts.Quiet {
		render.ClearURLNote(opts.IO)
	}
	res, err := obs.ClearURLs(ctx, observe.URLClear{API: catalogapi.New(base, client), URLs: urls, Key: schema.Key,
		DryRun: opts.DryRun, Rewarm: opts.Rewarm,
		Confirm: opts.gate(conn).ConfirmURLs(prefix, func(keys []string) (bool, error) { return render.AskClearURLs(ctx, opts.IO, prefix, conn, keys) })})
	// A clear --url that set out to delete keys: not a dry run, nor one that
	// learned no key or whose keys were not confirmed.
	if !res.DryRun && len(res.Keys()) > 0 && !errors.Is(err, errNotConfirmed) && !isUsage(err) {
		opts.record(ctx, audit.OfURLClear(res, err))
	}
	rep := render.NewClearURLReport(conn.Addr, prefix, res)
	if err != nil && res.Complete {
		render.ClearURLProblems(opts.IO, rep)
		return err
	}
	if !opts.Quiet {
		if err := render.ClearURLs(opts.IO, opts.Format, rep); err != nil {
			return err
		}
	}
	switch {
	case err != nil:
		return partialError(err, "run the same command again to finish the job")
	case rep.Errors > 0:
		return errFailed
	}
	return nil
}
