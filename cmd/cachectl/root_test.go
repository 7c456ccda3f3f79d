package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/config"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
)

// runRoot runs args through the real root command with a capture subcommand
// that records the resolved global options instead of doing anything.
func runRoot(t *testing.T, env map[string]string, args ...string) (opts globalOptions, f *factory, code int, stderr string) {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["HOME"]; !ok {
		env["HOME"] = t.TempDir() // no stray user config file
	}
	ios, _, _, errOut := iostreams.Test()
	f = newFactory(ios, func(k string) string { return env[k] })
	root := newRootCmd(f)
	root.AddCommand(&cobra.Command{Use: "capture", RunE: func(*cobra.Command, []string) error {
		opts = f.opts
		_, err := f.Schema()
		return err
	}})
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	ctx := context.Background()
	err := executeRoot(ctx, root, args)
	if err != nil {
		printError(ios.ErrOut, ctx, err)
	}
	return opts, f, exitCode(ctx, err), errOut.String()
}

func TestGlobalDefaults(t *testing.T) {
	o, _, code, stderr := runRoot(t, nil, "capture")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if o.RedisURL != "redis://127.0.0.1:6379/0" || o.Prefix != "ecommerce" || o.KeyVersion != 1 ||
		o.API != "http://127.0.0.1:8000" || o.Timeout != 3*time.Second {
		t.Errorf("defaults = %+v", o)
	}
}

func TestEnvironmentFillsUnsetFlagsAndFlagsWin(t *testing.T) {
	env := map[string]string{
		envRedisURL:          "redis://cache.internal:6380/2",
		config.EnvPrefix:     "shop",
		config.EnvKeyVersion: "7",
		envAPI:               "http://api.internal:9000",
		config.EnvTimeout:    "750ms",
		config.EnvRedisUser:  "app",
		config.EnvNoColor:    "1",
	}
	o, _, code, stderr := runRoot(t, env, "capture")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if o.RedisURL != env[envRedisURL] || o.Prefix != "shop" || o.KeyVersion != 7 || o.API != env[envAPI] ||
		o.Timeout != 750*time.Millisecond || o.User != "app" || !o.NoColor {
		t.Errorf("from environment: %+v", o)
	}
	o, _, code, _ = runRoot(t, env, "capture", "--redis", "redis://other:6379/0", "--prefix", "flagged", "--key-version", "2")
	if code != 0 || o.RedisURL != "redis://other:6379/0" || o.Prefix != "flagged" || o.KeyVersion != 2 {
		t.Errorf("flags must beat the environment: exit %d, %+v", code, o)
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cachectl.yaml")
	writeFile(t, path, `redis: redis://from-config:6379/1
prefix: cfgshop
key_version: 4
timeout: 2s
api: http://from-config:8000
groups:
  search: ["search:*"]
`)
	o, f, code, stderr := runRoot(t, nil, "--config", path, "capture")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if o.RedisURL != "redis://from-config:6379/1" || o.Prefix != "cfgshop" || o.KeyVersion != 4 || o.Timeout != 2*time.Second {
		t.Errorf("from config: %+v", o)
	}
	s, err := f.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if g, err := s.Group("search"); err != nil || !g.Match("cfgshop:4:search:x") {
		t.Errorf("config group: %v %v", g, err)
	}

	o, _, _, _ = runRoot(t, map[string]string{config.EnvPrefix: "envshop", config.EnvConfig: path}, "capture")
	if o.Prefix != "envshop" || o.KeyVersion != 4 {
		t.Errorf("environment must beat the config file (found through %s): %+v", config.EnvConfig, o)
	}

	// The default location is read when present.
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".config", "cachectl", "config.yaml"), "prefix: homeshop\n")
	o, _, _, _ = runRoot(t, map[string]string{"HOME": home}, "capture")
	if o.Prefix != "homeshop" {
		t.Errorf("default config file not read: %+v", o)
	}
}

func TestBadInputIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	unknownField := filepath.Join(dir, "unknown.yaml")
	writeFile(t, unknownField, "redis_url: redis://x\n")
	matchAll := filepath.Join(dir, "all.yaml")
	writeFile(t, matchAll, "groups:\n  everything: ['*']\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown flag", nil, []string{"capture", "--bogus"}, "unknown flag: --bogus"},
		{"unknown command", nil, []string{"frobnicate"}, "unknown command"},
		{"bad format", nil, []string{"capture", "--format", "yaml"}, `unknown format "yaml"`},
		{"json and table", nil, []string{"capture", "--json", "--format", "table"}, "--json and --format table"},
		{"verbose and quiet", nil, []string{"capture", "-v", "-q"}, "--verbose and --quiet"},
		{"negative version", nil, []string{"capture", "--key-version", "-1"}, "--key-version must be 0 or more"},
		{"zero timeout", nil, []string{"capture", "--timeout", "0s"}, "--timeout must be positive"},
		{"bad env version", map[string]string{config.EnvKeyVersion: "one"}, []string{"capture"}, `CACHECTL_KEY_VERSION="one"`},
		{"bad env timeout", map[string]string{config.EnvTimeout: "soon"}, []string{"capture"}, `CACHECTL_TIMEOUT="soon"`},
		{"missing config", nil, []string{"capture", "--config", filepath.Join(dir, "nope.yaml")}, "config file"},
		{"unknown config field", nil, []string{"capture", "--config", unknownField}, "redis_url"},
		{"match-all config group", nil, []string{"capture", "--config", matchAll}, "pattern matches every key"},
		{"password twice", nil, []string{"capture", "-a", "x", "--password-file", "/dev/null"}, "cannot be used together"},
		{"ping args", nil, []string{"ping", "extra"}, "unknown command"},
		{"ping count", nil, []string{"ping", "--count", "0"}, "--count must be from 1 to 10000, not 0"},
		{"ping markdown", nil, []string{"ping", "--format", "markdown"}, "does not support --format markdown"},
		{"check auth scheme", nil, []string{"check", "--admin-auth-scheme", "digest"}, `--admin-auth-scheme "digest": want auto, bearer, token or basic`},
		{"check basic without credentials", nil, []string{"check", "--admin-auth-scheme", "basic"}, "--admin-auth-scheme basic writes with the credentials of --api"},
		{"several servers in --redis", nil, []string{"ping", "--redis", "redis://h1:7000,,h2:7001/0"}, "an empty address in the host list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, code, stderr := runRoot(t, tt.env, tt.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr: %s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.want)
			}
			if lines := strings.Count(stderr, "\n"); lines > 2 || strings.Contains(stderr, "goroutine") {
				t.Errorf("want one error line and at most a hint, got:\n%s", stderr)
			}
		})
	}
}

func TestPingOptionsFromFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := newFactory(ios, func(string) string { return "" })
	var got *pingOptions
	root := newRootCmd(f)
	for _, c := range root.Commands() {
		if c.Name() == "ping" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newPingCmd(f, func(_ context.Context, o *pingOptions) error { got = o; return nil }))
	root.SetArgs([]string{"ping", "-n", "3", "--json", "-q"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Count != 3 || got.Format != output.JSON || !got.Quiet {
		t.Errorf("ping options = %+v", got)
	}
}

func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	writeFile(t, pwFile, "from-file\n")
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		want     string
		warnings int
	}{
		{"none", nil, nil, "", 0},
		{"CACHECTL_REDIS_PASSWORD", map[string]string{envRedisPassword: "from-env"}, nil, "from-env", 0},
		{"REDISCLI_AUTH", map[string]string{config.EnvRedisCLIAuth: "from-cli-env"}, nil, "from-cli-env", 0},
		{"ours before redis-cli's", map[string]string{envRedisPassword: "ours", config.EnvRedisCLIAuth: "theirs"}, nil, "ours", 0},
		{"file", map[string]string{envRedisPassword: "from-env"}, []string{"--password-file", pwFile}, "from-file", 0},
		{"flag warns", map[string]string{envRedisPassword: "from-env"}, []string{"-a", "from-flag"}, "from-flag", 1},
		{"url on argv warns", nil, []string{"--redis", "redis://:in-url@h:6379/0"}, "", 1},
		{"url from env is quiet", map[string]string{envRedisURL: "redis://:in-url@h:6379/0"}, nil, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, f, code, stderr := runRoot(t, tt.env, append(tt.args, "capture")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			ios, _, _, errOut := iostreams.Test()
			f.IO = ios
			cfg, err := f.redisConfig()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Password != tt.want {
				t.Errorf("password = %q, want %q", cfg.Password, tt.want)
			}
			if n := strings.Count(errOut.String(), "warning:"); n != tt.warnings {
				t.Errorf("%d warnings, want %d: %s", n, tt.warnings, errOut.String())
			}
			if strings.Contains(errOut.String(), "from-flag") || strings.Contains(errOut.String(), "in-url") {
				t.Errorf("a warning shows the password: %s", errOut.String())
			}
		})
	}
	_, f, _, _ := runRoot(t, nil, "--password-file", filepath.Join(dir, "missing"), "capture")
	if _, err := f.redisConfig(); err == nil || exitCode(context.Background(), err) != exitUsage {
		t.Errorf("missing password file: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
