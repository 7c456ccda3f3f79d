package catalogapi

import "testing"

func TestParseCents(t *testing.T) {
	for in, want := range map[string]int64{`"19.99"`: 1999, `"5"`: 500, `"0.5"`: 50, `12.30`: 1230} {
		if got, ok := ParseCents([]byte(in)); !ok || int64(got) != want {
			t.Errorf("ParseCents(%s) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{`"1.999"`, `"abc"`, `"-1.00"`, `null`} {
		if _, ok := ParseCents([]byte(in)); ok {
			t.Errorf("ParseCents(%s) accepted", in)
		}
	}
}
