package main

import (
	"context"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/internal/topfeed"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/tui"
)

type topOptions struct {
	common
	Schema   func() (keyspace.Schema, error)
	HTTP     *http.Client
	API      string // the catalog API whose /metrics the dashboard reads; "" for none
	NoColor  bool
	Interval time.Duration
	Once     bool
	// MaxImpact paces the exact group counts (--once, and the recount).
	MaxImpact time.Duration
	NoSample  bool
	Now       func() time.Time
	// ClearArgs point the dry-run view's `cachectl clear` line at this Redis.
	ClearArgs []string
}

func newTopCmd(f *factory, runF func(context.Context, *topOptions) error) *cobra.Command {
	opts := &topOptions{Schema: f.Schema, Now: time.Now}
	cmd := newCommand(f, "top", "Watch Redis live: ops/s, hit rate, memory, keys, evictions", opts,
		[]output.Format{output.Table, output.JSON}, func(cmd *cobra.Command) error {
			opts.NoColor = !f.IO.ColorEnabled()
			opts.ClearArgs = f.opts.ClearArgs()
			if f.opts.API != "" {
				api, client, err := f.MetricsClient()
				if err != nil {
					return err
				}
				opts.API = api.String()
				opts.HTTP = client
			}
			return option.First(option.InRange("interval", opts.Interval, 10*time.Millisecond, time.Hour), keyspace.CheckMaxImpact(opts.MaxImpact, cmd.Flags().Changed("max-impact")))
		}, runF, runTop)
	cmd.Flags().DurationVar(&opts.Interval, "interval", time.Second, "time between two lines")
	cmd.Flags().BoolVar(&opts.Once, "once", false, "print one snapshot (as stats does) and exit")
	cmd.Flags().DurationVar(&opts.MaxImpact, "max-impact", 0, "pace the exact group counts (--once, r) as stats --max-impact does")
	cmd.Flags().BoolVar(&opts.NoSample, "no-sample", false, "do not sample Redis's commands for the hit rate per group")
	return cmd
}

func runTop(ctx context.Context, opts *topOptions) error {
	if opts.Once { // one snapshot with the exact group counts, as stats prints it
		return snapshot(ctx, opts.common, opts.Schema, true, keyspace.CountConfig{Count: keyspace.DefaultScanCount, MaxImpact: opts.MaxImpact})
	}
	if opts.IO.IsStdoutTTY() && opts.Format != output.JSON {
		return runDashboard(ctx, opts)
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	lines := render.NewTopLines(opts.IO, opts.Format == output.JSON, conn.KeysDB())
	if opts.Format == output.JSON { // only JSON lines carry the groups
		feed, err := opts.feed(ctx, conn)
		if err != nil {
			return err
		}
		defer feed.Close()
		lines.Rates = feed.Rates
	}
	err = inspect.Watch(ctx, conn.Client, inspect.WatchConfig{Interval: opts.Interval, Now: opts.Now}, lines.Print)
	if ctx.Err() == nil && inspect.NotPermitted(err) {
		return redisconn.CommandError(conn.Addr, "INFO", err)
	}
	return err
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
	feed, err := opts.feed(ctx, conn)
	if err != nil {
		return err
	}
	defer feed.Close()
	cfg := feed.Dashboard(tui.Config{ClearArgs: opts.ClearArgs, Addr: conn.Addr, Interval: opts.Interval, DB: conn.KeysDB(), NoColor: opts.NoColor})
	logs.Hold()
	return tui.Run(ctx, cfg, opts.IO.In, opts.IO.Out, opts.IO.TerminalWidth())
}

// feed is what top reads from conn: Redis, and the hit rate per group from
// the API's /metrics, else from sampling Redis (unless --no-sample).
func (o *topOptions) feed(ctx context.Context, conn *redisconn.Conn) (*topfeed.Feed, error) {
	schema, err := o.Schema()
	if err != nil {
		return nil, err
	}
	return topfeed.Open(ctx, conn.Client, schema.Selection(), topfeed.Metrics{API: o.API, Client: o.HTTP}, !o.NoSample, o.MaxImpact), nil
}
