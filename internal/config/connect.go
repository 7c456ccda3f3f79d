package config

import (
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// Redis is the connection settings of the resolved options, with the
// password from the first of its sources: --password, --password-file, the
// URL's own, CACHECTL_REDIS_PASSWORD, REDISCLI_AUTH. warnings are for the
// person at the terminal (a secret on the command line, --tls-insecure);
// redisFromArgs says whether --redis came from argv. The caller adds the
// logger and hooks.
func (o *Options) Redis(getenv func(string) string, redisFromArgs bool) (cfg redisconn.Config, warnings []string, err error) {
	cfg = redisconn.Config{
		URL:          o.RedisURL,
		User:         o.User,
		ForceCluster: o.Cluster,
		Timeout:      o.Timeout,
		ReadOnly:     o.ReadOnly,
		TLS: redisconn.TLS{
			CACert: o.TLSCACert, Cert: o.TLSCert, Key: o.TLSKey,
			ServerName: o.TLSServerName, Insecure: o.TLSInsecure,
		},
	}
	urlHasPassword := false
	if u, err := url.Parse(o.RedisURL); err == nil && u.User != nil {
		_, urlHasPassword = u.User.Password()
	}
	switch {
	case o.Password != "":
		warnings = append(warnings, "warning: a password on the command line is visible to other users of this machine; use "+EnvRedisPassword+" or --password-file")
		cfg.Password = o.Password
	case o.PasswordFile != "":
		if cfg.Password, err = ReadPasswordFile(o.PasswordFile); err != nil {
			return cfg, warnings, err
		}
	case urlHasPassword:
		// The URL's own password; warn when it came from argv.
	case getenv(EnvRedisPassword) != "":
		cfg.Password = getenv(EnvRedisPassword)
	case getenv(EnvRedisCLIAuth) != "":
		cfg.Password = getenv(EnvRedisCLIAuth)
	}
	if urlHasPassword && redisFromArgs {
		warnings = append(warnings, "warning: a password in --redis is visible to other users of this machine; use "+EnvRedisPassword+" or --password-file")
	}
	if o.TLSInsecure {
		warnings = append(warnings, "warning: --tls-insecure: the server's certificate is not verified")
	}
	return cfg, warnings, nil
}

// ReadPasswordFile is the password in path, without a trailing line break; an empty one is refused.
func ReadPasswordFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", option.Errorf("--password-file: %w", err)
	}
	p := strings.TrimRight(string(data), "\r\n")
	if p == "" {
		return "", option.Errorf("--password-file %s is empty", path)
	}
	return p, nil
}

// ParseAPI checks the catalog API's base URL (--api).
func ParseAPI(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, option.Errorf("--api %q: want an http:// or https:// URL", redact.URL(raw))
	}
	return u, nil
}

// ServeClearArgs are the flags that point `cachectl clear` at the Redis
// these options name, without a secret: what serve logs when an
// invalidation could not be done.
func (o *Options) ServeClearArgs() []string {
	cfg := redisconn.Config{URL: o.RedisURL, User: o.User, ForceCluster: o.Cluster, TLS: redisconn.TLS{
		CACert: o.TLSCACert, Cert: o.TLSCert, Key: o.TLSKey, ServerName: o.TLSServerName, Insecure: o.TLSInsecure}}
	return cfg.Args(o.PasswordFile)
}

// ClearArgs are ServeClearArgs, the URL's user name (not a lone user part:
// redis-cli reads that as a password), the config file and the schema: the
// flags of the `cachectl clear` line top's dry-run view prints.
func (o *Options) ClearArgs() []string {
	args := o.ServeClearArgs()
	if u, err := url.Parse(o.RedisURL); err == nil && o.User == "" && u.User != nil {
		if _, ok := u.User.Password(); ok && u.User.Username() != "" {
			args = append(args, "--user", u.User.Username())
		}
	}
	defaults := map[string]string{"--prefix": keyspace.DefaultPrefix, "--key-version": strconv.Itoa(keyspace.DefaultVersion)}
	for _, f := range [][2]string{{"--config", o.Config}, {"--prefix", o.Prefix}, {"--key-version", strconv.Itoa(o.KeyVersion)}} {
		if f[1] != defaults[f[0]] { // --config's default is ""
			args = append(args, f[0], f[1])
		}
	}
	return args
}
