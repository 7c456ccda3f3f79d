package main

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/internal/cmdutil"
	"github.com/cachectl/cachectl/internal/config"
	"github.com/cachectl/cachectl/internal/help"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// The environment variables the commands and their tests name; the rest
// are in internal/config.
const (
	envRedisURL      = config.EnvRedisURL
	envRedisPassword = config.EnvRedisPassword
	envRedisCLIAuth  = config.EnvRedisCLIAuth
	envAPI           = config.EnvAPI
	envReadOnly      = config.EnvReadOnly
	envConfig        = config.EnvConfig
)

// globalOptions are the root command's flags, resolved by internal/config.
type globalOptions = config.Options

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
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{Err: err} })

	pf := cmd.PersistentFlags()
	pf.StringVar(&o.RedisURL, "redis", redisconn.DefaultURL, "Redis URL: redis://, rediss:// (TLS) or unix:// (env "+envRedisURL+")")
	pf.BoolVar(&o.Cluster, "cluster", false, "treat the server as a Redis Cluster seed (detected from INFO otherwise)")
	pf.StringVar(&o.User, "user", "", "Redis ACL user (env "+config.EnvRedisUser+"; overrides the URL's)")
	pf.StringVarP(&o.Password, "password", "a", "", "Redis password (unsafe on the command line: prefer "+envRedisPassword+" or --password-file)")
	pf.StringVar(&o.PasswordFile, "password-file", "", "read the Redis password from this file")
	pf.StringVar(&o.TLSCACert, "tls-ca-cert", "", "PEM file of the CA that signed the server's certificate")
	pf.StringVar(&o.TLSCert, "tls-cert", "", "client certificate (PEM) for mutual TLS")
	pf.StringVar(&o.TLSKey, "tls-key", "", "client key (PEM) for mutual TLS")
	pf.StringVar(&o.TLSServerName, "tls-server-name", "", "server name to verify the certificate against")
	pf.BoolVar(&o.TLSInsecure, "tls-insecure", false, "skip TLS certificate verification (unsafe)")
	pf.StringVar(&o.Prefix, "prefix", keyspace.DefaultPrefix, "django-redis KEY_PREFIX (env "+config.EnvPrefix+")")
	pf.IntVar(&o.KeyVersion, "key-version", keyspace.DefaultVersion, "django-redis VERSION (env "+config.EnvKeyVersion+")")
	pf.DurationVar(&o.Timeout, "timeout", 3*time.Second, "timeout of each Redis command and of connecting (env "+config.EnvTimeout+")")
	pf.StringVar(&o.API, "api", config.DefaultAPI, "catalog API base URL for warm, bench, check and top (env "+envAPI+")")
	pf.StringVar(&o.Format, "format", "", "output format: table, json or markdown; bench also junit (default: table)")
	pf.BoolVar(&o.JSON, "json", false, "same as --format json")
	pf.BoolVar(&o.NoColor, "no-color", false, "disable colour (env "+config.EnvNoColor+")")
	pf.BoolVarP(&o.Verbose, "verbose", "v", false, "log more to stderr")
	pf.BoolVarP(&o.Quiet, "quiet", "q", false, "print only errors and the result's exit code")
	pf.StringVar(&o.Config, "config", "", "config file (env "+config.EnvConfig+"; default $XDG_CONFIG_HOME/cachectl/config.yaml)")
	pf.BoolVar(&o.ReadOnly, "read-only", false, "refuse whatever would delete or write Redis or send the API anything but a GET (env "+envReadOnly+")")
	pf.StringVar(&o.AuditFile, "audit-file", "", "the audit trail of destructive actions (env "+config.EnvAuditFile+"; default $XDG_STATE_HOME/cachectl/audit.jsonl)")
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
	cmdutil.TypedArgs(cmd)
	help.Apply(cmd)
	return cmd
}

// resolve fills the options the flags left unset from the environment, then
// the config file, and checks them (config.Options.Resolve).
func (f *factory) resolve(flags *pflag.FlagSet) error {
	o := &f.opts
	cfg, err := o.LoadFile(flags, f.Getenv)
	if err != nil {
		return err
	}
	f.cfg = cfg
	src, err := o.Resolve(flags, f.Getenv, cfg)
	f.redisFlagSet, f.apiFlagSet, f.readOnlyBy = src.RedisFromArgs, src.APIFromArgs, src.ReadOnlyBy
	if o.NoColor {
		f.IO.SetColorEnabled(false)
	}
	return err
}

// format returns the output format a command should use, refusing one it does not support.
func (f *factory) format(supported ...output.Format) (output.Format, error) {
	fm := f.opts.OutputFormat()
	for _, s := range supported {
		if s == fm {
			return fm, nil
		}
	}
	return "", usageErrorf("this command does not support --format %s", fm)
}
