package render

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/observe"
	"github.com/cachectl/cachectl/tui"
)

// TopLines prints top's line mode, one line per reading: fixed-width
// columns with raw numbers when piped (awk-friendly), human-sized on a
// terminal, or one JSON object per line.
type TopLines struct {
	ios     *iostreams.IOStreams
	json    bool
	human   bool
	db      int
	started bool // the header is printed with the first line, so an error alone prints nothing on stdout
	// Rates, when set, gives JSON lines the groups' hit rates.
	Rates HitRateSource
}

// HitRateSource is where top's lines read the hit rate per group
// (topfeed.HitRates): the app's /metrics, or sampling Redis.
type HitRateSource interface {
	Stats(ctx context.Context) (tui.AppStats, error)
	Sample() (observe.SampleReport, bool)
}

// NewTopLines prints the keys of database db, as JSON when json is set.
func NewTopLines(ios *iostreams.IOStreams, json bool, db int) *TopLines {
	return &TopLines{ios: ios, json: json, human: ios.IsStdoutTTY(), db: db}
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
	// Groups are the hit rates per group, cumulative since top started
	// (sampled) or since the app started (app).
	Groups map[string]topGroup `json:"groups,omitempty"`
	Sample *topSample          `json:"sample,omitempty"`
}

type topGroup struct {
	HitRate *float64 `json:"hit_rate"` // null: no lookups seen
	Lo      *float64 `json:"hit_rate_lo,omitempty"`
	Hi      *float64 `json:"hit_rate_hi,omitempty"`
	Source  string   `json:"hit_rate_source"` // "sampled" or "app"
	Lookups float64  `json:"lookups"`
}

// topSample is how the sampled hit rates were sampled and what it cost.
type topSample struct {
	WindowMs       float64  `json:"window_ms"`
	PeriodMs       float64  `json:"period_ms"`
	Windows        int      `json:"windows"`
	AddedCPU       *float64 `json:"added_cpu"` // share of one core; null until measured
	CPUBudget      float64  `json:"cpu_budget"`
	CommandsPerSec float64  `json:"commands_per_sec"`
	Widened        string   `json:"widened,omitempty"`
}

const topColumns = "%-8s %10s %8s %10s %10s %12s %10s %7s %9s %9s\n"

// Print prints one reading: its line, or "disconnected, retrying".
func (p *TopLines) Print(r inspect.Reading) {
	p.header()
	if r.Err != nil {
		p.disconnected(r.At, r.Err)
		return
	}
	if p.json {
		l := topJSON(r, p.db)
		p.hitRates(&l)
		_ = output.WriteJSON(p.ios, l)
		return
	}
	rt, s := r.Rate, r.Snapshot
	hitRate, mem := "-", strconv.FormatInt(s.Memory.Used, 10)
	if rt.HitRateOK {
		hitRate = strconv.FormatFloat(rt.HitRate, 'f', 3, 64)
	}
	if p.human {
		mem = format.Bytes(s.Memory.Used)
		if rt.HitRateOK {
			hitRate = format.Percent(rt.HitRate)
		}
	}
	fmt.Fprintf(p.ios.Out, topColumns, r.At.Format("15:04:05"), format.Rate(rt.OpsPerSec), hitRate,
		format.Rate(rt.HitsPerSec), format.Rate(rt.MissesPerSec), mem, strconv.FormatInt(s.Keys(p.db), 10),
		strconv.FormatInt(s.Clients, 10), format.Rate(rt.EvictedPerSec), format.Rate(rt.ExpiredPerSec))
}

func (p *TopLines) header() {
	if p.json || p.started {
		return
	}
	p.started = true
	fmt.Fprintf(p.ios.Out, topColumns, "time", "ops/s", "hit_rate", "hits/s", "misses/s", "used_memory", "keys", "clients", "evicted/s", "expired/s")
}

func topJSON(r inspect.Reading, db int) topLine {
	rt, s := r.Rate, r.Snapshot
	l := topLine{
		Op: "top", Time: r.At.Format(time.RFC3339), IntervalMs: format.Millis(rt.Interval),
		OpsPerSec: rt.OpsPerSec, HitsPerSec: rt.HitsPerSec, MissesPerSec: rt.MissesPerSec,
		UsedMemory: s.Memory.Used, Keys: s.Keys(db), Clients: s.Clients,
		EvictedPerSec: rt.EvictedPerSec, ExpiredPerSec: rt.ExpiredPerSec,
		NetInPerSec: rt.NetInPerSec, NetOutPerSec: rt.NetOutPerSec,
		SinceStart: rt.SinceStart, Reset: rt.Reset,
	}
	if rt.HitRateOK {
		l.HitRate = &rt.HitRate
	}
	if rt.LifetimeHitRateOK {
		l.LifetimeHitRate = &rt.LifetimeHitRate
	}
	return l
}

func (p *TopLines) disconnected(at time.Time, err error) {
	reason := err.Error()
	var ne *inspect.NodeError
	if errors.As(err, &ne) {
		reason = ne.Addr + ": " + topRedisCause(ne.Err)
	}
	if p.json {
		_ = output.WriteJSON(p.ios, topLine{Op: "top", Time: at.Format(time.RFC3339), Error: "disconnected, retrying: " + reason})
		return
	}
	fmt.Fprintf(p.ios.Out, "%-8s disconnected, retrying: %s\n", at.Format("15:04:05"), reason)
}

// topRedisCause shortens a connection failure to its cause, as
// redisconn's messages do.
func topRedisCause(err error) string {
	msg := (&redisconn.Error{Cause: err}).Error()
	// "cannot reach redis at : <cause>"
	if _, cause, ok := strings.Cut(msg, "at : "); ok {
		return cause
	}
	return err.Error()
}

// hitRates adds the groups' hit rates to l, when there are any.
func (p *TopLines) hitRates(l *topLine) {
	if p.Rates == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	st, err := p.Rates.Stats(ctx)
	cancel()
	if err != nil {
		return
	}
	l.Groups = make(map[string]topGroup, len(st.Groups))
	for name, g := range st.Groups {
		tg := topGroup{Source: "app", Lookups: g.Hits + g.Misses + g.Bypass}
		if g.Sampled {
			tg.Source = "sampled"
		}
		if tg.Lookups > 0 {
			rate := g.Hits / tg.Lookups
			tg.HitRate = &rate
			if g.Sampled {
				tg.Lo, tg.Hi = &g.Lo, &g.Hi
			}
		}
		l.Groups[name] = tg
	}
	if s, ok := p.Rates.Sample(); ok {
		l.Sample = &topSample{WindowMs: format.Millis(s.Window), PeriodMs: format.Millis(s.Period), Windows: s.Windows,
			CPUBudget: s.Budget, CommandsPerSec: s.Cost.CommandsPerSec, Widened: s.Widened}
		if s.Cost.Known {
			l.Sample.AddedCPU = &s.Cost.Added
		}
	}
}
