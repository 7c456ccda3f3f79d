package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/format"
)

// errNoDetail answers Enter and d when the dashboard has no DetailSource.
var errNoDetail = errors.New("this dashboard cannot survey a single group")

// groupView is the group the detail or dry-run screen shows, and what is
// known of it so far.
type groupView struct {
	group string
	seq   int

	surveying bool
	survey    GroupDetail
	surveyErr error
	surveyAt  time.Time
	hasSurvey bool

	counting bool
	keys     int64
	countErr error
	countAt  time.Time
	hasCount bool
}

func (v *groupView) surveyed(msg detailMsg, now time.Time) {
	if msg.seq != v.seq {
		return // an answer for a group closed since
	}
	v.surveying = false
	v.survey, v.surveyErr, v.surveyAt, v.hasSurvey = msg.detail, msg.err, now, msg.err == nil
}

func (v *groupView) counted(msg dryRunMsg, now time.Time) {
	if msg.seq != v.seq {
		return
	}
	v.counting = false
	v.keys, v.countErr, v.countAt, v.hasCount = msg.keys, msg.err, now, msg.err == nil
}

// open shows the detail or dry-run screen of group and starts what it
// reads: one survey, or one exact count. A group already open keeps what
// was read of it.
func (m *Model) open(s screen, group string) tea.Cmd {
	if group == "" {
		return nil
	}
	if m.detail.group != group {
		m.detail = groupView{group: group, seq: m.detail.seq + 1}
	}
	m.screen = s
	return m.refresh()
}

// refresh reads the open screen's figures again.
func (m *Model) refresh() tea.Cmd {
	v := &m.detail
	src, group, seq := m.cfg.Detail, v.group, v.seq
	if m.screen == screenDetail {
		return m.startExact(&v.surveying, &v.surveyErr, func(ctx context.Context) tea.Msg {
			d, err := src.Detail(ctx, group)
			return detailMsg{seq: seq, detail: d, err: err}
		})
	}
	return m.startExact(&v.counting, &v.countErr, func(ctx context.Context) tea.Msg {
		n, err := src.Count(ctx, group)
		return dryRunMsg{seq: seq, keys: n, err: err}
	})
}

// startExact starts fetch, a survey or a count, under the timeout of an
// exact count (they SCAN the whole keyspace), unless one of its kind is
// still running (*busy). Without a detail source it records errNoDetail in
// *failed and starts nothing.
func (m *Model) startExact(busy *bool, failed *error, fetch func(ctx context.Context) tea.Msg) tea.Cmd {
	if *busy {
		return nil
	}
	if m.cfg.Detail == nil {
		*failed = errNoDetail
		return nil
	}
	*busy = true
	return m.timed(m.cfg.ExactTimeout, fetch)
}

// viewKey handles a key on the detail or dry-run screen.
func (m *Model) viewKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Close):
		m.screen = screenPanels
	case key.Matches(msg, m.keys.Recount):
		return m.refresh()
	case key.Matches(msg, m.keys.DryRun):
		return m.open(screenDryRun, m.detail.group)
	case key.Matches(msg, m.keys.Open):
		return m.open(screenDetail, m.detail.group)
	case key.Matches(msg, m.keys.Pause):
		m.paused = !m.paused
	}
	return nil
}

// failure is how a failed survey or count reads.
func failure(what string, err error) string {
	if inspect.NotPermitted(err) {
		return what + " not permitted for this user: " + err.Error()
	}
	return what + " failed: " + err.Error()
}

// detailLines are the detail screen w cells wide: the group's figures,
// its biggest keys beside its TTL histogram.
func (m *Model) detailLines(w int) []string {
	v, s := &m.detail, m.st.styles
	label, value := s.Label.Render, s.Value.Render
	switch {
	case v.surveyErr != nil && !v.surveying:
		return messageLines(s.Bad.Render(failure("survey", v.surveyErr)), w)
	case !v.hasSurvey:
		return []string{label("surveying " + v.group + "… (one SCAN pass over every master, then PTTL and MEMORY USAGE of a sample)")}
	}
	d := v.survey
	mem := unknown
	if d.MemoryKnown {
		mem = "~" + format.Bytes(d.Memory)
	}
	measured := fmt.Sprintf("%d of %d keys measured", d.Sampled, d.Keys)
	ttlKind := " (estimate)"
	if d.TTLExact {
		ttlKind = " (exact)"
	}
	p50, p90 := unknown, unknown
	if d.TTLKnown {
		p50, p90 = format.TTL(d.TTLP50), format.TTL(d.TTLP90)
	}
	lines := []string{
		label("keys ") + value(format.Count(float64(d.Keys))) + label(" exact · memory ") + value(mem) +
			label(" estimate · "+measured),
		label("ttl p50 ") + value(p50) + label(" · p90 ") + value(p90) +
			label(" · no ttl ") + value(format.Count(float64(d.NoTTL))) +
			label(" · expiring within "+format.TTL(d.Soon)+" ") + value(format.Percent(d.ExpiringSoon)) + label(ttlKind),
	}
	if d.Skew != "" {
		lines = append(lines, s.Warn.Render("skew: "+d.Skew))
	}
	if len(d.Nodes) > 0 {
		lines = append(lines, label("per master:"))
		for _, n := range d.Nodes {
			np50 := unknown
			if n.TTLKnown {
				np50 = format.TTL(n.TTLP50)
			}
			lines = append(lines, "  "+value(n.Addr)+label(" keys ")+value(format.Count(float64(n.Keys)))+
				label(" · memory ")+value(format.Size(n.Memory))+label(" · ttl p50 ")+value(np50)+
				label(" · no ttl ")+value(format.Count(float64(n.NoTTL))))
		}
	}
	lines = append(lines, "")
	left, right := m.biggestLines(d), m.histogramLines(d)
	if w >= 70 {
		lw := w * 11 / 20
		lines = append(lines, sideBySide(fitAll(left, lw), fitAll(right, w-lw-2), lw)...)
	} else {
		lines = append(append(append(lines, left...), ""), right...)
	}
	state := "surveyed " + v.surveyAt.Format("15:04:05")
	if v.surveying {
		state = "surveying again…"
	}
	return append(lines, "", label(state+" · r surveys again · d dry-run clear · esc back"))
}

