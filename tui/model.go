package tui

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cachectl/cachectl/inspect"
)

// Messages. Each fetch answers with one; the tick is re-armed when handled.
type (
	tickMsg struct{}
	pollMsg struct {
		snap    inspect.Snapshot
		err     error
		ping    time.Duration
		pingErr error
	}
	groupsMsg struct {
		groups []Group
		exact  bool
		err    error
	}
	appMsg struct {
		stats AppStats
		err   error
	}
	detailMsg struct {
		seq    int
		detail GroupDetail
		err    error
	}
	dryRunMsg struct {
		seq  int
		keys int64
		err  error
	}
)

// screen is what the body of the dashboard shows.
type screen int

const (
	screenPanels screen = iota
	screenDetail        // Enter: one group's biggest keys and TTLs
	screenDryRun        // d: what clearing one group would delete
)

// historyLen is how many intervals the sparklines remember: wider than any screen.
const historyLen = 512

// Model is the root of the dashboard: it routes messages, schedules the
// fetches and lays the panels out. Use it as a pointer.
type Model struct {
	cfg  Config
	st   *state
	keys KeyMap
	help help.Model

	server   *serverPanel
	clients  *clientsPanel
	memory   *memoryPanel
	hitRate  *hitRatePanel
	ops      *opsPanel
	keyspace *keyspacePanel
	app      *appPanel
	focus    int

	width, height int
	paused        bool
	showHelp      bool

	screen    screen
	filter    textinput.Model
	filtering bool // the filter's input has the keys
	// detail is the group Enter or d opened; seq tells its answers from
	// those of a group opened before.
	detail groupView

	polling, counting, fetchingApp bool
	wantExact                      bool
	sinceGroups                    int
	ticks                          int

	down      bool
	downErr   error
	downSince time.Time
	lastOK    time.Time
	appTime   time.Time

	// after schedules msg after d; tea.Tick, replaced in tests.
	after func(d time.Duration, msg tea.Msg) tea.Cmd
}

// New returns the dashboard for cfg.
func New(cfg Config) *Model {
	cfg.defaults()
	st := &state{
		cfg: &cfg, styles: DefaultStyles(true, cfg.NoColor),
		hitHist: newHistory(historyLen), opsHist: newHistory(historyLen),
		perKey: map[string]perKey{},
	}
	m := &Model{
		cfg: cfg, st: st, keys: DefaultKeyMap(), help: help.New(),
		server: &serverPanel{box{st: st}}, clients: &clientsPanel{box{st: st}},
		memory: &memoryPanel{box{st: st}}, hitRate: &hitRatePanel{box{st: st}},
		ops: &opsPanel{box{st: st}}, keyspace: &keyspacePanel{box{st: st}},
		app: &appPanel{box{st: st}},
		after: func(d time.Duration, msg tea.Msg) tea.Cmd {
			return tea.Tick(d, func(time.Time) tea.Msg { return msg })
		},
	}
	st.cfg = &m.cfg
	m.filter = textinput.New()
	m.filter.Prompt = "/"
	m.filter.Placeholder = "part of a group name"
	m.setBackground(true)
	return m
}

// setBackground picks the styles for a dark or a light terminal. Until the
// terminal answers (tea.BackgroundColorMsg), or if it never does, the
// styles are the dark ones, as most terminals are.
func (m *Model) setBackground(isDark bool) {
	m.st.styles = DefaultStyles(isDark, m.cfg.NoColor)
	m.help.Styles = help.DefaultStyles(isDark)
	fs := textinput.DefaultStyles(isDark)
	if m.cfg.NoColor {
		m.help.Styles = help.Styles{}
		fs = textinput.Styles{Cursor: fs.Cursor}
	}
	// A steady cursor: a blinking one would redraw the screen twice a second.
	fs.Cursor.Blink = false
	m.filter.SetStyles(fs)
}

// Init reads Redis (and the application) right away and starts the clock.
func (m *Model) Init() tea.Cmd {
	m.polling = true
	cmds := []tea.Cmd{tea.RequestBackgroundColor, m.poll(), m.schedule()}
	if m.cfg.App != nil {
		m.fetchingApp = true
		cmds = append(cmds, m.fetchApp())
	}
	return tea.Batch(cmds...)
}

