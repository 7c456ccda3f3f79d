package catalog

import (
	"strings"
	"testing"

	"github.com/cachectl/cachectl/keyspace"
)

// The command logged for invalidations left at shutdown deletes what each
// family holds, in the schema's namespace, and is safe to paste into a shell.
func TestClearCommandCoversEachFamily(t *testing.T) {
	def := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	cases := []struct {
		schema keyspace.Schema
		fams   []family
		extra  []string
		want   string
	}{
		{def, productFamilies(42), nil,
			"cachectl clear --product-id 42 --cascade --pattern 'product:*:recommendations' --categories --yes"},
		{def, []family{famProduct(9), famProduct(10), famLists}, nil, "cachectl clear --product-id 9,10 --cascade --yes"},
		{def, []family{famColors, famLists}, nil, "cachectl clear --pattern 'products:*' --colors --yes"},
		{def, []family{famCategories}, []string{"--redis", "redis://db.internal:6380/2", "--password-file", "/run/my secret"},
			"cachectl clear --categories --redis redis://db.internal:6380/2 --password-file '/run/my secret' --yes"},
		{keyspace.New("it's", 2), []family{famProduct(1)}, nil,
			`cachectl clear --product-id 1 --prefix 'it'\''s' --key-version 2 --yes`},
	}
	for _, c := range cases {
		if got := clearCommand(c.schema, c.fams, c.extra); got != c.want {
			t.Errorf("clearCommand(%v):\n got %s\nwant %s", c.fams, got, c.want)
		}
	}
}

// A group added to the registry is invalidated on the writes its families
// name, and the command for its pending invalidation clears it by its flag.
func TestARegisteredGroupIsInvalidated(t *testing.T) {
	remove, err := keyspace.Register(keyspace.Group{Name: "banners", Patterns: []string{"banner:*"}, Families: []keyspace.Family{
		{Name: "banners", Indexed: true, On: []keyspace.Write{keyspace.WriteColor}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	if got := strings.Join(familyNames(familiesOn(keyspace.WriteColor)), ","); got != "lists,colors,banners" {
		t.Errorf("a color write invalidates %s", got)
	}
	if got := strings.Join(familyNames(familiesOn(keyspace.WriteVariant, 3, 4, 3, 0)), ","); got != "product:3,product:4,recs,lists" {
		t.Errorf("a variant write of products 3 and 4 invalidates %s", got)
	}
	def := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	if got := clearCommand(def, familiesOn(keyspace.WriteColor), nil); got != "cachectl clear --pattern 'products:*' --colors --banners --yes" {
		t.Errorf("clearCommand = %s", got)
	}
}

func familyNames(fams []family) []string {
	names := make([]string, len(fams))
	for i, f := range fams {
		names[i] = f.name
	}
	return names
}
