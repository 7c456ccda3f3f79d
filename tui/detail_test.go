package tui

import (
	"image/color"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func (h *harness) typeText(s string) {
	for _, r := range s {
		h.press(string(r))
	}
}

// groupRows are the names of the rows of the keyspace panel, in order.
func (h *harness) groupRows() []string {
	var out []string
	for _, l := range strings.Split(h.screen(), "\n") {
		for _, name := range []string{"products", "categories", "colors", "other"} {
			if strings.HasPrefix(l, "│  "+name+" ") || strings.HasPrefix(l, "│▸ "+name+" ") {
				out = append(out, name)
			}
		}
	}
	return out
}

// / narrows the groups live, in any case; q typed into the filter is a
// letter, not quit; enter keeps the filter (the header shows it), esc
// drops it.
func TestFilterNarrowsGroupsLive(t *testing.T) {
	h := newHarness(t, false)
	h.size(100, 30)
	if got := h.groupRows(); !slices.Equal(got, []string{"products", "categories", "colors", "other"}) {
		t.Fatalf("rows %v before filtering", got)
	}
	h.press("/")
	h.typeText("CO")
	if got := h.groupRows(); !slices.Equal(got, []string{"colors"}) {
		t.Errorf("rows %v after typing CO, want colors only", got)
	}
	h.wantScreen(`filter "CO"`, `1 of 3 groups match "CO"`, "enter keep the filter")
	h.press("backspace")
	h.typeText("at")
	if got := h.groupRows(); !slices.Equal(got, []string{"categories"}) {
		t.Errorf("rows %v after typing Cat, want categories only", got)
	}
	h.typeText("q")
	if h.quit {
		t.Fatal("q typed into the filter quit")
	}
	if got := h.groupRows(); len(got) != 0 {
		t.Errorf("rows %v for Catq, want none", got)
	}
	h.press("backspace")
	h.press("enter")
	h.wantScreen(`filter "Cat"`, "categories", "q quit")
	if got := h.groupRows(); !slices.Equal(got, []string{"categories"}) {
		t.Errorf("rows %v after enter, want the filter kept", got)
	}
	// The filter survives a recount.
	h.press("r")
	if got := h.groupRows(); !slices.Equal(got, []string{"categories"}) {
		t.Errorf("rows %v after a recount", got)
	}
	h.press("esc")
	h.notOnScreen(`filter "`)
	if got := h.groupRows(); !slices.Equal(got, []string{"products", "categories", "colors", "other"}) {
		t.Errorf("rows %v after esc, want every group", got)
	}

	// Esc while typing drops what was typed.
	h.press("/")
	h.typeText("prod")
	h.press("esc")
	h.notOnScreen(`filter "`)
	if got := h.groupRows(); len(got) != 4 {
		t.Errorf("rows %v after esc in the input", got)
	}
}

// j/k and the arrows move the selection, which stops at the ends; enter
// surveys the selected group and shows its biggest keys and TTLs; esc
// goes back.
func TestEnterShowsTheSelectedGroup(t *testing.T) {
	h := newHarness(t, false)
	h.wantScreen("▸ products")
	h.press("j")
	h.press("down")
	h.press("down")
	h.wantScreen("▸ colors")
	h.press("k")
	h.wantScreen("▸ categories")
	h.press("up")
	h.press("up")
	h.wantScreen("▸ products")
	h.press("j")
	h.press("enter")
	if !slices.Equal(h.redis.detailCalls, []string{"categories"}) {
		t.Fatalf("surveys %v, want one of categories", h.redis.detailCalls)
	}
	h.wantScreen("group categories · details", "keys 21 exact", "memory ~8.8K estimate", "21 of 21 keys measured",
		"p50 14m", "p90 28m", "no ttl 2", "biggest keys", "~100K  ecommerce:1:categories:big",
		"ttl histogram", "≤15m", "no ttl", "esc back")
	h.notOnScreen("ops/s")
	// r surveys again.
	h.press("r")
	if len(h.redis.detailCalls) != 2 {
		t.Errorf("surveys %v after r, want two", h.redis.detailCalls)
	}
	h.press("esc")
	h.wantScreen("ops/s", "▸ categories")
	h.notOnScreen("· details")
}

// d counts the selected group exactly and prints the clear command line
// to copy; nothing else is asked of Redis.
func TestDryRunShowsCountAndCommand(t *testing.T) {
	h := newHarness(t, false)
	h.size(120, 30)
	h.press("d")
	if !slices.Equal(h.redis.countCalls, []string{"products"}) || len(h.redis.detailCalls) != 0 {
		t.Fatalf("counts %v, surveys %v; want one count of products", h.redis.countCalls, h.redis.detailCalls)
	}
	h.wantScreen("dry run · clear group products", "would delete 21 keys (group products)", "nothing was deleted",
		"cachectl clear --group products --redis redis://127.0.0.1:6379/0 --prefix shop",
		"no password", "never deletes")
	h.press("esc")
	h.wantScreen("ops/s")

	// From the details, d shows the dry run of the same group.
	h.press("j")
	h.press("enter")
	h.press("d")
	h.wantScreen("would delete 21 keys (group categories)", "--group categories")
}

// On a cluster the drill-down has a line per master with its own figures;
// a master whose keys have no expiry shows no median TTL rather than 0s.
func TestEnterShowsEachMaster(t *testing.T) {
	h := newHarness(t, false)
	h.redis.nodes = []NodeKeys{
		{Addr: "10.0.0.1:7000", Keys: 20, Memory: 8000, NoTTL: 1, TTLP50: 14 * time.Minute, TTLKnown: true},
		{Addr: "10.0.0.2:7000", Keys: 1, Memory: 400, NoTTL: 1},
	}
	h.size(120, 40)
	h.press("j")
	h.press("enter")
	h.wantScreen("per master:", "10.0.0.1:7000 keys 20 · memory 7.8K · ttl p50 14m · no ttl 1",
		"10.0.0.2:7000 keys 1 · memory 400B · ttl p50 - · no ttl 1")
}

// Without a way to survey a single group, enter and d say so.
func TestNoDetailSource(t *testing.T) {
	h := newHarness(t, false)
	h.m.cfg.Detail = nil
	h.press("enter")
	h.wantScreen("cannot survey a single group")
	h.press("esc")
	h.press("d")
	h.wantScreen("cannot survey a single group")
}

// ? lists every key binding over any screen; ? or esc closes it.
func TestHelpOverlayListsEveryKey(t *testing.T) {
	h := newHarness(t, false)
	h.size(120, 30)
	for _, open := range [][]string{nil, {"enter"}} {
		for _, k := range open {
			h.press(k)
		}
		h.press("?")
		for _, b := range h.m.keys.FullHelp() {
			for _, k := range b {
				re := regexp.MustCompile(regexp.QuoteMeta(k.Help().Key) + ` +` + regexp.QuoteMeta(k.Help().Desc))
				if !re.MatchString(h.screen()) {
					t.Errorf("help lacks %s %s:\n%s", k.Help().Key, k.Help().Desc, h.screen())
				}
			}
		}
		h.press("esc")
		h.notOnScreen("help ─")
		h.press("?")
		h.press("?")
		h.notOnScreen("esc back, clear the filter")
	}
	h.wantScreen("details")
}

// A long command line is broken between flags, with a backslash at each
// break, so that it pastes as one command; odd values are quoted.
func TestCommandLines(t *testing.T) {
	words := []string{"cachectl", "clear", "--group", "products", "--redis", "redis://u@db.internal:6379/2",
		"--prefix", "my shop", "--cluster", "--key-version", "3"}
	lines := commandLines(words, 50)
	if len(lines) < 3 {
		t.Fatalf("%d lines, want a wrapped command: %q", len(lines), lines)
	}
	for i, l := range lines {
		if len(l) > 50 {
			t.Errorf("line %d is %d wide: %q", i, len(l), l)
		}
		if last := i == len(lines)-1; strings.HasSuffix(l, `\`) == last {
			t.Errorf("line %d: %q (a backslash ends every line but the last)", i, l)
		}
	}
	joined := strings.Join(strings.Fields(strings.ReplaceAll(strings.Join(lines, "\n"), "\\\n", " ")), " ")
	want := "cachectl clear --group products --redis redis://u@db.internal:6379/2 --prefix 'my shop' --cluster --key-version 3"
	if joined != want {
		t.Errorf("the lines paste as\n%s\nwant\n%s", joined, want)
	}
}

// The new screens at 80×24, colour stripped.
func TestGoldenGroupScreens(t *testing.T) {
	for _, tt := range []struct {
		name string
		keys []string
	}{
		{"filter_80x24", []string{"/", "c", "a"}},
		{"detail_80x24", []string{"enter"}},
		{"dryrun_80x24", []string{"d"}},
		{"help_80x24", []string{"?"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, false)
			h.size(80, 24)
			for range 3 {
				h.tick()
			}
			for _, k := range tt.keys {
				h.press(k)
			}
			golden(t, tt.name, h.screen())
		})
	}
}

// The new screens look the same in colour, on a dark and on a light
// terminal, as without: colour changes no cell; values are bright white
// only on the dark one.
func TestGroupScreensInColour(t *testing.T) {
	for _, keys := range [][]string{{"/", "c"}, {"enter"}, {"d"}} {
		plain := newHarness(t, false)
		plain.size(80, 24)
		for _, k := range keys {
			plain.press(k)
		}
		for _, bg := range []color.Color{color.Black, color.White} {
			h := newColorHarness(t, false, true)
			h.send(tea.BackgroundColorMsg{Color: bg})
			h.size(80, 24)
			for _, k := range keys {
				h.press(k)
			}
			got := h.m.View().Content
			if ansi.Strip(got) != plain.screen() {
				t.Errorf("%v on %v: the colours change the screen:\n%s", keys, bg, ansi.Strip(got))
			}
			if brightWhite := slices.Contains(sgrParams(got), "97"); brightWhite != (bg == color.Black) {
				t.Errorf("%v on %v: bright white %v", keys, bg, brightWhite)
			}
		}
	}
}
