package keyspace

import (
	"slices"
	"strings"
	"testing"
)

func TestRegisterAddsABuiltinGroup(t *testing.T) {
	before := New(DefaultPrefix, DefaultVersion)
	remove, err := Register(Group{Name: "search", Patterns: []string{"search:*"}})
	if err != nil {
		t.Fatal(err)
	}
	s := New(DefaultPrefix, DefaultVersion)
	if got := strings.Join(s.GroupNames(), ","); got != "products,categories,colors,search,all" {
		t.Errorf("GroupNames = %s", got)
	}
	all, _ := s.Group(GroupAll)
	if !all.Match("ecommerce:1:search:q") || s.Selection().Classify("ecommerce:1:search:q") < 0 {
		t.Error("all and the selection of every group miss the new group's keys")
	}
	if _, err := before.Group("search"); err == nil {
		t.Error("a schema made before Register has the group")
	}
	if _, err := s.WithGroups([]Group{{Name: "search", Patterns: []string{"x:*"}}}); err == nil {
		t.Error("a config file's group may take a registered name")
	}
	for _, bad := range []Group{{Name: "search", Patterns: []string{"s:*"}}, {Name: GroupProducts, Patterns: []string{"p:*"}},
		{Name: "all", Patterns: []string{"a:*"}}, {Name: "x", Patterns: []string{"*"}}, {Name: "Bad", Patterns: []string{"b:*"}}} {
		if _, err := Register(bad); err == nil {
			t.Errorf("Register(%+v) succeeded", bad)
		}
	}
	remove()
	if slices.ContainsFunc(Builtin(), func(g Group) bool { return g.Name == "search" }) {
		t.Error("remove left the group in the registry")
	}
}

func TestKeyNamesFollowTheSchema(t *testing.T) {
	// The names of DESIGN.md §3, each in the group that owns it.
	s := New(DefaultPrefix, DefaultVersion)
	for key, group := range map[string]string{
		KeyCategories: GroupCategories, CategoryKey(7): GroupCategories, KeyColors: GroupColors,
		ProductKey(1): GroupProducts, ProductVariantsKey(1): GroupProducts, ProductVariantListKey(1): GroupProducts,
		ProductRecommendationsKey(1): GroupProducts, ProductListKey("ab"): GroupProducts, ProductFiltersKey("ab"): GroupProducts,
		PersonalizedKey("ab"): GroupProducts, KeyTopSellers: GroupProducts, KeyNewArrivals: GroupProducts,
	} {
		sel := s.Selection()
		if i := sel.Classify(s.Key(key)); i < 0 || sel[i].Name != group {
			t.Errorf("%s is not in group %s", key, group)
		}
	}
	if ProductVariantListKey(3) != "product:3:variants:list" || CategoryKey(2) != "category:2" || ProductListKey("h") != "products:list:h" {
		t.Error("a key name differs from the seed's")
	}
	if id, ok := ProductFamilyID("product:42"); !ok || id != 42 {
		t.Errorf("ProductFamilyID = %d, %v", id, ok)
	}
	if _, ok := ProductFamilyID("products:list:1"); ok {
		t.Error("ProductFamilyID accepts a listing")
	}
}
