package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/internal/config"
	"github.com/cachectl/cachectl/internal/help"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// Environment variables; `cachectl --help` lists them.
const (
	envRedisURL      = "CACHECTL_REDIS_URL"
	envRedisUser     = "CACHECTL_REDIS_USER"
	envRedisPassword = "CACHECTL_REDIS_PASSWORD"
	envRedisCLIAuth  = "REDISCLI_AUTH"
	envPrefix        = "CACHECTL_PREFIX"
	envKeyVersion    = "CACHECTL_KEY_VERSION"
	envAPI           = "CACHECTL_API_URL"
	envTimeout       = "CACHECTL_TIMEOUT"
	envConfig        = "CACHECTL_CONFIG"
	envReadOnly      = "CACHECTL_READ_ONLY"
	envAuditFile     = "CACHECTL_AUDIT_FILE"
	envNoColor       = "NO_COLOR"
)

const defaultAPI = "http://127.0.0.1:8000"

// globalOptions are the root command's flags, after environment variables and
// the config file have filled in what the flags did not set.
type globalOptions struct {
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

func newRootCmd(f *factory) *cobra.Command {
	o := &f.opts
	cmd := &cobra.Command{
		Use:           "cachectl <command>",
		Short:         "Inspect, clear, warm and benchmark a Redis-cached catalog API",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return f.resolve(cmd.Flags())
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	pf := cmd.PersistentFlags()
	pf.StringVar(&o.RedisURL, "redis", redisconn.DefaultURL, "Redis URL: redis://, rediss:// (TLS) or unix:// (env "+envRedisURL+")")
	pf.BoolVar(&o.Cluster, "cluster", false, "treat the server as a Redis Cluster seed (detected from INFO otherwise)")
	pf.StringVar(&o.User, "user", "", "Redis ACL user (env "+envRedisUser+"; overrides the URL's)")
	pf.StringVarP(&o.Password, "password", "a", "", "Redis password (unsafe on the command line: prefer "+envRedisPassword+" or --password-file)")
	pf.StringVar(&o.PasswordFile, "password-file", "", "read the Redis password from this file")
	pf.StringVar(&o.TLSCACert, "tls-ca-cert", "", "PEM file of the CA that signed the server's certificate")
	pf.StringVar(&o.TLSCert, "tls-cert", "", "client certificate (PEM) for mutual TLS")
	pf.StringVar(&o.TLSKey, "tls-key", "", "client key (PEM) for mutual TLS")
	pf.StringVar(&o.TLSServerName, "tls-server-name", "", "server name to verify the certificate against")
	pf.BoolVar(&o.TLSInsecure, "tls-insecure", false, "skip TLS certificate verification (unsafe)")
	pf.StringVar(&o.Prefix, "prefix", keyspace.DefaultPrefix, "django-redis KEY_PREFIX (env "+envPrefix+")")
	pf.IntVar(&o.KeyVersion, "key-version", keyspace.DefaultVersion, "django-redis VERSION (env "+envKeyVersion+")")
	pf.DurationVar(&o.Timeout, "timeout", 3*time.Second, "timeout of each Redis command and of connecting (env "+envTimeout+")")
	pf.StringVar(&o.API, "api", defaultAPI, "catalog API base URL for warm, bench, check and top (env "+envAPI+")")
	pf.StringVar(&o.Format, "format", "", "output format: table, json or markdown; bench also junit (default: table)")
	pf.BoolVar(&o.JSON, "json", false, "same as --format json")
	pf.BoolVar(&o.NoColor, "no-color", false, "disable colour (env "+envNoColor+")")
	pf.BoolVarP(&o.Verbose, "verbose", "v", false, "log more to stderr")
	pf.BoolVarP(&o.Quiet, "quiet", "q", false, "print only errors and the result's exit code")
	pf.StringVar(&o.Config, "config", "", "config file (env "+envConfig+"; default $XDG_CONFIG_HOME/cachectl/config.yaml)")
	pf.BoolVar(&o.ReadOnly, "read-only", false, "refuse whatever would delete or write Redis or send the API anything but a GET (env "+envReadOnly+")")
	pf.StringVar(&o.AuditFile, "audit-file", "", "the audit trail of destructive actions (env "+envAuditFile+"; default $XDG_STATE_HOME/cachectl/audit.jsonl)")
	pf.BoolVar(&o.AuditStream, "audit-stream", false, "also add each audit line to the Redis stream PREFIX:cachectl:audit")

	cmd.AddCommand(
		newClearCmd(f, nil),
		newKeysCmd(f, nil),
		newExporterCmd(f, nil),
		newPingCmd(f, nil),
		newStatsCmd(f, nil),
		newTopCmd(f, nil),
		newServeCmd(f, nil),
		newWarmCmd(f, nil),
		newBenchCmd(f, nil),
		newCheckCmd(f, nil),
		newTraceCmd(f, nil),
		newDemoCmd(f, nil),
		newAuditCmd(f, nil),
		newManCmd(f),
		newCompletionCmd(),
		newVersionCmd(f),
		newExitCodesTopic(),
	)
	typedArgs(cmd)
	help.Apply(cmd)
	return cmd
}

// resolve fills the options the flags left unset from the environment, then
// the config file, and checks them. Precedence: flag > environment > config
// file > default.
func (f *factory) resolve(flags *pflag.FlagSet) error {
	o := &f.opts
	cfg, err := f.loadFileConfig(flags)
	if err != nil {
		return err
	}
	f.cfg = cfg
	f.redisFlagSet = flags.Changed("redis")
	f.apiFlagSet = flags.Changed("api")
	// A config file may set an empty prefix on purpose.
	if cfg.Prefix != nil && *cfg.Prefix == "" && !flags.Changed("prefix") && f.Getenv(envPrefix) == "" {
		o.Prefix = ""
	}
	for _, s := range []struct{ flag, env, file string }{
		{"redis", envRedisURL, cfg.Redis},
		{"user", envRedisUser, cfg.User},
		{"password-file", "", cfg.PasswordFile},
		{"cluster", "", optional(cfg.Cluster)},
		{"tls-ca-cert", "", cfg.TLS.CACert},
		{"tls-cert", "", cfg.TLS.Cert},
		{"tls-key", "", cfg.TLS.Key},
		{"tls-server-name", "", cfg.TLS.ServerName},
		{"tls-insecure", "", optional(cfg.TLS.Insecure)},
		{"prefix", envPrefix, optional(cfg.Prefix)},
		{"key-version", envKeyVersion, optional(cfg.KeyVersion)},
		{"timeout", envTimeout, cfg.Timeout},
		{"api", envAPI, cfg.API},
		{"audit-file", envAuditFile, cfg.Audit.File},
		{"audit-stream", "", optional(cfg.Audit.Stream)},
	} {
		if err := f.setFlag(flags, cfg, s.flag, s.env, s.file); err != nil {
			return err
		}
	}
	if err := f.resolveReadOnly(flags); err != nil {
		return err
	}
	if f.Getenv(envNoColor) != "" {
		o.NoColor = true
	}
	if o.NoColor {
		f.IO.SetColorEnabled(false)
	}
	return o.validate(flags)
}

// resolveReadOnly sets --read-only from the flag, else CACHECTL_READ_ONLY
// (1, true or yes; 0, false or no), else the config file, and remembers
// which of them turned it on: refusals name it.
func (f *factory) resolveReadOnly(flags *pflag.FlagSet) error {
	o, v := &f.opts, f.Getenv(envReadOnly)
	switch {
	case flags.Changed("read-only"):
		f.readOnlyBy = "--read-only"
	case v != "":
		on, ok := map[string]bool{"1": true, "true": true, "yes": true, "0": false, "false": false, "no": false}[strings.ToLower(v)]
		if !ok {
			return usageErrorf("%s=%q: want 1, true or yes (0, false or no for off)", envReadOnly, v)
		}
		o.ReadOnly, f.readOnlyBy = on, envReadOnly
	case f.cfg.ReadOnly != nil:
		o.ReadOnly, f.readOnlyBy = *f.cfg.ReadOnly, "read_only in "+f.cfg.Path
	}
	if !o.ReadOnly {
		f.readOnlyBy = ""
	}
	return nil
}

// loadFileConfig reads the config file --config or CACHECTL_CONFIG names
// (it must exist), or the default one (it may be missing).
func (f *factory) loadFileConfig(flags *pflag.FlagSet) (*config.File, error) {
	cfgPath, named := f.opts.Config, flags.Changed("config")
	if !named {
		if p := f.Getenv(envConfig); p != "" {
			cfgPath, named = p, true
		} else {
			cfgPath = config.DefaultPath(f.Getenv)
		}
	}
	if cfgPath == "" {
		return &config.File{}, nil
	}
	cfg, err := config.Load(cfgPath, named)
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

// setFlag gives a flag the command line did not set its value from the
// environment variable env, else from the config file: flag, env, file.
func (f *factory) setFlag(flags *pflag.FlagSet, cfg *config.File, flag, env, fromFile string) error {
	if flags.Changed(flag) {
		return nil
	}
	if v := f.Getenv(env); env != "" && v != "" {
		if err := flags.Set(flag, v); err != nil {
			return usageErrorf("%s=%q: %v", env, v, err)
		}
		return nil
	}
	if fromFile != "" {
		if err := flags.Set(flag, fromFile); err != nil {
			return usageErrorf("config file %s: %s: %v", cfg.Path, flag, err)
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

func (o *globalOptions) validate(flags *pflag.FlagSet) error {
	if o.Verbose && o.Quiet {
		return usageErrorf("--verbose and --quiet cannot be used together")
	}
	if o.JSON && flags.Changed("format") && !strings.EqualFold(o.Format, string(output.JSON)) {
		return usageErrorf("--json and --format %s cannot be used together", o.Format)
	}
	if o.Format != "" {
		if _, err := output.ParseFormat(o.Format); err != nil {
			return usageError{fmt.Errorf("--format: %w", err)}
		}
	}
	if o.KeyVersion < 0 {
		return usageErrorf("--key-version must be 0 or more, not %d", o.KeyVersion)
	}
	if o.Timeout <= 0 {
		return usageErrorf("--timeout must be positive, not %s", o.Timeout)
	}
	if strings.ContainsAny(o.Prefix, "\r\n") {
		return usageErrorf("--prefix must not contain a line break")
	}
	if o.Password != "" && o.PasswordFile != "" {
		return usageErrorf("--password and --password-file cannot be used together")
	}
	return nil
}

// format returns the output format a command should use, refusing one it does not support.
func (f *factory) format(supported ...output.Format) (output.Format, error) {
	o := f.opts
	fm := output.Table
	if o.JSON {
		fm = output.JSON
	} else if o.Format != "" {
		fm, _ = output.ParseFormat(o.Format)
	}
	for _, s := range supported {
		if s == fm {
			return fm, nil
		}
	}
	return "", usageErrorf("this command does not support --format %s", fm)
}
