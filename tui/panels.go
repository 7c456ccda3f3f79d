package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/format"
)

// state is what the panels show; the root model owns it and changes it
// only in Update.
type state struct {
	cfg    *Config
	styles Styles

	snap    inspect.Snapshot
	hasSnap bool
	rate    inspect.Rate
	ping    time.Duration
	pingOK  bool
	hitHist *history
	opsHist *history
	down    bool // the data is the last before Redis went away

	groups        []Group
	groupsAt      time.Time
	groupsErr     error
	counting      bool
	countingExact bool
	perKey        map[string]perKey
	// filter narrows the groups shown to those whose name holds it (any
	// case); selected is the group Enter and d act on.
	filter   string
	selected string

	app appState
}

// perKey is what the last exact count measured per key of a group, to
// give estimates a TTL and a memory figure.
type perKey struct {
	ttl      time.Duration
	ttlKnown bool
	bytes    float64
	memKnown bool
}

type appState struct {
	ok        bool
	prev, cur AppStats
	hasPrev   bool
	secs      float64 // between prev and cur
}

// panel is one box of the dashboard.
type panel interface {
	Title() string
	SetSize(w, h int)
	SetFocused(bool)
	View() string
}

// box is what every panel has: its size, focus and the shared state.
type box struct {
	st      *state
	w, h    int
	focused bool
}

func (b *box) SetSize(w, h int)      { b.w, b.h = w, h }
func (b *box) SetFocused(f bool)     { b.focused = f }
func (b *box) inner() (int, int)     { return max(b.w-2, 0), max(b.h-2, 0) }
func (b *box) label(s string) string { return b.st.styles.Label.Render(s) }
func (b *box) value(s string) string { return b.st.styles.Value.Render(s) }

// fields is one line of alternating labels and values: label, value, label, ...
func (b *box) fields(parts ...string) string {
	var sb strings.Builder
	for i, s := range parts {
		if i%2 == 0 {
			sb.WriteString(b.label(s))
		} else {
			sb.WriteString(b.value(s))
		}
	}
	return sb.String()
}

func (b *box) render(title string, lines []string) string {
	if b.st.down {
		title += " · stale"
	}
	return b.st.styles.frame(title, lines, b.w, b.h, b.focused, b.st.down)
}

// live renders the lines body makes for the inner width once a snapshot
// has come, and an empty frame before.
func (b *box) live(title string, body func(w int) []string) string {
	if !b.st.hasSnap {
		return b.render(title, nil)
	}
	w, _ := b.inner()
	return b.render(title, body(w))
}

// sparkLines are a headline, a sparkline of vals in the height the box has
// left, and a footer. top is the sparkline's full scale (0: its largest value).
func (b *box) sparkLines(head string, vals []float64, top float64, foot string) []string {
	w, h := b.inner()
	lines := []string{head}
	for _, l := range sparkline(vals, w, max(h-2, 1), top) {
		lines = append(lines, b.st.styles.Spark.Render(l))
	}
	return append(lines, foot)
}

// unknown is how a figure the server did not send is shown.
const unknown = "-"

type serverPanel struct{ box }

func (p *serverPanel) Title() string { return "server" }
func (p *serverPanel) View() string {
	s := p.st.snap
	lines := []string{p.value(p.st.cfg.Addr)}
	if p.st.hasSnap {
		mode := "standalone"
		if s.Cluster {
			mode = fmt.Sprintf("cluster, %d masters", len(s.Nodes))
		}
		lines = append(lines,
			p.label("redis ")+p.value(orUnknown(s.Version))+" "+p.label(orUnknown(s.Role)),
			p.fields("up    ", format.Clock(s.UptimeS)),
			p.fields("mode  ", mode))
	}
	return p.render(p.Title(), lines)
}

type clientsPanel struct{ box }

func (p *clientsPanel) Title() string { return "clients & ping" }
func (p *clientsPanel) View() string {
	var lines []string
	if p.st.hasSnap {
		ping := unknown
		if p.st.pingOK {
			ping = format.Latency(p.st.ping)
		}
		lines = append(lines,
			p.fields("clients ", format.Count(float64(p.st.snap.Clients))),
			p.fields("ping    ", ping),
			p.fields("info    ", format.Latency(p.st.snap.Took)))
	}
	return p.render(p.Title(), lines)
}

type memoryPanel struct{ box }

func (p *memoryPanel) Title() string { return "memory" }
func (p *memoryPanel) View() string  { return p.live(p.Title(), p.lines) }

