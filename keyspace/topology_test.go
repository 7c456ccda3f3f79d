package keyspace

import (
	"slices"
	"testing"
)

// A CLUSTER NODES slot list counts the slots a master serves and maps each
// of them to it; migration markers and malformed ranges serve none.
func TestSlotListCountsAndOwners(t *testing.T) {
	list := "0-2 5 [7->-abc] 9-x 10-11"
	if got := countSlots(list); got != 6 {
		t.Errorf("countSlots(%q) = %d, want 6", list, got)
	}
	v := clusterView{masters: []masterView{{Addr: "a:1", Slots: list}}}
	var served []int
	for s, addr := range v.owners() {
		if addr == "a:1" {
			served = append(served, s)
		}
	}
	if want := []int{0, 1, 2, 5, 10, 11}; !slices.Equal(served, want) {
		t.Errorf("owners serve %v, want %v", served, want)
	}
}
