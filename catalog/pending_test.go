package catalog

import (
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
