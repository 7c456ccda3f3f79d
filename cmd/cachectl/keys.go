package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/keyspace"
)

type keysOptions struct {
	common
	Schema func() (keyspace.Schema, error)

	Groups []string
	// SurveyConfig holds --samples, --count and --biggest.
	keyspace.SurveyConfig
}

func newKeysCmd(f *factory, runF func(context.Context, *keysOptions) error) *cobra.Command {
	opts := &keysOptions{Schema: f.Schema}
	cmd := newCommand(f, "keys", "Count the cached keys per group and estimate their memory", opts, []output.Format{output.Table, output.JSON, output.Markdown}, func(cmd *cobra.Command) error {
		return option.First(keyspace.CheckMaxImpact(opts.MaxImpact, cmd.Flags().Changed("max-impact")), opts.SurveyConfig.Validate())
	}, runF, runKeys)
	fl := cmd.Flags()
	fl.StringSliceVar(&opts.Groups, "group", nil, "only these groups (default: every group of the schema)")
	fl.IntVar(&opts.Samples, "samples", keyspace.DefaultSamples, "keys measured per group (on each master)")
	fl.Int64Var(&opts.Count, "count", keyspace.DefaultScanCount, "SCAN COUNT hint")
	fl.IntVar(&opts.Biggest, "biggest", keyspace.DefaultBiggest, "largest keys kept per group (an estimate beyond the size budget)")
	fl.DurationVar(&opts.MaxImpact, "max-impact", 0, maxImpactUsage)
	return cmd
}

func runKeys(ctx context.Context, opts *keysOptions) error {
	schema, err := opts.Schema()
	if err != nil {
		return err
	}
	sel, err := schema.Named(opts.Groups)
	if err != nil {
		return err
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	survey, err := keyspace.Survey(ctx, conn.Client, sel, opts.SurveyConfig)
	if err != nil {
		return fmt.Errorf("survey keys on %s: %w", conn.Addr, err)
	}
	if opts.Quiet {
		return nil
	}
	server, err := keyspace.ServerKeyFigures(ctx, conn.Client)
	if err != nil {
		return fmt.Errorf("read key figures on %s: %w", conn.Addr, err)
	}
	if !slices.ContainsFunc(survey, func(s keyspace.TargetSurvey) bool { return s.Keys > 0 }) {
		defer printElsewhere(ctx, opts.IO, conn, schema)
	}
	return render.Keys(opts.IO, opts.Format, survey, &server)
}
