package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// retryEvery bounds the wait between attempts while Redis is away, whatever
// the interval: the dashboard notices a recovery within 2 s.
const retryEvery = 2 * time.Second

type topOptions struct {
	IO       *iostreams.IOStreams
	Redis    func(context.Context) (*redisconn.Conn, error)
	Schema   func() (keyspace.Schema, error)
	Format   output.Format
	Quiet    bool
	Interval time.Duration
	Once     bool
	Now      func() time.Time
}

func newTopCmd(f *factory, runF func(context.Context, *topOptions) error) *cobra.Command {
	opts := &topOptions{IO: f.IO, Redis: f.Redis, Schema: f.Schema, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Watch Redis live: ops/s, hit rate, memory, keys, evictions",
		Long: `Follow the cache as it works. Every --interval, one line: the time, ops/s,
the hit rate over the interval, hits/s, misses/s, used memory, keys in the
selected database, clients, evicted/s and expired/s, like redis-stat. With
--json each line is one JSON object. The first line covers the time since
the server started, as vmstat's does.

top reads INFO once per interval (microseconds of server time) and never
scans the keyspace. When Redis goes away it prints "disconnected, retrying"
and tries again at least every 2 s until Redis is back; counters that a
restart reset never show as negative rates. Ctrl-C stops it (exit 130).

--once prints one snapshot, the same as 'cachectl stats', and exits.`,
		Example: `  # beside your work: a line per second
  cachectl top
  # log the cache's behaviour during a load test, one JSON object a line
  cachectl top --interval 5s --json > cache.ndjson
  # one snapshot
  cachectl top --once`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.format(output.Table, output.JSON)
			if err != nil {
				return err
			}
			opts.Format = fm
			opts.Quiet = f.opts.Quiet
			if opts.Interval < 10*time.Millisecond {
				return usageErrorf("--interval must be at least 10ms, not %s", opts.Interval)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runTop(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Interval, "interval", time.Second, "time between two lines")
	cmd.Flags().BoolVar(&opts.Once, "once", false, "print one snapshot (as stats does) and exit")
	return cmd
}

func runTop(ctx context.Context, opts *topOptions) error {
	if opts.Once {
		return runStats(ctx, &statsOptions{
			IO: opts.IO, Redis: opts.Redis, Schema: opts.Schema, Format: opts.Format,
			Quiet: opts.Quiet, Groups: true, ScanCount: keyspace.DefaultScanCount,
		})
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// The interactive dashboard is not built yet: a terminal gets the same
	// lines, with human-sized numbers.
	lp := &topLinePrinter{ios: opts.IO, json: opts.Format == output.JSON, human: opts.IO.IsStdoutTTY(), db: conn.DB}
	if conn.Cluster {
		lp.db = 0
	}

	var prev inspect.Snapshot
	for {
		start := opts.Now()
		tctx, cancel := context.WithTimeout(ctx, max(opts.Interval, retryEvery))
		snap, err := inspect.Take(tctx, conn.Client)
		cancel()
		wait := opts.Interval
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && inspect.NotPermitted(err):
			return redisError(conn, "INFO", err)
		case err != nil:
			lp.disconnected(start, err)
			wait = min(opts.Interval, retryEvery)
		default:
			lp.line(start, inspect.Rates(prev, snap), snap)
			prev = snap
		}
		// The next attempt is due one interval after this one started, so
		// a slow INFO does not stretch the interval.
		if err := sleepCtx(ctx, wait-opts.Now().Sub(start)); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// topLinePrinter prints top's line mode: fixed-width columns with raw
// numbers when piped (awk-friendly), human-sized on a terminal, or one JSON
// object per line.
type topLinePrinter struct {
	ios     *iostreams.IOStreams
	json    bool
	human   bool
	db      int
	started bool // the header is printed with the first line, so an error alone prints nothing on stdout
}

// topLine is one line of `top --json`.
type topLine struct {
	Op              string   `json:"op"`
	Time            string   `json:"time"`
	IntervalMs      float64  `json:"interval_ms"`
	OpsPerSec       float64  `json:"ops_per_sec"`
	HitRate         *float64 `json:"hit_rate"` // null: no lookups in the interval
	LifetimeHitRate *float64 `json:"lifetime_hit_rate"`
	HitsPerSec      float64  `json:"hits_per_sec"`
	MissesPerSec    float64  `json:"misses_per_sec"`
	UsedMemory      int64    `json:"used_memory"`
	Keys            int64    `json:"keys"`
	Clients         int64    `json:"clients"`
	EvictedPerSec   float64  `json:"evicted_per_sec"`
	ExpiredPerSec   float64  `json:"expired_per_sec"`
	NetInPerSec     float64  `json:"net_in_per_sec"`
	NetOutPerSec    float64  `json:"net_out_per_sec"`
	SinceStart      bool     `json:"since_start,omitempty"`
	Reset           bool     `json:"reset,omitempty"`
	Error           string   `json:"error,omitempty"`
}

const topColumns = "%-8s %10s %8s %10s %10s %12s %10s %7s %9s %9s\n"

func (p *topLinePrinter) header() {
	if p.json || p.started {
		return
	}
	p.started = true
	fmt.Fprintf(p.ios.Out, topColumns, "time", "ops/s", "hit_rate", "hits/s", "misses/s", "used_memory", "keys", "clients", "evicted/s", "expired/s")
}

func (p *topLinePrinter) line(at time.Time, r inspect.Rate, s inspect.Snapshot) {
	p.header()
	if p.json {
		l := topLine{
			Op: "top", Time: at.Format(time.RFC3339), IntervalMs: ms(r.Interval),
			OpsPerSec: r.OpsPerSec, HitsPerSec: r.HitsPerSec, MissesPerSec: r.MissesPerSec,
			UsedMemory: s.Memory.Used, Keys: s.Keys(p.db), Clients: s.Clients,
			EvictedPerSec: r.EvictedPerSec, ExpiredPerSec: r.ExpiredPerSec,
			NetInPerSec: r.NetInPerSec, NetOutPerSec: r.NetOutPerSec,
			SinceStart: r.SinceStart, Reset: r.Reset,
		}
		if r.HitRateOK {
			l.HitRate = &r.HitRate
		}
		if r.LifetimeHitRateOK {
			l.LifetimeHitRate = &r.LifetimeHitRate
		}
		_ = output.WriteJSON(p.ios, l)
		return
	}
	hitRate, mem := "-", strconv.FormatInt(s.Memory.Used, 10)
	if r.HitRateOK {
		hitRate = strconv.FormatFloat(r.HitRate, 'f', 3, 64)
	}
	if p.human {
		mem = humanBytes(s.Memory.Used)
		if r.HitRateOK {
			hitRate = strconv.FormatFloat(100*r.HitRate, 'f', 1, 64) + "%"
		}
	}
	fmt.Fprintf(p.ios.Out, topColumns, at.Format("15:04:05"), rate(r.OpsPerSec), hitRate,
		rate(r.HitsPerSec), rate(r.MissesPerSec), mem, strconv.FormatInt(s.Keys(p.db), 10),
		strconv.FormatInt(s.Clients, 10), rate(r.EvictedPerSec), rate(r.ExpiredPerSec))
}

func (p *topLinePrinter) disconnected(at time.Time, err error) {
	reason := err.Error()
	var ne *inspect.NodeError
	if errors.As(err, &ne) {
		reason = ne.Addr + ": " + describeRedisErr(ne.Err)
	}
	p.header()
	if p.json {
		_ = output.WriteJSON(p.ios, topLine{Op: "top", Time: at.Format(time.RFC3339), Error: "disconnected, retrying: " + reason})
		return
	}
	fmt.Fprintf(p.ios.Out, "%-8s disconnected, retrying: %s\n", at.Format("15:04:05"), reason)
}

// describeRedisErr shortens a connection failure to its cause, as
// redisconn's messages do.
func describeRedisErr(err error) string {
	msg := (&redisconn.Error{Cause: err}).Error()
	// "cannot reach redis at : <cause>"
	if _, cause, ok := strings.Cut(msg, "at : "); ok {
		return cause
	}
	return err.Error()
}

// rate prints a per-second figure: whole numbers from 10 up, one decimal below.
func rate(v float64) string {
	if v >= 10 || v == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