// biggestLines lists the biggest keys measured, at most ten.
func (m *Model) biggestLines(d GroupDetail) []string {
	label := m.st.styles.Label.Render
	which := "of the keys sized"
	if d.BiggestExact {
		which = "every key sized"
	}
	lines := []string{m.st.styles.Title.Render("biggest keys") + label(" · estimate"), label("MEMORY USAGE, " + which)}
	if len(d.Biggest) == 0 {
		return append(lines, label("none sized"))
	}
	for _, k := range d.Biggest[:min(len(d.Biggest), 10)] {
		lines = append(lines, fmt.Sprintf("%7s  %s", "~"+format.Size(k.Bytes), k.Key))
	}
	return lines
}

// histogramLines draws one bar per TTL bucket from the shortest to the
// longest TTL measured, then the keys without a TTL.
func (m *Model) histogramLines(d GroupDetail) []string {
	s := m.st.styles
	lines := []string{s.Title.Render("ttl histogram"), s.Label.Render(fmt.Sprintf("of the %d keys measured", d.Sampled))}
	var most int64
	var bars, none []TTLBucket
	for _, b := range d.Histogram {
		most = max(most, b.Count)
		if b.Upper < 0 {
			none = append(none, b)
		} else {
			bars = append(bars, b)
		}
	}
	if most == 0 {
		return append(lines, s.Label.Render("no keys measured"))
	}
	// Only the span of TTLs that occur: empty buckets at either end say nothing.
	first := slices.IndexFunc(bars, func(b TTLBucket) bool { return b.Count > 0 })
	last := len(bars) - 1
	for last >= 0 && bars[last].Count == 0 {
		last--
	}
	prev := "0s"
	var shown []TTLBucket
	if first >= 0 {
		if first > 0 {
			prev = format.TTL(bars[first-1].Upper)
		}
		shown = bars[first : last+1]
	}
	const barW = 20
	for _, b := range append(shown, none...) {
		name := "no ttl"
		switch {
		case b.Upper == TTLOver:
			name = ">" + prev
		case b.Upper >= 0:
			name = "≤" + format.TTL(b.Upper)
			prev = format.TTL(b.Upper)
		}
		n := int(math.Round(float64(b.Count) / float64(most) * barW))
		if b.Count > 0 {
			n = max(n, 1)
		}
		lines = append(lines, fmt.Sprintf("%-7s ", name)+s.Spark.Render(strings.Repeat("█", n))+
			strings.Repeat(" ", barW-n)+fmt.Sprintf(" %s", format.Count(float64(b.Count))))
	}
	return lines
}

// dryRunLines are the dry-run screen: the exact count and the command
// line that would clear the group.
func (m *Model) dryRunLines(w int) []string {
	v, s := &m.detail, m.st.styles
	label := s.Label.Render
	switch {
	case v.countErr != nil && !v.counting:
		return messageLines(s.Bad.Render(failure("count", v.countErr)), w)
	case !v.hasCount:
		return []string{label("counting the keys of " + v.group + "… (SCAN over every master, as clear --dry-run does)")}
	}
	lines := []string{
		s.Value.Render(fmt.Sprintf("would delete %s keys (group %s)", format.Count(float64(v.keys)), v.group)),
		label("counted exactly with SCAN at " + v.countAt.Format("15:04:05") + " · nothing was deleted"),
		"",
		label("to clear it, run (it asks before it deletes; --dry-run only counts):"),
		"",
	}
	for _, l := range commandLines(m.clearCommand(v.group), w-2) {
		lines = append(lines, "  "+l)
	}
	lines = append(lines, "")
	return append(lines, messageLines(label("the line holds no password: cachectl reads it from the environment "+
		"or --password-file. top itself never deletes a key."), w)...)
}

// clearCommand is the `cachectl clear` command line for group, as words.
func (m *Model) clearCommand(group string) []string {
	return append([]string{"cachectl", "clear", "--group", group}, m.cfg.ClearArgs...)
}

// commandLines writes words as a shell command in lines of at most w cells,
// broken between a flag and the next one, with a backslash at each break so
// that the lines paste as one command.
func commandLines(words []string, w int) []string {
	var units []string
	for i := 0; i < len(words); i++ {
		u := shellQuote(words[i])
		if strings.HasPrefix(words[i], "--") && i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
			i++
			u += " " + shellQuote(words[i])
		}
		units = append(units, u)
	}
	var lines []string
	cur := ""
	for _, u := range units {
		switch {
		case cur == "":
			cur = u
		case len(cur)+1+len(u)+2 <= w:
			cur += " " + u
		default:
			lines = append(lines, cur+" \\")
			cur = "    " + u
		}
	}
	return append(lines, cur)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fitAll cuts or pads every line to w cells.
func fitAll(lines []string, w int) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = fit(l, w)
	}
	return out
}

// sideBySide puts two columns of lines next to each other, two cells
// apart; the left one is lw cells wide.
func sideBySide(left, right []string, lw int) []string {
	n := max(len(left), len(right))
	out := make([]string, n)
	for i := range n {
		l, r := strings.Repeat(" ", lw), ""
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		out[i] = l + "  " + r
	}
	return out
}
