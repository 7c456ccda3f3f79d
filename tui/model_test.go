package tui

import (
	"context"
	"errors"
	"flag"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cachectl/cachectl/inspect"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeRedis is a Redis that serves 100 commands, 30 hits and 10 misses a
// second, and can be taken away.
type fakeRedis struct {
	mu          sync.Mutex
	now         time.Time
	err         error
	groupCalls  []bool // the exact flag of each Groups call
	groupsErr   error
	extraKeys   int64
	pingLatency time.Duration
	detailCalls []string // the group of each Detail call
	countCalls  []string // the group of each Count call
	nodes       []NodeKeys
}

func (f *fakeRedis) Detail(_ context.Context, group string) (GroupDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.detailCalls = append(f.detailCalls, group)
	return GroupDetail{
		Name: group, Keys: 21 + f.extraKeys, Sampled: 21, Memory: 9000, MemoryKnown: true,
		TTLP50: 14 * time.Minute, TTLP90: 28 * time.Minute, TTLKnown: true, NoTTL: 2, ExpiringSoon: 0.05,
		Soon: time.Minute, TTLExact: true,
		Histogram: []TTLBucket{{-1, 2}, {10 * time.Second, 0}, {time.Minute, 1}, {5 * time.Minute, 0},
			{15 * time.Minute, 10}, {30 * time.Minute, 8}, {time.Hour, 0}, {TTLOver, 0}},
		Biggest: []KeySize{{"ecommerce:1:" + group + ":big", 102400}, {"ecommerce:1:" + group + ":1", 300}},
		Nodes:   f.nodes,
	}, nil
}

func (f *fakeRedis) Count(_ context.Context, group string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.countCalls = append(f.countCalls, group)
	return 21 + f.extraKeys, nil
}

func (f *fakeRedis) Snapshot(context.Context) (inspect.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return inspect.Snapshot{}, f.err
	}
	secs := int64(f.now.Sub(t0)/time.Second) + 3600
	return inspect.Snapshot{
		Addr: "127.0.0.1:6379", Time: f.now, Took: 180 * time.Microsecond, RunID: "abc",
		Version: "7.2.4", Role: "master", UptimeS: secs, Clients: 3,
		Memory: inspect.Memory{Used: 60 << 20, Peak: 70 << 20, Max: 100 << 20, RSS: 66 << 20, Policy: "allkeys-lru", Fragmentation: 1.1},
		DBs:    map[int]inspect.DB{0: {Index: 0, Keys: 25 + f.extraKeys, Expires: 24, AvgTTLMs: 600000}},
		// Wavy but never decreasing, so the sparklines have a shape.
		Hits: 30*secs + 10*(secs%3), Misses: 10 * secs, Evicted: secs / 10, Expired: secs,
		Commands: 100*secs + 20*(secs%5), NetInBytes: 4096 * secs, NetOutBytes: 10240 * secs,
	}, nil
}

func (f *fakeRedis) Ping(context.Context) (time.Duration, error) { return f.pingLatency, nil }

func (f *fakeRedis) Groups(_ context.Context, exact bool) ([]Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groupCalls = append(f.groupCalls, exact)
	if f.groupsErr != nil {
		return nil, f.groupsErr
	}
	gc := func(name string, n int64) Group {
		g := Group{GroupCount: inspect.GroupCount{Name: name, Keys: n, Exact: exact}}
		if exact {
			g.AvgTTL, g.TTLKnown = 12*time.Minute, true
			g.Memory, g.MemoryKnown = n*200, true
		} else {
			g.Margin, g.Samples = 3, 10000
		}
		return g
	}
	return []Group{gc("products", 21+f.extraKeys), gc("categories", 2), gc("colors", 1)}, nil
}

type fakeApp struct {
	mu    sync.Mutex
	calls int
	err   error
}

func (a *fakeApp) App(context.Context) (AppStats, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return AppStats{}, a.err
	}
	a.calls++
	n := float64(a.calls)
	return AppStats{Groups: map[string]AppGroup{
		"products":   {Hits: 90 * n, Misses: 10 * n},
		"categories": {Hits: 50 * n},
	}}, nil
}