// Update routes one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tea.BackgroundColorMsg:
		m.setBackground(msg.IsDark())
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tickMsg:
		return m, m.tick()
	case pollMsg:
		return m, m.polled(msg)
	case groupsMsg:
		return m, m.counted(msg)
	case appMsg:
		m.fetchingApp = false
		m.appFetched(msg)
		return m, nil
	case detailMsg:
		m.detail.surveyed(msg, m.cfg.Now())
		return m, nil
	case dryRunMsg:
		m.detail.counted(msg, m.cfg.Now())
		return m, nil
	}
	return m, nil
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case msg.String() == "ctrl+c":
		return tea.Quit
	case m.filtering:
		return m.filterKey(msg)
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.showHelp = !m.showHelp
	case m.showHelp:
		if key.Matches(msg, m.keys.Close) {
			m.showHelp = false
		}
	case m.screen != screenPanels:
		return m.viewKey(msg)
	case key.Matches(msg, m.keys.Close):
		m.setFilter("")
	case key.Matches(msg, m.keys.Filter):
		m.filtering = true
		m.filter.SetValue(m.st.filter)
		m.filter.CursorEnd()
		return m.filter.Focus()
	case key.Matches(msg, m.keys.Up):
		m.moveSelection(-1)
	case key.Matches(msg, m.keys.Down):
		m.moveSelection(1)
	case key.Matches(msg, m.keys.Open):
		return m.open(screenDetail, m.st.selectedGroup())
	case key.Matches(msg, m.keys.DryRun):
		return m.open(screenDryRun, m.st.selectedGroup())
	case key.Matches(msg, m.keys.Pause):
		m.paused = !m.paused
	case key.Matches(msg, m.keys.Recount):
		m.wantExact = true
		return m.maybeCount()
	case key.Matches(msg, m.keys.Focus):
		m.focus = (m.focus + 1) % len(m.panels())
	case key.Matches(msg, m.keys.Back):
		n := len(m.panels())
		m.focus = (m.focus + n - 1) % n
	}
	return nil
}

// schedule arms the next tick: one interval, or at most inspect.RetryEvery while
// Redis is away.
func (m *Model) schedule() tea.Cmd {
	d := m.cfg.Interval
	if m.down {
		d = min(d, inspect.RetryEvery)
	}
	return m.after(d, tickMsg{})
}

func (m *Model) tick() tea.Cmd {
	m.ticks++
	cmds := []tea.Cmd{m.schedule()}
	if m.paused {
		return cmds[0]
	}
	if !m.polling {
		m.polling = true
		cmds = append(cmds, m.poll())
	}
	// A missing application is asked again now and then, in case it starts.
	if m.cfg.App != nil && !m.fetchingApp && (m.st.app.ok || m.ticks%m.cfg.GroupEvery == 0) {
		m.fetchingApp = true
		cmds = append(cmds, m.fetchApp())
	}
	return tea.Batch(cmds...)
}

// timed is a command that runs fetch under timeout: the configured one for
// a snapshot or the application's figures, ExactTimeout for what SCANs the
// whole keyspace.
func (m *Model) timed(timeout time.Duration, fetch func(ctx context.Context) tea.Msg) tea.Cmd {
	base := m.cfg.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		return fetch(ctx)
	}
}

func (m *Model) poll() tea.Cmd {
	src := m.cfg.Source
	return m.timed(m.cfg.Timeout, func(ctx context.Context) tea.Msg {
		snap, err := src.Snapshot(ctx)
		if err != nil {
			return pollMsg{err: err}
		}
		ping, perr := src.Ping(ctx)
		return pollMsg{snap: snap, ping: ping, pingErr: perr}
	})
}

func (m *Model) polled(msg pollMsg) tea.Cmd {
	m.polling = false
	now := m.cfg.Now()
	if msg.err != nil {
		if !m.down {
			m.downSince = now
		}
		m.down, m.downErr = true, msg.err
		m.st.down = m.st.hasSnap
		return nil
	}
	wasDown := m.down
	m.down, m.downErr, m.st.down = false, nil, false
	m.lastOK = now
	r := inspect.Rates(m.st.snap, msg.snap)
	if !r.SinceStart {
		hit := nan
		if r.HitRateOK {
			hit = r.HitRate
		}
		m.st.hitHist.add(hit)
		m.st.opsHist.add(r.OpsPerSec)
	}
	m.st.snap, m.st.rate, m.st.hasSnap = msg.snap, r, true
	m.st.ping, m.st.pingOK = msg.ping, msg.pingErr == nil
	m.sinceGroups++
	if wasDown || r.Reset {
		// Redis came back, maybe emptied: count again now.
		m.sinceGroups = m.cfg.GroupEvery
	}
	return m.maybeCount()
}

var nan = func() float64 { var z float64; return z / z }()

