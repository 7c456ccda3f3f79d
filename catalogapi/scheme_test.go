package catalogapi

import (
	"errors"
	"testing"
)

func TestParseScheme(t *testing.T) {
	for name, want := range map[string]string{"auto": "", "Bearer": SchemeBearer, "token": SchemeToken, "BASIC": SchemeBasic} {
		if got, err := ParseScheme(name); err != nil || got != want {
			t.Errorf("ParseScheme(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := ParseScheme("digest"); !errors.Is(err, ErrScheme) || err.Error() != `"digest": want auto, bearer, token or basic` {
		t.Errorf("ParseScheme(digest) = %v, want ErrScheme naming it", err)
	}
}
