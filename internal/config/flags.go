package config

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// AddFlags declares the global flags on fs (the root command's persistent
// ones), bound to o, with their defaults; Resolve fills in what argv left
// unset.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.RedisURL, "redis", redisconn.DefaultURL, "Redis URL: redis://, rediss:// (TLS) or unix:// (env "+EnvRedisURL+")")
	fs.BoolVar(&o.Cluster, "cluster", false, "treat the server as a Redis Cluster seed (detected from INFO otherwise)")
	fs.StringVar(&o.User, "user", "", "Redis ACL user (env "+EnvRedisUser+"; overrides the URL's)")
	fs.StringVarP(&o.Password, "password", "a", "", "Redis password (unsafe on the command line: prefer "+EnvRedisPassword+" or --password-file)")
	fs.StringVar(&o.PasswordFile, "password-file", "", "read the Redis password from this file")
	fs.StringVar(&o.TLSCACert, "tls-ca-cert", "", "PEM file of the CA that signed the server's certificate")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "client certificate (PEM) for mutual TLS")
	fs.StringVar(&o.TLSKey, "tls-key", "", "client key (PEM) for mutual TLS")
	fs.StringVar(&o.TLSServerName, "tls-server-name", "", "server name to verify the certificate against")
	fs.BoolVar(&o.TLSInsecure, "tls-insecure", false, "skip TLS certificate verification (unsafe)")
	fs.StringVar(&o.Prefix, "prefix", keyspace.DefaultPrefix, "django-redis KEY_PREFIX (env "+EnvPrefix+")")
	fs.IntVar(&o.KeyVersion, "key-version", keyspace.DefaultVersion, "django-redis VERSION (env "+EnvKeyVersion+")")
	fs.DurationVar(&o.Timeout, "timeout", 3*time.Second, "timeout of each Redis command and of connecting (env "+EnvTimeout+")")
	fs.StringVar(&o.API, "api", DefaultAPI, "catalog API base URL for warm, bench, check and top (env "+EnvAPI+")")
	fs.StringVar(&o.Format, "format", "", "output format: table, json or markdown; bench also junit (default: table)")
	fs.BoolVar(&o.JSON, "json", false, "same as --format json")
	fs.BoolVar(&o.NoColor, "no-color", false, "disable colour (env "+EnvNoColor+")")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "log more to stderr")
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "print only errors and the result's exit code")
	fs.StringVar(&o.Config, "config", "", "config file (env "+EnvConfig+"; default $XDG_CONFIG_HOME/cachectl/config.yaml)")
	fs.BoolVar(&o.ReadOnly, "read-only", false, "refuse whatever would delete or write Redis or send the API anything but a GET (env "+EnvReadOnly+")")
	fs.StringVar(&o.AuditFile, "audit-file", "", "the audit trail of destructive actions (env "+EnvAuditFile+"; default $XDG_STATE_HOME/cachectl/audit.jsonl)")
	fs.BoolVar(&o.AuditStream, "audit-stream", false, "also add each audit line to the Redis stream PREFIX:cachectl:audit")
}
