package keyspace

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The registry of built-in groups. Each entry is all that cachectl knows of
// a group: its name (and clear's flag --NAME), its logical key patterns, and
// which of the catalog's writes invalidate which of its keys. Clear's flags,
// keys, stats, top, check and the catalog's invalidation all read it, so a
// built-in group is added here and nowhere else. A config file's groups join
// a Schema (WithGroups), not the registry: they have no flag and no families.
var (
	registryMu sync.RWMutex
	registry   = []Group{
		// `product:*` does not reach `product_colors:*`: the colon is part of the pattern.
		{Name: GroupProducts, Patterns: []string{productPrefix + "*", productsPrefix + "*"}, Families: []Family{
			{Name: FamilyProduct, ByID: productFamilyKeys, On: []Write{WriteProduct, WriteVariant, WriteStock}},
			// A product may appear in any recommendation of its category, and they show colors.
			{Name: FamilyRecommendations, Indexed: true, On: []Write{WriteProduct, WriteVariant}},
			// Lists, filters, top sellers, new arrivals, personalized.
			{Name: FamilyLists, Indexed: true, On: []Write{WriteCategory, WriteColor, WriteProduct, WriteVariant, WriteStock}},
		}},
		{Name: GroupCategories, Patterns: []string{"categories:*", categoryPrefix + "*"}, Families: []Family{
			// A product write changes its category's product_count.
			{Name: FamilyCategories, Indexed: true, On: []Write{WriteCategory, WriteProduct}},
		}},
		{Name: GroupColors, Patterns: []string{"product_colors:*"}, Families: []Family{
			{Name: FamilyColors, Keys: []string{KeyColors}, On: []Write{WriteColor}},
		}},
	}
)

// Names of the catalog's invalidation families of the built-in groups. They
// name the catalog's fence and index keys, so they never change.
const (
	FamilyProduct         = "product" // one per product: product:{id}
	FamilyRecommendations = "recs"
	FamilyLists           = "lists"
	FamilyCategories      = "categories"
	FamilyColors          = "colors"
)

// Write is a kind of committed database write of the catalog.
type Write int

// The catalog's writes, each a create, update or delete.
const (
	WriteCategory Write = iota + 1
	WriteColor
	WriteProduct
	WriteVariant
	WriteStock // a variant's stock reduced or increased
)

// Family is a set of a group's keys that the catalog invalidates together.
type Family struct {
	// Name names the family's fence and index keys; a ByID family's name
	// is Name:ID for each product.
	Name string
	// Indexed families have keys that carry ids or hashes: the catalog
	// keeps an index of those it wrote and deletes its members.
	Indexed bool
	// Keys are logical keys deleted by name.
	Keys []string
	// ByID, when set, makes one family per product: ByID(id) are the keys
	// of the product a write touches, deleted by name.
	ByID func(id int64) []string
	// On are the writes that invalidate the family.
	On []Write
}

// InvalidatedBy reports whether w invalidates the family.
func (f Family) InvalidatedBy(w Write) bool { return slices.Contains(f.On, w) }

// Builtin returns the registry's groups, in order.
func Builtin() []Group {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return slices.Clone(registry)
}

// Register adds a built-in group at the end of the registry, as an entry
// of the list above would; it is for tests and programs that embed
// cachectl's packages. Schemas made after it (New) have the group. remove
// takes it out again.
func Register(g Group) (remove func(), err error) {
	if err := validGroup(g, Builtin()); err != nil {
		return nil, err
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	registry = append(slices.Clip(registry), g)
	return func() {
		registryMu.Lock()
		defer registryMu.Unlock()
		registry = slices.DeleteFunc(slices.Clone(registry), func(h Group) bool { return h.Name == g.Name })
	}, nil
}

// validGroup checks a group that is to join have: a valid, new name and
// patterns that stay inside the namespace without matching every key.
func validGroup(g Group, have []Group) error {
	if err := validGroupName(g.Name); err != nil {
		return err
	}
	if g.Name == GroupAll || slices.ContainsFunc(have, func(h Group) bool { return h.Name == g.Name }) {
		return fmt.Errorf("group %q is already defined", g.Name)
	}
	if len(g.Patterns) == 0 {
		return fmt.Errorf("group %q has no patterns", g.Name)
	}
	for _, p := range g.Patterns {
		if err := checkPattern(p); err != nil {
			return fmt.Errorf("group %q: %q: %w", g.Name, p, err)
		}
	}
	return nil
}

// Describe says which logical keys the group owns ("product:* and products:*"),
// as clear's flag for it does.
func (g Group) Describe() string {
	return strings.Join(g.Patterns, " and ")
}

// Logical key names of the catalog API (DESIGN.md §3, §5). They are spelt
// here only: the catalog writes them, warm and bench name them, check probes them.
const (
	KeyCategories  = "categories:all"
	KeyColors      = "product_colors:all"
	KeyTopSellers  = productsPrefix + "top_sellers"
	KeyNewArrivals = productsPrefix + "new_arrivals"
)

// Patterns of families of keys, inside the namespace.
const (
	// ListingsPattern is every products:* listing: lists, filters, top
	// sellers, new arrivals, personalized.
	ListingsPattern = productsPrefix + "*"
	// ProductListPattern and ProductFiltersPattern are every page of a
	// product list and every filter set.
	ProductListPattern    = productsPrefix + "list:*"
	ProductFiltersPattern = productsPrefix + "filters:*"
	// RecommendationsPattern is every product's recommendations.
	RecommendationsPattern = productPrefix + "*" + recommendationsSuffix
)

const (
	productPrefix         = "product:"
	productsPrefix        = "products:"
	categoryPrefix        = "category:"
	variantsSuffix        = ":variants"
	variantListSuffix     = ":variants:list"
	recommendationsSuffix = ":recommendations"
)

// CategoryKey is category:{id}, one category.
func CategoryKey(id int64) string { return categoryPrefix + strconv.FormatInt(id, 10) }

// ProductKey is product:{id}, one product's detail.
func ProductKey(id int64) string { return productPrefix + strconv.FormatInt(id, 10) }

// ProductVariantsKey is product:{id}:variants, a product's variants.
func ProductVariantsKey(id int64) string { return ProductKey(id) + variantsSuffix }

// ProductVariantListKey is product:{id}:variants:list, the variant list filtered by product.
func ProductVariantListKey(id int64) string { return ProductKey(id) + variantListSuffix }

// ProductRecommendationsKey is product:{id}:recommendations.
func ProductRecommendationsKey(id int64) string { return ProductKey(id) + recommendationsSuffix }

// ProductListKey is products:list:{hash}, one page of a product list.
func ProductListKey(hash string) string { return productsPrefix + "list:" + hash }

// ProductFiltersKey is products:filters:{hash}.
func ProductFiltersKey(hash string) string { return productsPrefix + "filters:" + hash }

// PersonalizedKey is products:personalized:{hash}.
func PersonalizedKey(hash string) string { return productsPrefix + "personalized:" + hash }

// productFamilyKeys are the keys of one product deleted by name when it changes.
func productFamilyKeys(id int64) []string {
	return []string{ProductKey(id), ProductVariantsKey(id), ProductVariantListKey(id)}
}

// ProductFamilyID returns the product id of a ByID family's name
// (product:{id}); ok is false for any other name.
func ProductFamilyID(name string) (id int64, ok bool) {
	rest, ok := strings.CutPrefix(name, productPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}
