package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadNamesAMisspeltSetting: a typo in the file is one line that says
// which key is not a setting, not yaml's type dump.
func TestLoadNamesAMisspeltSetting(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"redis_url: redis://x\n", "field redis_url not found (not a cachectl setting)"},
		{"tls:\n  ca: x.pem\n", "field ca not found (not a tls setting)"},
	} {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, true)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Load(%q) = %v, want one line with %q", tc.yaml, err, tc.want)
		}
	}
}

// TestLoadMissingFile: the default file may be missing, a named one not.
func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	if c, err := Load(path, false); err != nil || c.Redis != "" {
		t.Errorf("missing default file: %+v, %v", c, err)
	}
	if _, err := Load(path, true); err == nil || !strings.HasPrefix(err.Error(), "config file: ") {
		t.Errorf("missing named file: %v", err)
	}
}

// TestDirFollowsXDG: each base directory's variable wins, then the spec's
// default under $HOME; the config file and bench's baselines use the same rule.
func TestDirFollowsXDG(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		base string
		want string
	}{
		{map[string]string{"XDG_DATA_HOME": "/x/data", "HOME": "/home/u"}, DataHome, "/x/data/cachectl"},
		{map[string]string{"HOME": "/home/u"}, DataHome, "/home/u/.local/share/cachectl"},
		{map[string]string{"HOME": "/home/u"}, StateHome, "/home/u/.local/state/cachectl"},
		{map[string]string{"HOME": "/home/u"}, ConfigHome, "/home/u/.config/cachectl"},
		{map[string]string{"XDG_CONFIG_HOME": "/x/cfg", "XDG_DATA_HOME": "/x/data"}, ConfigHome, "/x/cfg/cachectl"},
	} {
		getenv := func(k string) string { return tc.env[k] }
		if got := Dir(getenv, tc.base); got != filepath.FromSlash(tc.want) {
			t.Errorf("Dir(%v, %s) = %q, want %q", tc.env, tc.base, got, tc.want)
		}
	}
	if got := DefaultPath(func(k string) string { return map[string]string{"HOME": "/home/u"}[k] }); got != filepath.FromSlash("/home/u/.config/cachectl/config.yaml") {
		t.Errorf("DefaultPath = %q", got)
	}
}
