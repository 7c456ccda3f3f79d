package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/internal/option"
)

// flagSet is the global flags bound to o, as the root command declares
// them, after parsing args.
func flagSet(t *testing.T, o *Options, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("cachectl", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func ptr[T any](v T) *T { return &v }

// A flag beats the environment, the environment beats the config file, and
// the file beats the default, setting by setting.
func TestResolvePrecedence(t *testing.T) {
	file := &File{Path: "/etc/cachectl.yaml", Redis: "redis://file:6379/0", User: "fileuser",
		Prefix: ptr("fileshop"), KeyVersion: ptr(3), Timeout: "2s", API: "http://file:8000",
		Cluster: ptr(true), TLS: TLS{ServerName: "cache.file"}, Audit: Audit{File: "/var/audit.jsonl", Stream: ptr(true)}}
	var o Options
	fs := flagSet(t, &o, "--prefix", "flagshop", "--timeout", "5s")
	src, err := o.Resolve(fs, env(map[string]string{EnvPrefix: "envshop", EnvKeyVersion: "7", EnvRedisURL: "redis://env:6379/1"}), file)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"prefix: flag over env and file", o.Prefix, "flagshop"},
		{"timeout: flag over file", o.Timeout.String(), "5s"},
		{"key version: env over file", strconv.Itoa(o.KeyVersion), "7"},
		{"redis: env over file", o.RedisURL, "redis://env:6379/1"},
		{"user: file over default", o.User, "fileuser"},
		{"api: file over default", o.API, "http://file:8000"},
		{"tls server name: file", o.TLSServerName, "cache.file"},
		{"audit file: file", o.AuditFile, "/var/audit.jsonl"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
	if !o.Cluster || !o.AuditStream {
		t.Errorf("optional booleans from the file not set: cluster %v, audit stream %v", o.Cluster, o.AuditStream)
	}
	if src.RedisFromArgs || src.APIFromArgs || src.ReadOnlyBy != "" {
		t.Errorf("sources = %+v, want none from argv and not read-only", src)
	}
}

// A config file may set an empty prefix; the environment or a flag still wins.
func TestResolveEmptyPrefixFromTheFile(t *testing.T) {
	file := &File{Prefix: ptr("")}
	var o Options
	if _, err := o.Resolve(flagSet(t, &o), env(nil), file); err != nil || o.Prefix != "" {
		t.Errorf("prefix %q, err %v; want the file's empty prefix", o.Prefix, err)
	}
	var o2 Options
	if _, err := o2.Resolve(flagSet(t, &o2), env(map[string]string{EnvPrefix: "envshop"}), file); err != nil || o2.Prefix != "envshop" {
		t.Errorf("prefix %q, err %v; want the environment's", o2.Prefix, err)
	}
}

// Read-only is on from the first switch that says so, which the refusals
// name; an off switch earlier in the order turns a later one's on off.
func TestResolveReadOnlyNamesItsSwitch(t *testing.T) {
	on, off := &File{Path: "/etc/cachectl.yaml", ReadOnly: ptr(true)}, &File{}
	for _, c := range []struct {
		name   string
		args   []string
		env    map[string]string
		file   *File
		want   bool
		wantBy string
	}{
		{"off by default", nil, nil, off, false, ""},
		{"flag", []string{"--read-only"}, nil, off, true, ReadOnlyFlag},
		{"flag over env", []string{"--read-only"}, map[string]string{EnvReadOnly: "0"}, off, true, ReadOnlyFlag},
		{"flag off", []string{"--read-only=false"}, map[string]string{EnvReadOnly: "1"}, on, false, ""},
		{"env yes", nil, map[string]string{EnvReadOnly: "yes"}, off, true, EnvReadOnly},
		{"env TRUE", nil, map[string]string{EnvReadOnly: "TRUE"}, off, true, EnvReadOnly},
		{"env off over the file", nil, map[string]string{EnvReadOnly: "no"}, on, false, ""},
		{"file", nil, nil, on, true, "read_only in /etc/cachectl.yaml"},
	} {
		var o Options
		src, err := o.Resolve(flagSet(t, &o, c.args...), env(c.env), c.file)
		if err != nil || o.ReadOnly != c.want || src.ReadOnlyBy != c.wantBy {
			t.Errorf("%s: read-only %v by %q (err %v), want %v by %q", c.name, o.ReadOnly, src.ReadOnlyBy, err, c.want, c.wantBy)
		}
	}
}

// Every bad value is an *option.Error (exit 2) that names where it came from.
func TestResolveRefusals(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		file *File
		want string
	}{
		{"env version", nil, map[string]string{EnvKeyVersion: "one"}, &File{}, `CACHECTL_KEY_VERSION="one"`},
		{"env timeout", nil, map[string]string{EnvTimeout: "soon"}, &File{}, `CACHECTL_TIMEOUT="soon"`},
		{"env read-only", nil, map[string]string{EnvReadOnly: "maybe"}, &File{}, `CACHECTL_READ_ONLY="maybe": want 1, true or yes`},
		{"file timeout", nil, nil, &File{Path: "c.yaml", Timeout: "soon"}, "config file c.yaml: timeout:"},
		{"verbose and quiet", []string{"--verbose", "--quiet"}, nil, &File{}, "--verbose and --quiet cannot be used together"},
		{"json and format", []string{"--json", "--format", "table"}, nil, &File{}, "--json and --format table cannot be used together"},
		{"format", []string{"--format", "xml"}, nil, &File{}, "--format:"},
		{"key version", []string{"--key-version", "-1"}, nil, &File{}, "--key-version must be 0 or more, not -1"},
		{"timeout", []string{"--timeout", "0s"}, nil, &File{}, "--timeout must be positive, not 0s"},
		{"prefix", []string{"--prefix", "a\nb"}, nil, &File{}, "--prefix must not contain a line break"},
		{"two passwords", []string{"--password", "a", "--password-file", "p"}, nil, &File{}, "--password and --password-file cannot be used together"},
	} {
		var o Options
		_, err := o.Resolve(flagSet(t, &o, c.args...), env(c.env), c.file)
		if err == nil || !errors.As(err, new(*option.Error)) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (%T), want an *option.Error with %q", c.name, err, err, c.want)
		}
	}
}

