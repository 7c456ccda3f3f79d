package keyspace

import (
	"errors"
	"strings"
	"testing"
)

// keys a real deployment holds side by side: the cache's own keys, look-alikes
// and a session that lives under the same prefix.
var sampleKeys = []string{
	"ecommerce:1:categories:all",
	"ecommerce:1:category:7",
	"ecommerce:1:product:1",
	"ecommerce:1:product:1:variants",
	"ecommerce:1:product:1:variants:list",
	"ecommerce:1:product:1:recommendations",
	"ecommerce:1:product:10",
	"ecommerce:1:product:10:variants",
	"ecommerce:1:product:1x",
	"ecommerce:1:products:list:9f86d081",
	"ecommerce:1:products:filters:2c26b46b",
	"ecommerce:1:products:top_sellers",
	"ecommerce:1:products:new_arrivals",
	"ecommerce:1:products:personalized:ab12",
	"ecommerce:1:product_colors:all",
	"ecommerce:1:productivity:1",
	"ecommerce:1:products-old:1",
	"ecommerce:1:Product:1",
	"ecommerce:1:django.contrib.sessions.cache:abc",
	"ecommerce:2:product:1",
	"shop:1:product:1",
	"product:1",
}

func matching(t Target) []string {
	var out []string
	for _, k := range sampleKeys {
		if t.Match(k) {
			out = append(out, k)
		}
	}
	return out
}

