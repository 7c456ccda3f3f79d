package keyspace

import (
	"errors"
	"slices"
	"testing"
)

func TestNamedKeepsTheOrderGiven(t *testing.T) {
	s := New("ecommerce", 1)
	sel, err := s.Named([]string{"colors", " products"})
	if err != nil || !slices.Equal(sel.Names(), []string{"colors", "products"}) {
		t.Errorf("Named = %q, %v; want colors, products", sel.Names(), err)
	}
	if sel, _ := s.Named(nil); !slices.Equal(sel.Names(), s.Selection().Names()) {
		t.Errorf("Named(nil) = %q, want every group %q", sel.Names(), s.Selection().Names())
	}
	if _, err := s.Named([]string{"sessions"}); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("unknown group: %v, want ErrUnknownGroup", err)
	}
}
