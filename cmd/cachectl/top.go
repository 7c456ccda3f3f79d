package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/tui"
)

type topOptions struct {
	common
	Schema   func() (keyspace.Schema, error)
	HTTP     func() *http.Client
	API      string // the catalog API whose /metrics the dashboard reads; "" for none
	NoColor  bool
	Interval time.Duration
	Once     bool
	Now      func() time.Time
}

func newTopCmd(f *factory, runF func(context.Context, *topOptions) error) *cobra.Command {
	opts := &topOptions{Schema: f.Schema, Now: time.Now}
	cmd := newCommand(f, "top", "Watch Redis live: ops/s, hit rate, memory, keys, evictions", opts,
		[]output.Format{output.Table, output.JSON}, func(*cobra.Command) error {
			opts.NoColor = !f.IO.ColorEnabled()
			if f.opts.API != "" {
				api, client, err := f.MetricsClient()
				if err != nil {
					return err
				}
				opts.API = api.String()
				opts.HTTP = func() *http.Client { return client }
			}
			return option.InRange("interval", opts.Interval, 10*time.Millisecond, time.Hour)
		}, runF, runTop)
	cmd.Flags().DurationVar(&opts.Interval, "interval", time.Second, "time between two lines")
	cmd.Flags().BoolVar(&opts.Once, "once", false, "print one snapshot (as stats does) and exit")
	return cmd
}

func runTop(ctx context.Context, opts *topOptions) error {
	if opts.Once {
		return runTopOnce(ctx, opts)
	}
	if opts.IO.IsStdoutTTY() && opts.Format != output.JSON {
		return runDashboard(ctx, opts)
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	lines := render.NewTopLines(opts.IO, opts.Format == output.JSON, topDB(conn))
	err = inspect.Watch(ctx, conn.Client, inspect.WatchConfig{Interval: opts.Interval, Now: opts.Now}, lines.Print)
	if ctx.Err() == nil && inspect.NotPermitted(err) {
		return redisError(conn, "INFO", err)
	}
	return err
}

// runTopOnce prints one snapshot with the exact group counts, as stats does.
func runTopOnce(ctx context.Context, opts *topOptions) error {
	return snapshot(ctx, opts.common, opts.Schema, true, keyspace.DefaultScanCount)
}

// topDB is the database whose keys top shows: a cluster has only db 0.
func topDB(conn *redisconn.Conn) int {
	if conn.Cluster {
		return 0
	}
	return conn.DB
}

// runDashboard runs the interactive dashboard until q, ctrl+c or the
// context ends. Logs written meanwhile are held and printed afterwards, so
// they never scribble over the screen.
func runDashboard(ctx context.Context, opts *topOptions) error {
	logs := &iostreams.HeldWriter{W: opts.IO.ErrOut}
	// The factory's logger (and go-redis's, through it) is created with the
	// connection: it writes to logs from the start.
	opts.IO.ErrOut = logs
	defer func() {
		logs.Release()
		opts.IO.ErrOut = logs.W
	}()
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	var sel keyspace.Selection
	if opts.Schema != nil {
		schema, err := opts.Schema()
		if err != nil {
			return err
		}
		sel = schema.Selection()
	}
	cfg := tui.Config{
		Source:   topSource{conn: conn, sel: sel},
		Addr:     conn.Addr,
		Interval: opts.Interval,
		DB:       topDB(conn),
		NoColor:  opts.NoColor,
		Context:  ctx,
	}
	if opts.API != "" && opts.HTTP != nil {
		cfg.App = topMetrics{api: opts.API, client: opts.HTTP()}
	}
	progOpts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithOutput(opts.IO.Out)}
	if f, ok := opts.IO.In.(*os.File); !ok || f != os.Stdin {
		progOpts = append(progOpts, tea.WithInput(opts.IO.In))
	}
	if _, ok := opts.IO.Out.(*os.File); !ok {
		// Not a real terminal (tests): no size to ask it for.
		progOpts = append(progOpts, tea.WithWindowSize(opts.IO.TerminalWidth(), 24))
	}
	logs.Hold()
	_, err = tea.NewProgram(tui.New(cfg), progOpts...).Run()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, tea.ErrInterrupted):
		return context.Canceled
	case err != nil:
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}

// topSource reads Redis for the dashboard.
type topSource struct {
	conn *redisconn.Conn
	sel  keyspace.Selection
}

func (s topSource) Snapshot(ctx context.Context) (inspect.Snapshot, error) {
	return inspect.Take(ctx, s.conn.Client)
}

func (s topSource) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	err := s.conn.Client.Ping(ctx).Err()
	return time.Since(start), err
}

// Groups estimates by sampling, or counts exactly with one SCAN pass that
// also measures a sample of each group's keys (TTL and MEMORY USAGE).
func (s topSource) Groups(ctx context.Context, exact bool) ([]tui.Group, error) {
	if len(s.sel) == 0 {
		return nil, nil
	}
	if !exact {
		counts, err := inspect.EstimateGroups(ctx, s.conn.Client, s.sel, inspect.SampleOptions{ScanCount: keyspace.DefaultScanCount})
		if err != nil {
			return nil, err
		}
		out := make([]tui.Group, len(counts))
		for i, c := range counts {
			out[i] = tui.Group{GroupCount: c}
		}
		return out, nil
	}
	survey, err := keyspace.Survey(ctx, s.conn.Client, s.sel, keyspace.SurveyConfig{})
	if err != nil {
		return nil, err
	}
	out := make([]tui.Group, len(survey))
	for i, t := range survey {
		out[i] = tui.Group{
			GroupCount: inspect.GroupCount{Name: t.Name, Keys: t.Keys, Exact: true},
			AvgTTL:     t.AvgTTL, TTLKnown: t.TTLSamples > 0,
			Memory: t.MemoryEst, MemoryKnown: len(t.Samples) > 0 || t.Keys == 0,
		}
	}
	return out, nil
}

// topMetrics reads the application's hit rate per group from the
// reference server's Prometheus metrics.
type topMetrics struct {
	api    string
	client *http.Client
}

func (m topMetrics) App(ctx context.Context) (tui.AppStats, error) {
	met, err := catalogapi.ScrapeMetrics(ctx, m.client, m.api)
	if err != nil {
		return tui.AppStats{}, err
	}
	stats := tui.AppStats{Groups: make(map[string]tui.AppGroup, len(met.Groups))}
	for name, g := range met.Groups {
		stats.Groups[name] = tui.AppGroup(g)
	}
	return stats, nil
}