// harness drives a Model as the program would, synchronously: commands run
// at once, ticks are recorded instead of waited for.
type harness struct {
	t     *testing.T
	m     *Model
	redis *fakeRedis
	app   *fakeApp
	ticks []time.Duration
	quit  bool
}

func newHarness(t *testing.T, withApp bool) *harness { return newColorHarness(t, withApp, false) }

// newColorHarness is newHarness with colour when color is set.
func newColorHarness(t *testing.T, withApp, color bool) *harness {
	h := &harness{t: t, redis: &fakeRedis{now: t0, pingLatency: 250 * time.Microsecond}}
	cfg := Config{Source: h.redis, Detail: h.redis, Addr: "redis://127.0.0.1:6379/0", NoColor: !color,
		ClearArgs: []string{"--redis", "redis://127.0.0.1:6379/0", "--prefix", "shop"},
		Now:       func() time.Time { h.redis.mu.Lock(); defer h.redis.mu.Unlock(); return h.redis.now }}
	if withApp {
		h.app = &fakeApp{}
		cfg.App = h.app
	}
	h.m = New(cfg)
	h.m.after = func(d time.Duration, msg tea.Msg) tea.Cmd {
		h.ticks = append(h.ticks, d)
		return nil
	}
	h.run(h.m.Init())
	return h
}

func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	case tea.QuitMsg:
		h.quit = true
	default:
		h.send(msg)
	}
}

func (h *harness) send(msg tea.Msg) {
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

// tick advances the clock by one second and delivers the tick.
func (h *harness) tick() {
	h.redis.mu.Lock()
	h.redis.now = h.redis.now.Add(time.Second)
	h.redis.mu.Unlock()
	h.send(tickMsg{})
}

func (h *harness) press(k string) {
	var msg tea.KeyPressMsg
	switch k {
	case "tab":
		msg = tea.KeyPressMsg{Code: tea.KeyTab}
	case "ctrl+c":
		msg = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "enter":
		msg = tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		msg = tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		msg = tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		msg = tea.KeyPressMsg{Code: tea.KeyDown}
	case "backspace":
		msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
	default:
		msg = tea.KeyPressMsg{Code: rune(k[0]), Text: k}
	}
	h.send(msg)
}

func (h *harness) screen() string { return ansi.Strip(h.m.View().Content) }

func (h *harness) wantScreen(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			h.t.Errorf("screen lacks %q:\n%s", w, s)
		}
	}
}

func (h *harness) notOnScreen(unwanted ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range unwanted {
		if strings.Contains(s, w) {
			h.t.Errorf("screen shows %q:\n%s", w, s)
		}
	}
}

func (h *harness) size(w, ht int) { h.send(tea.WindowSizeMsg{Width: w, Height: ht}) }

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./tui -update rewrites it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// The rendered dashboard, colour stripped, at the two sizes people use.
func TestGoldenDashboard(t *testing.T) {
	for _, tt := range []struct {
		name    string
		w, h    int
		withApp bool
	}{
		{"dashboard_80x24", 80, 24, false},
		{"dashboard_160x48", 160, 48, true},
		{"dashboard_app_80x24", 80, 24, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.withApp)
			h.size(tt.w, tt.h)
			for range 12 {
				h.tick()
			}
			got := h.screen()
			lines := strings.Split(got, "\n")
			if len(lines) != tt.h {
				t.Errorf("%d lines, want %d", len(lines), tt.h)
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w != tt.w {
					t.Errorf("line %d is %d cells wide, want %d: %q", i, w, tt.w, l)
				}
			}
			golden(t, tt.name, got)
		})
	}
}

// The dashboard in colour, on a dark and on a light terminal as it answers
// the background query: values are bright white only on the dark one.
func TestGoldenColors(t *testing.T) {
	for _, tt := range []struct {
		name       string
		background color.Color
	}{
		{"dashboard_dark_80x24", color.Black},
		{"dashboard_light_80x24", color.White},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newColorHarness(t, true, true)
			h.send(tea.BackgroundColorMsg{Color: tt.background})
			h.size(80, 24)
			for range 12 {
				h.tick()
			}
			got := h.m.View().Content
			if ansi.Strip(got) != ansi.Strip(newGoldenScreen(t)) {
				t.Errorf("the colours change the layout:\n%s", ansi.Strip(got))
			}
			brightWhite := slices.Contains(sgrParams(got), "97")
			if dark := tt.background == color.Black; brightWhite != dark {
				t.Errorf("bright white on screen: %v, want %v on this background", brightWhite, dark)
			}
			golden(t, tt.name, got)
		})
	}
}

