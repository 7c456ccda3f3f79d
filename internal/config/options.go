package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/output"
)

// Environment variables; `cachectl --help` lists them.
const (
	EnvRedisURL      = "CACHECTL_REDIS_URL"
	EnvRedisUser     = "CACHECTL_REDIS_USER"
	EnvRedisPassword = "CACHECTL_REDIS_PASSWORD"
	EnvRedisCLIAuth  = "REDISCLI_AUTH"
	EnvPrefix        = "CACHECTL_PREFIX"
	EnvKeyVersion    = "CACHECTL_KEY_VERSION"
	EnvAPI           = "CACHECTL_API_URL"
	EnvTimeout       = "CACHECTL_TIMEOUT"
	EnvConfig        = "CACHECTL_CONFIG"
	EnvReadOnly      = "CACHECTL_READ_ONLY"
	EnvAuditFile     = "CACHECTL_AUDIT_FILE"
	EnvNoColor       = "NO_COLOR"
)

// DefaultAPI is the catalog API --api names when nothing else does.
const DefaultAPI = "http://127.0.0.1:8000"

// ReadOnlyFlag is Sources.ReadOnlyBy when the command line made the run read-only.
const ReadOnlyFlag = "--read-only"

// Options are the root command's flags, after environment variables and
// the config file have filled in what the flags did not set.
type Options struct {
	RedisURL      string
	Cluster       bool
	User          string
	Password      string
	PasswordFile  string
	TLSCACert     string
	TLSCert       string
	TLSKey        string
	TLSServerName string
	TLSInsecure   bool
	Prefix        string
	KeyVersion    int
	Timeout       time.Duration
	API           string
	Format        string
	JSON          bool
	NoColor       bool
	Verbose       bool
	Quiet         bool
	Config        string
	ReadOnly      bool
	AuditFile     string
	AuditStream   bool
}

// Sources is where the resolved options came from, for the warnings and
// refusals that name them.
type Sources struct {
	// RedisFromArgs and APIFromArgs record whether --redis and --api came
	// from argv, before the environment and config file filled the flags in.
	RedisFromArgs bool
	APIFromArgs   bool
	// ReadOnlyBy names the switch that made the run read-only: ReadOnlyFlag,
	// EnvReadOnly or "read_only in PATH"; "" when it is not read-only.
	ReadOnlyBy string
}

// LoadFile reads the config file --config or CACHECTL_CONFIG names (it must
// exist), or the default one (it may be missing). flags are the root
// command's, bound to o.
func (o *Options) LoadFile(flags *pflag.FlagSet, getenv func(string) string) (*File, error) {
	path, named := o.Config, flags.Changed("config")
	if !named {
		if p := getenv(EnvConfig); p != "" {
			path, named = p, true
		} else {
			path = DefaultPath(getenv)
		}
	}
	if path == "" {
		return &File{}, nil
	}
	f, err := Load(path, named)
	if err != nil {
		return nil, option.Errorf("%w", err)
	}
	return f, nil
}

// Resolve fills the options the flags left unset from the environment, then
// the config file, and checks them. Precedence: flag > environment > config
// file > default. flags are the root command's, bound to o; a value the
// environment or the file gives is set on its flag, so it is parsed as the
// flag's would be.
func (o *Options) Resolve(flags *pflag.FlagSet, getenv func(string) string, file *File) (Sources, error) {
	src := Sources{RedisFromArgs: flags.Changed("redis"), APIFromArgs: flags.Changed("api")}
	// A config file may set an empty prefix on purpose.
	if file.Prefix != nil && *file.Prefix == "" && !flags.Changed("prefix") && getenv(EnvPrefix) == "" {
		o.Prefix = ""
	}
	for _, s := range []struct{ flag, env, file string }{
		{"redis", EnvRedisURL, file.Redis},
		{"user", EnvRedisUser, file.User},
		{"password-file", "", file.PasswordFile},
		{"cluster", "", optional(file.Cluster)},
		{"tls-ca-cert", "", file.TLS.CACert},
		{"tls-cert", "", file.TLS.Cert},
		{"tls-key", "", file.TLS.Key},
		{"tls-server-name", "", file.TLS.ServerName},
		{"tls-insecure", "", optional(file.TLS.Insecure)},
		{"prefix", EnvPrefix, optional(file.Prefix)},
		{"key-version", EnvKeyVersion, optional(file.KeyVersion)},
		{"timeout", EnvTimeout, file.Timeout},
		{"api", EnvAPI, file.API},
		{"audit-file", EnvAuditFile, file.Audit.File},
		{"audit-stream", "", optional(file.Audit.Stream)},
	} {
		if err := setFlag(flags, getenv, file, s.flag, s.env, s.file); err != nil {
			return src, err
		}
	}
	by, err := o.resolveReadOnly(flags, getenv, file)
	if err != nil {
		return src, err
	}
	src.ReadOnlyBy = by
	if getenv(EnvNoColor) != "" {
		o.NoColor = true
	}
	return src, o.validate(flags)
}

