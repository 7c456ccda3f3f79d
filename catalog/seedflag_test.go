package catalog

import "testing"

func TestSeedFlag(t *testing.T) {
	for flag, want := range map[int]int{0: -1, 1: 1, MaxSeedProducts: MaxSeedProducts} {
		if got, err := SeedFlag(flag); err != nil || got != want {
			t.Errorf("SeedFlag(%d) = %d, %v; want %d", flag, got, err, want)
		}
	}
	for _, flag := range []int{-1, MaxSeedProducts + 1} {
		if _, err := SeedFlag(flag); err == nil {
			t.Errorf("SeedFlag(%d) accepted", flag)
		}
	}
}
