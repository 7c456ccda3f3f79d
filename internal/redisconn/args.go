package redisconn

import "net/url"

// Args are the global flags that reach the Redis c names from another
// cachectl command, without a secret: the URL loses its credentials (the
// password comes from where this one's came from), a password file is
// named, never read. The default URL needs no flag.
func (c Config) Args(passwordFile string) []string {
	var args []string
	if u, err := url.Parse(c.URL); err == nil && c.URL != DefaultURL {
		u.User = nil
		args = append(args, "--redis", u.String())
	}
	if c.ForceCluster {
		args = append(args, "--cluster")
	}
	for _, f := range []struct{ name, value string }{
		{"--user", c.User}, {"--password-file", passwordFile}, {"--tls-ca-cert", c.TLS.CACert},
		{"--tls-cert", c.TLS.Cert}, {"--tls-key", c.TLS.Key}, {"--tls-server-name", c.TLS.ServerName},
	} {
		if f.value != "" {
			args = append(args, f.name, f.value)
		}
	}
	if c.TLS.Insecure {
		args = append(args, "--tls-insecure")
	}
	return args
}