// --config and CACHECTL_CONFIG name a file that must exist; the default may be missing.
func TestLoadFileFindsTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "named.yaml")
	if err := os.WriteFile(path, []byte("prefix: named\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want string // the file's prefix, or "error"
	}{
		{"flag", []string{"--config", path}, nil, "named"},
		{"env", nil, map[string]string{EnvConfig: path}, "named"},
		{"default missing", nil, map[string]string{ConfigHome: dir}, ""},
		{"named missing", []string{"--config", filepath.Join(dir, "nope.yaml")}, nil, "error"},
	} {
		var o Options
		f, err := o.LoadFile(flagSet(t, &o, c.args...), env(c.env))
		got := "error"
		if err == nil {
			got = optional(f.Prefix)
		} else if !errors.As(err, new(*option.Error)) {
			t.Errorf("%s: %T is no *option.Error", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: prefix %q (err %v), want %q", c.name, got, err, c.want)
		}
	}
}

// The password comes from the first of its sources; a secret on argv warns.
func TestRedisPasswordSources(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		o        Options
		env      map[string]string
		fromArgs bool
		want     string
		warnings int
	}{
		{"none", Options{RedisURL: "redis://h:6379/0"}, nil, false, "", 0},
		{"redis-cli's", Options{RedisURL: "redis://h:6379/0"}, map[string]string{EnvRedisCLIAuth: "theirs"}, false, "theirs", 0},
		{"ours before redis-cli's", Options{RedisURL: "redis://h:6379/0"}, map[string]string{EnvRedisPassword: "ours", EnvRedisCLIAuth: "theirs"}, false, "ours", 0},
		{"file before env", Options{RedisURL: "redis://h:6379/0", PasswordFile: pwFile}, map[string]string{EnvRedisPassword: "env"}, false, "from-file", 0},
		{"flag warns", Options{RedisURL: "redis://h:6379/0", Password: "flag"}, map[string]string{EnvRedisPassword: "env"}, false, "flag", 1},
		{"url's own before env", Options{RedisURL: "redis://:url@h:6379/0"}, map[string]string{EnvRedisPassword: "env"}, false, "", 0},
		{"url's own from argv warns", Options{RedisURL: "redis://:url@h:6379/0"}, nil, true, "", 1},
		{"tls-insecure warns", Options{RedisURL: "rediss://h:6379/0", TLSInsecure: true}, nil, false, "", 1},
	} {
		cfg, warnings, err := c.o.Redis(env(c.env), c.fromArgs)
		if err != nil || cfg.Password != c.want || len(warnings) != c.warnings || cfg.URL != c.o.RedisURL {
			t.Errorf("%s: password %q, warnings %q, err %v; want %q and %d warnings", c.name, cfg.Password, warnings, err, c.want, c.warnings)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := Options{PasswordFile: empty}
	if _, _, err := o.Redis(env(nil), false); err == nil || !errors.As(err, new(*option.Error)) {
		t.Errorf("an empty --password-file: %v, want an *option.Error", err)
	}
}

func TestParseAPI(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:8000": true, "https://api.example/v1": true,
		"ftp://x": false, "127.0.0.1:8000": false, "http://": false, "://": false,
	} {
		u, err := ParseAPI(raw)
		if (err == nil) != ok || (ok && u.String() != raw) {
			t.Errorf("ParseAPI(%q) = %v, %v", raw, u, err)
		}
		if !ok && !errors.As(err, new(*option.Error)) {
			t.Errorf("ParseAPI(%q): %T is no *option.Error", raw, err)
		}
	}
	if _, err := ParseAPI("ftp://user:secret@x"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("the refusal shows the password: %v", err)
	}
}