// maybeCount starts a group count when one is due: an exact one when asked
// (r) or at start on a small database, an estimate every GroupEvery readings.
func (m *Model) maybeCount() tea.Cmd {
	if m.counting || m.down || !m.st.hasSnap {
		return nil
	}
	first := m.st.groups == nil && m.st.groupsErr == nil
	exact := m.wantExact || first && m.st.snap.Keys(m.cfg.DB) <= m.cfg.ExactBelow
	if !exact && !first && (m.paused || m.sinceGroups < m.cfg.GroupEvery) {
		return nil
	}
	m.counting, m.wantExact, m.sinceGroups = true, false, 0
	m.st.counting, m.st.countingExact = true, exact
	src, base, timeout := m.cfg.Source, m.cfg.Context, m.cfg.Timeout
	if exact {
		timeout = m.cfg.ExactTimeout
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		gs, err := src.Groups(ctx, exact)
		return groupsMsg{groups: gs, exact: exact, err: err}
	}
}

func (m *Model) counted(msg groupsMsg) tea.Cmd {
	m.counting, m.st.counting = false, false
	if msg.err != nil {
		m.st.groupsErr = msg.err
	} else {
		m.st.groupsErr = nil
		m.st.groups = m.withPerKey(msg.groups)
		m.st.groupsAt = m.cfg.Now()
	}
	if m.wantExact {
		return m.maybeCount()
	}
	return nil
}

// withPerKey remembers what exact counts measured per key and gives
// estimates the TTL and memory that follow from it.
func (m *Model) withPerKey(gs []Group) []Group {
	out := make([]Group, len(gs))
	for i, g := range gs {
		pk, seen := m.st.perKey[g.Name]
		if g.TTLKnown || g.MemoryKnown {
			pk = perKey{ttl: g.AvgTTL, ttlKnown: g.TTLKnown, memKnown: g.MemoryKnown}
			if g.Keys > 0 {
				pk.bytes = float64(g.Memory) / float64(g.Keys)
			}
			m.st.perKey[g.Name] = pk
		} else if seen {
			g.AvgTTL, g.TTLKnown = pk.ttl, pk.ttlKnown
			g.Memory, g.MemoryKnown = int64(pk.bytes*float64(g.Keys)), pk.memKnown
		}
		out[i] = g
	}
	return out
}

func (m *Model) fetchApp() tea.Cmd {
	src := m.cfg.App
	return m.timed(m.cfg.Timeout, func(ctx context.Context) tea.Msg {
		s, err := src.App(ctx)
		return appMsg{stats: s, err: err}
	})
}

func (m *Model) appFetched(msg appMsg) {
	a := &m.st.app
	if msg.err != nil {
		*a = appState{}
		return
	}
	now := m.cfg.Now()
	if a.ok {
		a.prev, a.hasPrev = a.cur, true
		a.secs = now.Sub(m.appTime).Seconds()
	}
	a.cur, a.ok = msg.stats, true
	m.appTime = now
}

// panels lists the visible panels in focus order.
func (m *Model) panels() []panel {
	ps := []panel{m.server, m.clients, m.memory, m.hitRate, m.ops, m.keyspace}
	if m.st.app.ok {
		ps = append(ps, m.app)
	}
	return ps
}

// View draws the whole screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "cachectl top"
	return v
}

func (m *Model) size() (int, int) {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return 80, 24
	}
	return w, h
}

func (m *Model) render() string {
	w, h := m.size()
	bodyH := max(h-2, 0)
	var body string
	switch {
	case m.showHelp:
		body = m.st.styles.frame("help", m.helpLines(w-2), w, bodyH, true, false)
	case m.down && inspect.NotPermitted(m.downErr):
		body = m.st.styles.frame("not permitted", messageLines(m.nopermText(), w-4), w, bodyH, true, false)
	case m.screen == screenDetail:
		body = m.st.styles.frame("group "+m.detail.group+" · details", m.detailLines(w-2), w, bodyH, true, false)
	case m.screen == screenDryRun:
		body = m.st.styles.frame("dry run · clear group "+m.detail.group, m.dryRunLines(w-2), w, bodyH, true, false)
	default:
		body = m.layout(w, bodyH)
	}
	lines := append([]string{m.header(w)}, strings.Split(body, "\n")...)
	lines = append(lines, m.footer(w))
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = fit(l, w)
	}
	return strings.Join(lines, "\n")
}

func (m *Model) header(w int) string {
	s := m.st.styles
	left := s.Header.Render("cachectl top") + " " + m.cfg.Addr
	var right string
	switch {
	case m.down && inspect.NotPermitted(m.downErr):
		right = s.Bad.Render("INFO not permitted, retrying")
	case m.down:
		right = s.Bad.Render("disconnected, retrying")
		if m.st.hasSnap {
			right += " · last data " + m.lastOK.Format("15:04:05")
		}
	case !m.st.hasSnap:
		right = "connecting…"
	case m.paused:
		right = s.Warn.Render("paused") + " · " + m.lastOK.Format("15:04:05")
	default:
		right = s.Good.Render("live") + " · every " + m.cfg.Interval.String() + " · " + m.lastOK.Format("15:04:05")
	}
	if m.st.filter != "" {
		right = s.Warn.Render("filter "+strconv.Quote(m.st.filter)) + " · " + right
	}
	if ansi.StringWidth(left)+ansi.StringWidth(right) >= w {
		left = m.cfg.Addr
	}
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return fit(left+" "+right, w)
	}
	return left + strings.Repeat(" ", gap) + right
}

