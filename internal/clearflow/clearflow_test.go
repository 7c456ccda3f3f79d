package clearflow

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

func TestSelectOrdersTargetsAndRefusesNonsense(t *testing.T) {
	yes := true
	s := keyspace.New("ecommerce", 1)
	cases := []struct {
		name string
		t    Targets
		want []string // nil: refused
	}{
		{"flags in registry order", Targets{Flagged: map[string]*bool{"colors": &yes, "products": &yes}}, []string{"products", "colors"}},
		{"ids first, all last", Targets{All: true, ProductIDs: []string{" 5"}, Groups: []string{"categories"}}, []string{"product:5", "categories", "all"}},
		{"pattern", Targets{Patterns: []string{"products:list:*"}}, []string{"pattern:products:list:*"}},
		{"nothing", Targets{}, nil},
		{"cascade alone", Targets{Cascade: true, Groups: []string{"products"}}, nil},
		{"bad id", Targets{ProductIDs: []string{"1x"}}, nil},
		{"match all", Targets{Patterns: []string{"*"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := tc.t.Select(s)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("selected %q, want a refusal", sel.Names())
				}
				return
			}
			if err != nil || !slices.Equal(sel.Names(), tc.want) {
				t.Errorf("selected %q (%v), want %q", sel.Names(), err, tc.want)
			}
		})
	}
	if _, err := (Targets{ProductIDs: []string{"x"}}).Select(s); !errors.Is(err, keyspace.ErrInvalidID) {
		t.Errorf("bad id: %v, want keyspace.ErrInvalidID", err)
	}
	if _, err := (Targets{}).Select(s); !errors.As(err, new(*option.Error)) || !strings.Contains(err.Error(), "--url URL") {
		t.Errorf("no target: %v, want an *option.Error naming every target flag", err)
	}
}

func TestSelectsKnowsTheSelectionFlags(t *testing.T) {
	for _, name := range []string{"all", "products", "product-id", "pattern", "cascade", "old-versions", "ttl-below"} {
		if !Selects(name) {
			t.Errorf("Selects(%q) = false", name)
		}
	}
	for _, name := range []string{"yes", "count", "plan", "dry-run"} {
		if Selects(name) {
			t.Errorf("Selects(%q) = true", name)
		}
	}
}

func TestCheckRefusesWhatDoesNotGoTogether(t *testing.T) {
	cases := []struct {
		name    string
		o       Options
		changed []string
		want    string // "" for accepted
	}{
		{"url and a group", Options{URLs: []string{"/x"}}, []string{"url", "products"}, "drop --products"},
		{"url and count", Options{URLs: []string{"/x"}}, []string{"url", "count"}, "--count tunes a SCAN"},
		{"rewarm without url", Options{Rewarm: true}, nil, "--rewarm goes with --url"},
		{"rewarm dry run", Options{URLs: []string{"/x"}, Rewarm: true}, []string{"dry-run"}, "--dry-run does not do"},
		{"plan and apply", Options{Plan: "a", Apply: "b"}, nil, "exclude each other"},
		{"drift without apply", Options{AllowDrift: 1}, []string{"allow-drift"}, "--allow-drift goes with --apply"},
		{"apply with a target", Options{Apply: "p", Asked: []string{"--products=true"}}, nil, "drop --products"},
		{"apply dry run", Options{Apply: "p"}, []string{"dry-run"}, "the plan was the dry run"},
		{"url with plan", Options{URLs: []string{"/x"}, Plan: "p"}, nil, "--url deletes a URL's keys by name"},
		{"zero batch", Options{ClearConfig: keyspace.ClearConfig{Count: 1}}, nil, "--batch"},
		{"fine", Options{ClearConfig: keyspace.ClearConfig{Count: 1, Batch: 1}}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.Count == 0 && tc.want != "--batch" {
				tc.o.Count, tc.o.Batch = keyspace.DefaultScanCount, keyspace.DefaultBatch
			}
			err := tc.o.Check(func(f string) bool { return slices.Contains(tc.changed, f) })
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, new(*option.Error))):
				t.Errorf("got %v, want an *option.Error with %q", err, tc.want)
			}
		})
	}
}

func TestCheckTakesGentleSizesWithPause(t *testing.T) {
	o := Options{ClearConfig: keyspace.ClearConfig{Count: 1000, Batch: 500, Pause: time.Millisecond}}
	if err := o.Check(func(f string) bool { return f == "batch" }); err != nil {
		t.Fatal(err)
	}
	if o.Count != GentleCount || o.Batch != 500 {
		t.Errorf("count %d batch %d, want %d and the given 500", o.Count, o.Batch, GentleCount)
	}
}