func TestGroupsTakeExactlyTheirKeys(t *testing.T) {
	s := New(DefaultPrefix, DefaultVersion)
	tests := []struct {
		group string
		want  []string
	}{
		{GroupProducts, []string{
			"ecommerce:1:product:1", "ecommerce:1:product:1:variants", "ecommerce:1:product:1:variants:list",
			"ecommerce:1:product:1:recommendations", "ecommerce:1:product:10", "ecommerce:1:product:10:variants",
			"ecommerce:1:product:1x", "ecommerce:1:products:list:9f86d081", "ecommerce:1:products:filters:2c26b46b",
			"ecommerce:1:products:top_sellers", "ecommerce:1:products:new_arrivals", "ecommerce:1:products:personalized:ab12",
		}},
		{GroupCategories, []string{"ecommerce:1:categories:all", "ecommerce:1:category:7"}},
		{GroupColors, []string{"ecommerce:1:product_colors:all"}},
	}
	var union []string
	for _, tt := range tests {
		t.Run(tt.group, func(t *testing.T) {
			g, err := s.Group(tt.group)
			if err != nil {
				t.Fatal(err)
			}
			if got := matching(g); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("group %s matches\n%s\nwant\n%s", tt.group, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
		union = append(union, tt.want...)
	}
	all, err := s.Group(GroupAll)
	if err != nil {
		t.Fatal(err)
	}
	got := matching(all)
	if len(got) != len(union) {
		t.Errorf("all matches %d keys, want the union of the groups (%d):\n%s", len(got), len(union), strings.Join(got, "\n"))
	}
	for _, k := range []string{"ecommerce:1:productivity:1", "ecommerce:1:products-old:1", "ecommerce:1:Product:1",
		"ecommerce:1:django.contrib.sessions.cache:abc", "ecommerce:2:product:1", "shop:1:product:1"} {
		if all.Match(k) {
			t.Errorf("all must not reach %q", k)
		}
	}
}

func TestProductTargetNeverReachesLookAlikes(t *testing.T) {
	s := New(DefaultPrefix, DefaultVersion)
	p, err := s.Product(1, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ecommerce:1:product:1", "ecommerce:1:product:1:variants", "ecommerce:1:product:1:variants:list", "ecommerce:1:product:1:recommendations"}
	if got := matching(p); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("product 1 matches %v, want %v", got, want)
	}

	c, err := s.Product(1, true)
	if err != nil {
		t.Fatal(err)
	}
	got := matching(c)
	for _, k := range []string{"ecommerce:1:products:list:9f86d081", "ecommerce:1:products:top_sellers"} {
		if !c.Match(k) {
			t.Errorf("--cascade must add listing %q", k)
		}
	}
	for _, k := range got {
		if strings.Contains(k, "product:10") || strings.Contains(k, "product:1x") || strings.Contains(k, "product_colors") {
			t.Errorf("--cascade reached %q", k)
		}
	}

	for _, id := range []int64{0, -1} {
		if _, err := s.Product(id, false); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Product(%d) error = %v, want ErrInvalidID", id, err)
		}
	}
}

func TestGlobCharactersInPrefixStayLiteral(t *testing.T) {
	for _, prefix := range []string{"shop*", "shop?", "sh[o]p", "shop]", `shop\`, `a*?[]\b`} {
		t.Run(prefix, func(t *testing.T) {
			s := New(prefix, 1)
			g, err := s.Group(GroupProducts)
			if err != nil {
				t.Fatal(err)
			}
			own := prefix + ":1:product:1"
			if !g.Match(own) {
				t.Errorf("%q does not match its own key %q (globs %v)", prefix, own, g.Globs)
			}
			lookalikes := []string{"shopX:1:product:1", "shop:1:product:1", "shopp:1:product:1", "sho:1:product:1",
				"a:1:product:1", "aXYZb:1:product:1", prefix + "x:1:product:1", prefix + ":1:product_colors:all"}
			for _, k := range lookalikes {
				if k != own && g.Match(k) {
					t.Errorf("prefix %q reached %q", prefix, k)
				}
			}
			m, err := Selection{g}.ScanMatch()
			if err != nil {
				t.Fatal(err)
			}
			if !Match(m, own) {
				t.Errorf("SCAN MATCH %q misses %q", m, own)
			}
			for _, k := range lookalikes[:6] {
				if Match(m, k) {
					t.Errorf("SCAN MATCH %q reaches %q outside the prefix", m, k)
				}
			}
		})
	}
}

func TestMatchAllPatternsAreRefused(t *testing.T) {
	s := New(DefaultPrefix, DefaultVersion)
	for _, p := range []string{"", "*", "**", "?*", "*?", "*?*", "[^]*", "*[^]", "*[^]*"} {
		if _, err := s.Pattern(p); !errors.Is(err, ErrMatchAll) {
			t.Errorf("Pattern(%q) error = %v, want ErrMatchAll", p, err)
		}
		if _, err := s.WithGroups([]Group{{Name: "x", Patterns: []string{p}}}); !errors.Is(err, ErrMatchAll) {
			t.Errorf("config group with %q: error = %v, want ErrMatchAll", p, err)
		}
	}
	if _, err := (Selection{}).ScanMatch(); !errors.Is(err, ErrMatchAll) {
		t.Errorf("empty selection: error = %v, want ErrMatchAll", err)
	}
	if _, err := (Selection{{Name: "raw", Globs: []string{"*"}}}).ScanMatch(); !errors.Is(err, ErrMatchAll) {
		t.Errorf("selection without a literal prefix: error = %v, want ErrMatchAll", err)
	}
	// A pattern is applied inside the namespace, so it cannot reach other prefixes.
	p, err := s.Pattern("product:1*")
	if err != nil {
		t.Fatal(err)
	}
	if p.Match("shop:1:product:1") || !p.Match("ecommerce:1:product:10") {
		t.Errorf("pattern globs %v are not confined to the namespace", p.Globs)
	}
}

func TestConfigGroups(t *testing.T) {
	s, err := New(DefaultPrefix, DefaultVersion).WithGroups([]Group{{Name: "search", Patterns: []string{"search:*", "facets:*"}}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Group("search")
	if err != nil {
		t.Fatal(err)
	}
	if !g.Match("ecommerce:1:search:q=shoes") || !g.Match("ecommerce:1:facets:1") || g.Match("ecommerce:1:searches:1") {
		t.Errorf("config group globs %v match the wrong keys", g.Globs)
	}
	all, _ := s.Group(GroupAll)
	if !all.Match("ecommerce:1:search:q=shoes") {
		t.Error("all must include config groups")
	}
	if got := strings.Join(s.GroupNames(), ","); got != "products,categories,colors,search,all" {
		t.Errorf("GroupNames = %s", got)
	}
	for _, bad := range []Group{{Name: "products", Patterns: []string{"p:*"}}, {Name: "all", Patterns: []string{"p:*"}},
		{Name: "Bad Name", Patterns: []string{"p:*"}}, {Name: "empty"}} {
		if _, err := s.WithGroups([]Group{bad}); err == nil {
			t.Errorf("WithGroups(%+v) succeeded, want an error", bad)
		}
	}
	if _, err := s.Group("nope"); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("unknown group error = %v", err)
	}
}

func TestSelectionOnePassCoversEveryTarget(t *testing.T) {
	s := New(DefaultPrefix, DefaultVersion)
	products, _ := s.Group(GroupProducts)
	colors, _ := s.Group(GroupColors)
	cats, _ := s.Group(GroupCategories)
	p7, _ := s.Product(7, false)
	tests := []struct {
		sel  Selection
		want string
	}{
		{Selection{products}, "ecommerce:1:product*"},
		{Selection{colors}, "ecommerce:1:product_colors:*"},
		{Selection{products, cats}, "ecommerce:1:*"},
		{Selection{p7}, "ecommerce:1:product:7*"},
	}
	for _, tt := range tests {
		got, err := tt.sel.ScanMatch()
		if err != nil || got != tt.want {
			t.Errorf("ScanMatch = %q, %v; want %q", got, err, tt.want)
		}
	}
	sel := Selection{products, colors}
	if i := sel.Classify("ecommerce:1:product_colors:all"); i != 1 {
		t.Errorf("Classify(colors key) = %d, want 1", i)
	}
	if i := sel.Classify("ecommerce:1:productivity:1"); i != -1 {
		t.Errorf("Classify(look-alike) = %d, want -1", i)
	}
}

func TestKeyAndLogical(t *testing.T) {
	s := New("ecommerce", 3)
	if k := s.Key("categories:all"); k != "ecommerce:3:categories:all" {
		t.Errorf("Key = %q", k)
	}
	if l, ok := s.Logical("ecommerce:3:product:5"); !ok || l != "product:5" {
		t.Errorf("Logical = %q, %v", l, ok)
	}
	if _, ok := s.Logical("ecommerce:1:product:5"); ok {
		t.Error("Logical accepted a key of another version")
	}
}
