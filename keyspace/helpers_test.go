package keyspace

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
)

// onRedis is the set-up most tests share: the default schema (ecommerce,
// version 1) and a client of a fresh private redis-server.
func onRedis(t testing.TB) (Schema, *redis.Client) {
	t.Helper()
	return New(DefaultPrefix, DefaultVersion), redistest.Start(t).Client(t)
}