func (p *memoryPanel) lines(w int) []string {
	m, r := p.st.snap.Memory, p.st.rate
	var lines []string
	if m.Max > 0 {
		frac := math.Min(float64(m.Used)/float64(m.Max), 1)
		full := p.st.styles.Good
		switch {
		case frac >= 0.9:
			full = p.st.styles.Bad
		case frac >= 0.75:
			full = p.st.styles.Warn
		}
		lines = append(lines, gauge(frac, w, full, p.st.styles.Border),
			p.fields("used ", format.Bytes(m.Used), " of ", format.Bytes(m.Max)))
	} else {
		lines = append(lines, p.fields("used ", format.Bytes(m.Used), " (no maxmemory)"))
	}
	frag := unknown
	if p.st.snap.Has("mem_fragmentation_ratio") {
		frag = fmt.Sprintf("%.2f", m.Fragmentation)
	}
	return append(lines,
		p.fields("peak ", format.Bytes(m.Peak), "  frag ", frag),
		p.fields("evicted ", format.Count(r.EvictedPerSec)+"/s", "  expired ", format.Count(r.ExpiredPerSec)+"/s"),
		p.fields("policy ", orUnknown(m.Policy)))
}

type hitRatePanel struct{ box }

func (p *hitRatePanel) Title() string { return "hit rate" }
func (p *hitRatePanel) View() string  { return p.live(p.Title(), p.lines) }

func (p *hitRatePanel) lines(w int) []string {
	r := p.st.rate
	now, life := unknown, unknown
	if r.HitRateOK && !r.SinceStart {
		now = p.rateStyle(r.HitRate).Render(format.Percent(r.HitRate))
	}
	if r.LifetimeHitRateOK {
		life = p.value(format.Percent(r.LifetimeHitRate))
	}
	return p.sparkLines(p.label("interval ")+now+p.label("   lifetime ")+life, p.st.hitHist.last(w), 1,
		p.fields("hits ", format.Count(r.HitsPerSec)+"/s", "   misses ", format.Count(r.MissesPerSec)+"/s"))
}

func (p *hitRatePanel) rateStyle(v float64) lipgloss.Style {
	switch {
	case v >= 0.8:
		return p.st.styles.Good
	case v >= 0.5:
		return p.st.styles.Warn
	}
	return p.st.styles.Bad
}

type opsPanel struct{ box }

func (p *opsPanel) Title() string { return "ops/s" }
func (p *opsPanel) View() string  { return p.live(p.Title(), p.lines) }

func (p *opsPanel) lines(w int) []string {
	r := p.st.rate
	vals := p.st.opsHist.last(w)
	peak := 0.0
	for _, v := range vals {
		peak = max(peak, v)
	}
	return p.sparkLines(p.fields("now ", format.Count(r.OpsPerSec), "   peak ", format.Count(peak)), vals, 0,
		p.fields("net in ", format.Bytes(int64(r.NetInPerSec))+"/s", "   out ", format.Bytes(int64(r.NetOutPerSec))+"/s"))
}

type keyspacePanel struct{ box }

func (p *keyspacePanel) Title() string {
	switch {
	case p.st.counting && p.st.countingExact:
		return "keyspace by group · counting (exact)…"
	case p.st.groupsErr != nil && inspect.NotPermitted(p.st.groupsErr):
		return "keyspace by group · not permitted"
	case p.st.groupsErr != nil:
		return "keyspace by group · count failed"
	case len(p.st.groups) > 0 && allExact(p.st.groups):
		return "keyspace by group · exact"
	case len(p.st.groups) > 0:
		return "keyspace by group · ~ estimate"
	}
	return "keyspace by group"
}

func allExact(gs []Group) bool {
	for _, g := range gs {
		if !g.Exact {
			return false
		}
	}
	return true
}