// footer is the keys, or while Redis is away, why.
func (m *Model) footer(w int) string {
	switch {
	case m.filtering:
		keys := m.help.ShortHelpView(m.keys.filterHelp())
		m.filter.SetWidth(max(w-ansi.StringWidth(keys)-4, 10))
		return fit(m.filter.View()+"  "+keys, w)
	case m.down && !inspect.NotPermitted(m.downErr):
		return fit(m.st.styles.Bad.Render("✗ ")+reason(m.downErr)+m.st.styles.Help.Render(" · q quit"), w)
	case m.screen != screenPanels && !m.showHelp:
		return fit(m.help.ShortHelpView(m.keys.viewHelp()), w)
	}
	return fit(m.help.ShortHelpView(m.keys.ShortHelp()), w)
}

// reason is the last line of an error's cause, short enough for the header.
func reason(err error) string {
	if err == nil {
		return ""
	}
	var ne *inspect.NodeError
	if errors.As(err, &ne) {
		return ne.Addr + ": " + ne.Err.Error()
	}
	return err.Error()
}

func (m *Model) nopermText() string {
	return "redis at " + m.cfg.Addr + " does not allow INFO for this user (NOPERM).\n\n" +
		"hint: grant it with ACL SETUSER <user> +info, or connect as a user that has it (--user).\n\n" +
		"Trying again every " + min(m.cfg.Interval, inspect.RetryEvery).String() + "; q quits."
}

func (m *Model) helpLines(w int) []string {
	h := m.help
	h.SetWidth(w)
	text := h.FullHelpView(m.keys.FullHelp()) + "\n\n" +
		"INFO is read every interval; keys by group are estimated every " +
		strconv.Itoa(m.cfg.GroupEvery) + " readings by sampling RANDOMKEY (~ marks an estimate, ±95% its margin), " +
		"and counted exactly with SCAN at start on a small database or when you press r.\n" +
		"The hit rate is keyspace_hits / (hits + misses): per interval, and since the server started.\n" +
		"With --api, the app panel shows the application's own hit rate per group from its /metrics " +
		"(a bypass, served from the database while Redis is away, counts as a miss).\n" +
		"/ narrows the groups to those whose name holds what you type; enter on a group surveys it " +
		"(its biggest keys and a TTL histogram), d counts what clearing it would delete and prints " +
		"the cachectl clear command line to run. Nothing is deleted from inside top.\n\n" +
		"Press ? or esc to go back."
	return messageLines(text, w-2)
}

// layout places the panels: three across on top (server, clients, memory),
// the two sparklines, then the keyspace (and the application) below.
func (m *Model) layout(w, h int) string {
	ps := m.panels()
	for i, p := range ps {
		p.SetFocused(i == m.focus%len(ps))
	}
	r1 := min(7, h/3)
	r2 := min(max((h-r1)*2/5, 5), 16)
	r3 := max(h-r1-r2, 0)
	c1, c2 := w*3/8, w/4
	m.server.SetSize(c1, r1)
	m.clients.SetSize(c2, r1)
	m.memory.SetSize(w-c1-c2, r1)
	m.hitRate.SetSize(w/2, r2)
	m.ops.SetSize(w-w/2, r2)
	rows := []string{
		joinH(m.server.View(), m.clients.View(), m.memory.View()),
		joinH(m.hitRate.View(), m.ops.View()),
	}
	if m.st.app.ok {
		kw := w * 3 / 5
		m.keyspace.SetSize(kw, r3)
		m.app.SetSize(w-kw, r3)
		rows = append(rows, joinH(m.keyspace.View(), m.app.View()))
	} else {
		m.keyspace.SetSize(w, r3)
		rows = append(rows, m.keyspace.View())
	}
	var out []string
	for _, r := range rows {
		if r != "" {
			out = append(out, r)
		}
	}
	return strings.Join(out, "\n")
}

// joinH puts boxes of equal height side by side.
func joinH(boxes ...string) string {
	var cols [][]string
	n := 0
	for _, b := range boxes {
		if b == "" {
			continue
		}
		l := strings.Split(b, "\n")
		n = max(n, len(l))
		cols = append(cols, l)
	}
	out := make([]string, n)
	for i := range n {
		var b strings.Builder
		for _, c := range cols {
			if i < len(c) {
				b.WriteString(c[i])
			}
		}
		out[i] = b.String()
	}
	return strings.Join(out, "\n")
}