// newGoldenScreen is the colourless screen TestGoldenColors compares with.
func newGoldenScreen(t *testing.T) string {
	h := newHarness(t, true)
	h.size(80, 24)
	for range 12 {
		h.tick()
	}
	return h.screen()
}

// sgrParams lists the parameters of every SGR sequence in s.
func sgrParams(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\x1b\[([0-9;:]*)m`).FindAllStringSubmatch(s, -1) {
		out = append(out, strings.Split(m[1], ";")...)
	}
	return out
}

func TestGoldenDisconnected(t *testing.T) {
	h := newHarness(t, false)
	h.size(80, 24)
	for range 3 {
		h.tick()
	}
	h.redis.mu.Lock()
	h.redis.err = &inspect.NodeError{Addr: "127.0.0.1:6379", Op: "INFO", Err: errors.New("connection refused")}
	h.redis.mu.Unlock()
	h.tick()
	golden(t, "disconnected_80x24", h.screen())
}

func TestFirstScreenShowsDataAndCountsSmallDatabaseExactly(t *testing.T) {
	h := newHarness(t, false)
	h.wantScreen("cachectl top", "redis://127.0.0.1:6379/0", "7.2.4 master", "01:00:00", "standalone",
		"clients 3", "250µs", "60M of 100M", "allkeys-lru", "lifetime 75.0%",
		"keyspace by group · exact", "products", "12m")
	if len(h.redis.groupCalls) != 1 || !h.redis.groupCalls[0] {
		t.Errorf("group counts %v, want one exact count at start on a 25-key database", h.redis.groupCalls)
	}
	if len(h.ticks) != 1 || h.ticks[0] != time.Second {
		t.Errorf("ticks armed %v, want one of 1s", h.ticks)
	}
}

// Every tick reads INFO (and re-arms the tick); the groups are estimated
// only every GroupEvery readings.
func TestTicksReadInfoAndEstimateGroupsRarely(t *testing.T) {
	h := newHarness(t, false)
	for range 25 {
		h.tick()
	}
	if len(h.ticks) != 26 {
		t.Errorf("%d ticks armed after 25 handled, want 26", len(h.ticks))
	}
	want := []bool{true, false, false}
	if len(h.redis.groupCalls) != len(want) {
		t.Fatalf("group counts %v, want %v", h.redis.groupCalls, want)
	}
	for i := range want {
		if h.redis.groupCalls[i] != want[i] {
			t.Fatalf("group counts %v, want %v", h.redis.groupCalls, want)
		}
	}
	h.wantScreen("interval 80.0%", "hits 40/s", "misses 10/s", "now 20 ",
		"keyspace by group · ~ estimate", "~21", "±3", "~4.1K")
}

func TestKeys(t *testing.T) {
	h := newHarness(t, false)
	h.tick()

	// r: an exact recount now, whatever the schedule.
	h.press("r")
	if n := len(h.redis.groupCalls); n != 2 || !h.redis.groupCalls[1] {
		t.Errorf("after r, group counts %v, want a second, exact one", h.redis.groupCalls)
	}

	// p: no reading while paused; the screen says so.
	h.press("p")
	h.redis.mu.Lock()
	h.redis.extraKeys = 5
	h.redis.mu.Unlock()
	h.tick()
	h.wantScreen("paused")
	h.notOnScreen("30 keys")
	h.press("p")
	h.tick()
	h.wantScreen("live", "db0 30 keys")

	// ?: help, and back.
	h.press("?")
	h.wantScreen("help", "r recount", "RANDOMKEY")
	h.notOnScreen("ops/s")
	h.press("?")
	h.wantScreen("ops/s")

	// tab moves the focus from panel to panel, and round.
	if h.m.focus != 0 {
		t.Fatalf("focus %d at start", h.m.focus)
	}
	h.press("tab")
	h.press("tab")
	if h.m.focus != 2 {
		t.Errorf("focus %d after two tabs, want 2", h.m.focus)
	}
	for range 4 {
		h.press("tab")
	}
	if h.m.focus != 0 {
		t.Errorf("focus %d after going round six panels, want 0", h.m.focus)
	}

	// q quits, and so does ctrl+c.
	h.press("q")
	if !h.quit {
		t.Error("q did not quit")
	}
	h2 := newHarness(t, false)
	h2.press("ctrl+c")
	if !h2.quit {
		t.Error("ctrl+c did not quit")
	}
}

func TestResize(t *testing.T) {
	h := newHarness(t, true)
	for range 3 {
		h.tick()
	}
	for _, sz := range [][2]int{{80, 24}, {160, 48}, {100, 30}, {60, 15}, {200, 60}} {
		h.size(sz[0], sz[1])
		lines := strings.Split(h.screen(), "\n")
		if len(lines) != sz[1] {
			t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w != sz[0] {
				t.Errorf("%dx%d: line %d is %d wide", sz[0], sz[1], i, w)
			}
		}
	}
}

// When Redis goes away the last data stays, marked stale, the header says
// "disconnected, retrying", retries come at least every 2 s even with a
// longer interval, and the dashboard recovers by itself.
func TestDisconnectAndRecover(t *testing.T) {
	h := newHarness(t, false)
	h.m.cfg.Interval = 5 * time.Second
	h.tick()
	h.tick()
	h.redis.mu.Lock()
	h.redis.err = &inspect.NodeError{Addr: "127.0.0.1:6379", Op: "INFO", Err: errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")}
	h.redis.mu.Unlock()
	h.tick()
	h.wantScreen("disconnected, retrying", "connection refused", "last data 12:00:02", "hit rate · stale", "7.2.4 master")
	armed := len(h.ticks)
	h.tick()
	if got := h.ticks[len(h.ticks)-1]; got != inspect.RetryEvery || len(h.ticks) != armed+1 {
		t.Errorf("while disconnected the next try is in %s, want %s", got, inspect.RetryEvery)
	}
	calls := len(h.redis.groupCalls)
	h.redis.mu.Lock()
	h.redis.err = nil
	h.redis.extraKeys = 7
	h.redis.mu.Unlock()
	h.tick()
	h.notOnScreen("disconnected", "stale")
	h.wantScreen("live", "db0 32 keys")
	if len(h.redis.groupCalls) != calls+1 {
		t.Errorf("no group count right after the recovery: %v", h.redis.groupCalls)
	}
	h.tick()
	if got := h.ticks[len(h.ticks)-1]; got != 5*time.Second {
		t.Errorf("after recovery the next reading is in %s, want the interval", got)
	}
}

// An ACL user without INFO sees what is wrong and how to fix it.
func TestNotPermitted(t *testing.T) {
	h := newHarness(t, false)
	h.redis.mu.Lock()
	h.redis.err = &inspect.NodeError{Addr: "127.0.0.1:6379", Op: "INFO", Err: errNoPerm{}}
	h.redis.mu.Unlock()
	h.tick()
	h.wantScreen("INFO not permitted", "NOPERM", "ACL SETUSER")
	h.notOnScreen("disconnected, retrying")
}

type errNoPerm struct{}

func (errNoPerm) Error() string {
	return "NOPERM this user has no permissions to run the 'info' command"
}

// inspect.NotPermitted recognises go-redis's error type; the fake wraps the
// sentinel directly.
func (errNoPerm) Is(target error) bool { return target == inspect.ErrNotPermitted }

// The app panel appears with the application, shows its hit rate per group,
// and goes away when the application does.
func TestAppPanel(t *testing.T) {
	h := newHarness(t, true)
	h.size(160, 48)
	h.tick()
	h.wantScreen("app hit rate", "products", "90.0%", "categories", "100.0%", "100")
	h.app.mu.Lock()
	h.app.err = errors.New("connection refused")
	h.app.mu.Unlock()
	h.tick()
	h.notOnScreen("app hit rate")
	if h.m.focus >= len(h.m.panels()) {
		t.Errorf("focus %d beyond %d panels", h.m.focus, len(h.m.panels()))
	}

	h2 := newHarness(t, false)
	h2.size(160, 48)
	h2.notOnScreen("app hit rate")
}