func (p *keyspacePanel) View() string {
	w, _ := p.inner()
	if len(p.st.groups) == 0 {
		msg := "counting…"
		if p.st.groupsErr != nil {
			msg = p.st.groupsErr.Error()
		}
		return p.render(p.Title(), []string{p.label(msg)})
	}
	nameW := 12
	widths := []int{nameW, -9, -6, -6, -8}
	head := []string{"group", "keys", "share", "ttl", "memory"}
	margin := w >= 60
	if margin {
		widths = append(widths, -8)
		head = append(head, "±95%")
	}
	lines := []string{"  " + p.label(cols(widths, head...))}
	total := p.st.snap.Keys(p.st.cfg.DB)
	var sum int64
	for _, g := range p.st.groups {
		sum += g.Keys
	}
	selected := p.st.selectedGroup()
	shown := p.st.visibleGroups()
	for _, g := range shown {
		mark := ""
		if !g.Exact {
			mark = "~"
		}
		share, t, mem := unknown, unknown, unknown
		if total > 0 {
			share = format.Percent(math.Min(float64(g.Keys)/float64(total), 1))
		}
		if g.TTLKnown {
			t = format.TTL(g.AvgTTL)
		}
		if g.MemoryKnown {
			mem = mark + format.Bytes(g.Memory)
		}
		cells := []string{truncate(g.Name, nameW), mark + format.Count(float64(g.Keys)), share, t, mem}
		if margin {
			m := ""
			if !g.Exact {
				m = "±" + format.Count(float64(g.Margin))
			}
			cells = append(cells, m)
		}
		row := "  " + cols(widths, cells...)
		if g.Name == selected {
			row = p.st.styles.Selected.Render("▸ " + cols(widths, cells...))
		}
		lines = append(lines, row)
	}
	foot := fmt.Sprintf("db%d %s keys · counted %s · r recounts", p.st.cfg.DB, format.Count(float64(total)),
		p.st.groupsAt.Format("15:04:05"))
	if p.st.filter != "" {
		foot = fmt.Sprintf("%d of %d groups match %q · esc shows all", len(shown), len(p.st.groups), p.st.filter)
	} else {
		other := max(total-sum, 0)
		lines = append(lines, "  "+p.label(cols(widths[:3], "other", format.Count(float64(other)), "")))
	}
	lines = append(lines, "", p.label(foot))
	return p.render(p.Title(), lines)
}

type appPanel struct{ box }

func (p *appPanel) Title() string {
	if p.st.app.cur.Sampled {
		return "hit rate by group (sampled)"
	}
	return "app hit rate (from /metrics)"
}
func (p *appPanel) View() string {
	w, _ := p.inner()
	a := p.st.app
	widths := []int{12, -8, -8}
	head := []string{"group", "interval", "lifetime"}
	wide := w >= 40
	if wide {
		widths = append(widths, -9)
		head = append(head, "lookups/s")
	}
	lines := []string{p.label(cols(widths, head...))}
	names := make([]string, 0, len(a.cur.Groups))
	for n := range a.cur.Groups {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		cur := a.cur.Groups[n]
		now, perSec := unknown, unknown
		if a.hasPrev && a.secs > 0 {
			prev := a.prev.Groups[n]
			d := AppGroup{Hits: cur.Hits - prev.Hits, Misses: cur.Misses - prev.Misses, Bypass: cur.Bypass - prev.Bypass}
			if d.Hits < 0 || d.Misses < 0 || d.Bypass < 0 {
				d = cur // the application restarted
			}
			if v, ok := appRate(d); ok {
				now = format.Percent(v)
			}
			perSec = format.Count((d.Hits + d.Misses + d.Bypass) / a.secs)
		}
		life := unknown
		if v, ok := appRate(cur); ok {
			life = format.Percent(v)
			if cur.Sampled {
				life += fmt.Sprintf(" ±%.0f", 100*max(v-cur.Lo, cur.Hi-v))
			}
		}
		cells := []string{truncate(n, 12), now, life}
		if wide {
			cells = append(cells, perSec)
		}
		lines = append(lines, cols(widths, cells...))
	}
	if a.cur.Note != "" {
		lines = append(lines, "", p.label(a.cur.Note))
	}
	return p.render(p.Title(), lines)
}

// appRate is the share of lookups the cache answered; a bypass (Redis
// unavailable, served from the database) counts as a miss.
func appRate(g AppGroup) (float64, bool) {
	n := g.Hits + g.Misses + g.Bypass
	if n <= 0 {
		return 0, false
	}
	return g.Hits / n, true
}

func orUnknown(s string) string {
	if s == "" {
		return unknown
	}
	return s
}

func truncate(s string, w int) string {
	r := []rune(s)
	if len(r) <= w {
		return s
	}
	return string(r[:w-1]) + "…"
}

// messageLines wraps text to w cells.
func messageLines(text string, w int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		out = append(out, strings.Split(lipgloss.NewStyle().Width(max(w, 1)).Render(para), "\n")...)
	}
	return out
}

// gauge is a bar of w cells filled to frac, with the percentage at its end.
func gauge(frac float64, w int, full, empty lipgloss.Style) string {
	pct := fmt.Sprintf(" %3.0f%%", 100*frac)
	bw := max(w-len(pct), 0)
	n := min(int(math.Round(frac*float64(bw))), bw)
	return full.Render(strings.Repeat("█", n)) + empty.Render(strings.Repeat("░", bw-n)) + pct
}