func TestGateCountsOnlyWhenItMust(t *testing.T) {
	cases := []struct {
		g    Gate
		want bool
	}{
		{Gate{DryRun: true, MaxKeys: 5}, false},
		{Gate{Yes: true}, false},
		{Gate{Yes: true, MaxKeys: 5}, true},
		{Gate{CanPrompt: true}, true},
		{Gate{}, true}, // to refuse with the count
	}
	for _, tc := range cases {
		if got := tc.g.NeedsCount(); got != tc.want {
			t.Errorf("%+v: NeedsCount %v, want %v", tc.g, got, tc.want)
		}
	}
}

func TestGateRefusesAsksOrPasses(t *testing.T) {
	sel := keyspace.Selection{{Name: "products"}, {Name: "colors"}}
	answer := func(ok bool) func([]int64, int64) (bool, error) {
		return func([]int64, int64) (bool, error) { return ok, nil }
	}
	cases := []struct {
		name   string
		g      Gate
		counts []int64
		ask    bool
		want   string // "" passes; an error's text otherwise
		hint   string
	}{
		{"nothing", Gate{CanPrompt: true}, []int64{0, 0}, true, ErrNothingToClear.Error(), ""},
		{"over max keys", Gate{Yes: true, MaxKeys: 2, Where: "h db 0"}, []int64{2, 1}, true,
			"refusing to delete 3 keys (products: 2, colors: 1) from h db 0: more than --max-keys 2", "narrow the selection"},
		{"yes", Gate{Yes: true}, []int64{2, 1}, false, "", ""},
		{"asked, yes", Gate{CanPrompt: true}, []int64{2, 1}, true, "", ""},
		{"asked, no", Gate{CanPrompt: true}, []int64{2, 1}, false, ErrNotConfirmed.Error(), ""},
		{"no terminal", Gate{Where: "h db 0"}, []int64{1, 0}, true,
			"refusing to delete 1 keys (products: 1, colors: 0) from h db 0 without confirmation: no terminal to ask on", "add --yes to delete them, or --dry-run"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.g.Counted(sel, tc.counts, answer(tc.ask))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			var r *Refusal
			if tc.hint != "" && (!errors.As(err, &r) || !strings.HasPrefix(r.Hint(), tc.hint) || !errors.As(err, new(*option.Error))) {
				t.Errorf("%v: want a usage refusal hinting %q", err, tc.hint)
			}
		})
	}
}

func TestConfirmApplyHintsWithoutDryRun(t *testing.T) {
	confirm := Gate{Where: "h db 0"}.ConfirmApply(func(keyspace.Drift) (bool, error) { return true, nil })
	if err := confirm(0, keyspace.Drift{}); err != nil {
		t.Errorf("an empty plan: %v, want it to pass", err)
	}
	var r *Refusal
	if err := confirm(3, keyspace.Drift{}); !errors.As(err, &r) || r.Hint() != "add --yes to delete them" || !strings.Contains(err.Error(), "3 keys (the plan's keys)") {
		t.Errorf("no terminal: %v, want a refusal of the plan's 3 keys", err)
	}
}

func TestConfirmURLsShowsTheDistinctLogicalKeys(t *testing.T) {
	urls := []observe.URLKeys{
		{URL: "/api/colors/", Keys: []observe.URLKey{{Key: "ecommerce:1:product_colors:all"}}},
		{URL: "/api/colors/?x=1", Keys: []observe.URLKey{{Key: "ecommerce:1:product_colors:all"}, {Key: "ecommerce:1:categories:all"}}},
	}
	var shown []string
	confirm := Gate{CanPrompt: true}.ConfirmURLs("ecommerce:1:", func(keys []string) (bool, error) { shown = keys; return true, nil })
	if ok, err := confirm(urls); !ok || err != nil || !slices.Equal(shown, []string{"product_colors:all", "categories:all"}) {
		t.Errorf("confirm = %v, %v, showing %q; want yes for the two distinct keys", ok, err, shown)
	}
	var r *Refusal
	ok, err := Gate{Where: "h db 0"}.ConfirmURLs("ecommerce:1:", nil)(urls)
	if ok || !errors.As(err, &r) || !strings.Contains(err.Error(), "2 keys (product_colors:all, categories:all)") {
		t.Errorf("no terminal: %v, %v; want a refusal naming both keys", ok, err)
	}
}
