package redisconn

import (
	"slices"
	"testing"
)

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		file string
		want []string
	}{
		{"default", Config{URL: DefaultURL}, "", nil},
		{"credentials dropped", Config{URL: "redis://app:s3cret@cache:6380/2"}, "", []string{"--redis", "redis://cache:6380/2"}},
		{"everything", Config{URL: "rediss://cache:6380/0", ForceCluster: true, User: "ops",
			TLS: TLS{CACert: "ca.pem", Cert: "c.pem", Key: "k.pem", ServerName: "cache.internal", Insecure: true}}, "/run/pw",
			[]string{"--redis", "rediss://cache:6380/0", "--cluster", "--user", "ops", "--password-file", "/run/pw",
				"--tls-ca-cert", "ca.pem", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-server-name", "cache.internal", "--tls-insecure"}},
	} {
		if got := tc.cfg.Args(tc.file); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Args = %q, want %q", tc.name, got, tc.want)
		}
	}
}
