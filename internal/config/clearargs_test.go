package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// The dry-run screen's clear line points at the same Redis and schema and
// never carries a password: the URL's user name stays (as --user) only
// when the URL also had a password, for a lone user part may be one.
func TestClearArgs(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
		want []string
	}{
		{"defaults", Options{RedisURL: redisconn.DefaultURL, Prefix: keyspace.DefaultPrefix, KeyVersion: keyspace.DefaultVersion}, nil},
		{"user and password in the URL",
			Options{RedisURL: "redis://alice:s3cret@db:6380/2", Prefix: "shop", KeyVersion: 3, Config: "/etc/cachectl.yaml"},
			[]string{"--redis", "redis://db:6380/2", "--user", "alice", "--config", "/etc/cachectl.yaml", "--prefix", "shop", "--key-version", "3"}},
		{"a lone user part", Options{RedisURL: "redis://s3cret@db:6379/0", Prefix: keyspace.DefaultPrefix, KeyVersion: 1},
			[]string{"--redis", "redis://db:6379/0"}},
		{"--user and a password file", Options{RedisURL: "rediss://:s3cret@db:6379/0", User: "bob", PasswordFile: "/run/pw",
			Prefix: "", KeyVersion: 1, Cluster: true},
			[]string{"--redis", "rediss://db:6379/0", "--cluster", "--user", "bob", "--password-file", "/run/pw", "--prefix", ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.o.ClearArgs()
			if !slices.Equal(got, tt.want) {
				t.Errorf("args %q, want %q", got, tt.want)
			}
			if strings.Contains(strings.Join(got, " "), "s3cret") {
				t.Errorf("the password is in %q", got)
			}
		})
	}
}
