package redisconn

import (
	"slices"
	"testing"
)

func TestArgsLeaveSecretsOut(t *testing.T) {
	full := Config{URL: "rediss://cache:6380/0", ForceCluster: true, User: "ops",
		TLS: TLS{CACert: "ca.pem", Cert: "c.pem", Key: "k.pem", ServerName: "cache.internal", Insecure: true}}
	want := []string{"--redis", "rediss://cache:6380/0", "--cluster", "--user", "ops", "--password-file", "/run/pw",
		"--tls-ca-cert", "ca.pem", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-server-name", "cache.internal", "--tls-insecure"}
	if got := full.Args("/run/pw"); !slices.Equal(got, want) {
		t.Errorf("Args = %q, want %q", got, want)
	}
	if got := (Config{URL: "redis://app:s3cret@cache:6380/2"}).Args(""); !slices.Equal(got, []string{"--redis", "redis://cache:6380/2"}) {
		t.Errorf("Args = %q: want the URL without its credentials", got)
	}
	if got := (Config{URL: DefaultURL}).Args(""); got != nil {
		t.Errorf("Args = %q for the default URL, want none", got)
	}
}