// resolveReadOnly sets --read-only from the flag, else CACHECTL_READ_ONLY
// (1, true or yes; 0, false or no), else the config file, and returns
// which of them turned it on: refusals name it.
func (o *Options) resolveReadOnly(flags *pflag.FlagSet, getenv func(string) string, file *File) (by string, err error) {
	switch v := getenv(EnvReadOnly); {
	case flags.Changed("read-only"):
		by = ReadOnlyFlag
	case v != "":
		on, ok := map[string]bool{"1": true, "true": true, "yes": true, "0": false, "false": false, "no": false}[strings.ToLower(v)]
		if !ok {
			return "", option.Errorf("%s=%q: want 1, true or yes (0, false or no for off)", EnvReadOnly, v)
		}
		o.ReadOnly, by = on, EnvReadOnly
	case file.ReadOnly != nil:
		o.ReadOnly, by = *file.ReadOnly, "read_only in "+file.Path
	}
	if !o.ReadOnly {
		by = ""
	}
	return by, nil
}

// setFlag gives a flag the command line did not set its value from the
// environment variable env, else from the config file: flag, env, file.
func setFlag(flags *pflag.FlagSet, getenv func(string) string, file *File, flag, env, fromFile string) error {
	if flags.Changed(flag) {
		return nil
	}
	if v := getenv(env); env != "" && v != "" {
		if err := flags.Set(flag, v); err != nil {
			return option.Errorf("%s=%q: %v", env, v, err)
		}
		return nil
	}
	if fromFile != "" {
		if err := flags.Set(flag, fromFile); err != nil {
			return option.Errorf("config file %s: %s: %v", file.Path, flag, err)
		}
	}
	return nil
}

// optional is a config file's optional value as a flag's text, "" when unset.
func optional[T any](p *T) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

func (o *Options) validate(flags *pflag.FlagSet) error {
	if o.Verbose && o.Quiet {
		return option.Errorf("--verbose and --quiet cannot be used together")
	}
	if o.JSON && flags.Changed("format") && !strings.EqualFold(o.Format, string(output.JSON)) {
		return option.Errorf("--json and --format %s cannot be used together", o.Format)
	}
	if o.Format != "" {
		if _, err := output.ParseFormat(o.Format); err != nil {
			return option.Errorf("--format: %w", err)
		}
	}
	if o.KeyVersion < 0 {
		return option.Errorf("--key-version must be 0 or more, not %d", o.KeyVersion)
	}
	if o.Timeout <= 0 {
		return option.Errorf("--timeout must be positive, not %s", o.Timeout)
	}
	if strings.ContainsAny(o.Prefix, "\r\n") {
		return option.Errorf("--prefix must not contain a line break")
	}
	if o.Password != "" && o.PasswordFile != "" {
		return option.Errorf("--password and --password-file cannot be used together")
	}
	return nil
}

// OutputFormat is the format --json and --format ask for: a table by default.
func (o *Options) OutputFormat() output.Format {
	if o.JSON {
		return output.JSON
	}
	fm := output.Table
	if o.Format != "" {
		fm, _ = output.ParseFormat(o.Format)
	}
	return fm
}

// FormatOf is OutputFormat when it is among the formats a command
// supports, else a refusal.
func (o *Options) FormatOf(supported ...output.Format) (output.Format, error) {
	if fm := o.OutputFormat(); slices.Contains(supported, fm) {
		return fm, nil
	}
	return "", option.Errorf("this command does not support --format %s", o.OutputFormat())
}
