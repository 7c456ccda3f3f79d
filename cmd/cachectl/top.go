package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/tui"
)

// retryEvery bounds the wait between attempts while Redis is away, whatever
// the interval: the dashboard notices a recovery within 2 s.
const retryEvery = 2 * time.Second

type topOptions struct {
	IO       *iostreams.IOStreams
	Redis    func(context.Context) (*redisconn.Conn, error)
	Schema   func() (keyspace.Schema, error)
	HTTP     func() *http.Client
	API      string // the catalog API whose /metrics the dashboard reads; "" for none
	Format   output.Format
	Quiet    bool
	NoColor  bool
	Interval time.Duration
	Once     bool
	Now      func() time.Time
}

func newTopCmd(f *factory, runF func(context.Context, *topOptions) error) *cobra.Command {
	opts := &topOptions{IO: f.IO, Redis: f.Redis, Schema: f.Schema, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Watch Redis live: ops/s, hit rate, memory, keys, evictions",
		Long: `Follow the cache as it works.

On a terminal, a dashboard: the server (address, version, role, uptime,
cluster masters), clients and PING latency, memory (used against maxmemory,
peak, fragmentation, evicted/s, expired/s), the hit rate per interval and
since start with a sparkline, ops/s with a sparkline, and the keys of each
group (share, average TTL, estimated memory). When --api points at the
reference catalog server, it also shows the application's own hit rate per
group, from its /metrics. Keys: q quit, p pause, r exact recount of the
groups, tab next panel, ? help.

The dashboard reads INFO once per interval (microseconds of server time).
Groups are estimated every 10 intervals by sampling RANDOMKEY (a fixed,
small cost, marked ~), and counted exactly with SCAN only at start on a
database of at most 20,000 keys, or when you press r. Logs are held back
while the dashboard is on screen and printed when it ends.

Piped (or with --json), one line per interval instead: the time, ops/s,
the hit rate over the interval, hits/s, misses/s, used memory, keys in the
selected database, clients, evicted/s and expired/s, like redis-stat. With
--json each line is one JSON object. The first line covers the time since
the server started, as vmstat's does; lines never scan the keyspace.

When Redis goes away, both say "disconnected, retrying" and try again at
least every 2 s until Redis is back; counters that a restart reset never
show as negative rates. Ctrl-C stops the lines (exit 130).

--once prints one snapshot, the same as 'cachectl stats', and exits.`,
		Example: `  # beside your work: the dashboard
  cachectl top
  # with the application's own hit rate per group
  cachectl top --api http://127.0.0.1:8000
  # log the cache's behaviour during a load test, one JSON object a line
  cachectl top --interval 5s --json > cache.ndjson
  # one snapshot
  cachectl top --once`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.format(output.Table, output.JSON)
			if err != nil {
				return err
			}
			opts.Format = fm
			opts.Quiet = f.opts.Quiet
			opts.NoColor = !f.IO.ColorEnabled()
			if f.opts.API != "" {
				api, client, err := f.MetricsClient()
				if err != nil {
					return err
				}
				opts.API = api.String()
				opts.HTTP = func() *http.Client { return client }
			}
			if err := inRange("interval", opts.Interval, 10*time.Millisecond, time.Hour); err != nil {
				return err
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
	if opts.IO.IsStdoutTTY() && opts.Format != output.JSON {
		return runDashboard(ctx, opts)
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
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
		mem = output.Bytes(s.Memory.Used)
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

// runDashboard runs the interactive dashboard until q, ctrl+c or the
// context ends. Logs written meanwhile are held and printed afterwards, so
// they never scribble over the screen.
func runDashboard(ctx context.Context, opts *topOptions) error {
	logs := &heldWriter{w: opts.IO.ErrOut}
	// The factory's logger (and go-redis's, through it) is created with the
	// connection: it writes to logs from the start.
	opts.IO.ErrOut = logs
	defer func() {
		logs.release()
		opts.IO.ErrOut = logs.w
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
		if sel, err = groupSelection(schema); err != nil {
			return err
		}
	}
	cfg := tui.Config{
		Source:   topSource{conn: conn, sel: sel},
		Addr:     conn.Addr,
		Interval: opts.Interval,
		DB:       conn.DB,
		NoColor:  opts.NoColor,
		Context:  ctx,
	}
	if conn.Cluster {
		cfg.DB = 0
	}
	if opts.API != "" && opts.HTTP != nil {
		cfg.App = catalogMetrics{url: strings.TrimSuffix(opts.API, "/") + "/metrics", client: opts.HTTP()}
	}
	progOpts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithOutput(opts.IO.Out)}
	if f, ok := opts.IO.In.(*os.File); !ok || f != os.Stdin {
		progOpts = append(progOpts, tea.WithInput(opts.IO.In))
	}
	if _, ok := opts.IO.Out.(*os.File); !ok {
		// Not a real terminal (tests): no size to ask it for.
		progOpts = append(progOpts, tea.WithWindowSize(opts.IO.TerminalWidth(), 24))
	}
	logs.hold()
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

// heldWriter passes writes through, except while held: then it keeps up to
// heldMax bytes and writes them out on release.
type heldWriter struct {
	mu      sync.Mutex
	w       io.Writer
	held    bool
	buf     bytes.Buffer
	dropped int
}

const heldMax = 64 << 10

func (h *heldWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.held {
		return h.w.Write(p)
	}
	if h.buf.Len()+len(p) > heldMax {
		h.dropped += len(p)
		return len(p), nil
	}
	return h.buf.Write(p)
}

func (h *heldWriter) hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = true
}

func (h *heldWriter) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.held {
		return
	}
	h.held = false
	_, _ = h.buf.WriteTo(h.w)
	if h.dropped > 0 {
		fmt.Fprintf(h.w, "cachectl: %d more bytes of log were dropped while the dashboard ran\n", h.dropped)
	}
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

// catalogCacheMetric is the reference server's counter of cache lookups by
// group and result (hit, miss, bypass).
const catalogCacheMetric = "catalog_cache_requests_total"

var errNotCatalog = errors.New("no " + catalogCacheMetric + " in /metrics: not the reference catalog server")

// catalogMetrics reads the application's hit rate per group from the
// reference server's Prometheus metrics.
type catalogMetrics struct {
	url    string
	client *http.Client
}

func (c catalogMetrics) App(ctx context.Context) (tui.AppStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return tui.AppStats{}, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := c.client.Do(req)
	if err != nil {
		return tui.AppStats{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return tui.AppStats{}, fmt.Errorf("get %s: %s", c.url, resp.Status)
	}
	return parseCatalogMetrics(io.LimitReader(resp.Body, 8<<20))
}

// parseCatalogMetrics picks the cache lookups per group out of a Prometheus
// text exposition.
func parseCatalogMetrics(r io.Reader) (tui.AppStats, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return tui.AppStats{}, fmt.Errorf("parse metrics: %w", err)
	}
	fam, ok := families[catalogCacheMetric]
	if !ok {
		return tui.AppStats{}, errNotCatalog
	}
	stats := tui.AppStats{Groups: map[string]tui.AppGroup{}}
	for _, m := range fam.GetMetric() {
		var group, result string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "group":
				group = l.GetValue()
			case "result":
				result = l.GetValue()
			}
		}
		v := m.GetCounter().GetValue()
		if m.GetCounter() == nil {
			v = m.GetUntyped().GetValue()
		}
		g := stats.Groups[group]
		switch result {
		case "hit":
			g.Hits += v
		case "miss":
			g.Misses += v
		case "bypass":
			g.Bypass += v
		default:
			continue
		}
		stats.Groups[group] = g
	}
	return stats, nil
}
