package inspect

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// ServerIdentity reads the version and role from INFO; "unknown" where INFO
// is not permitted for this user.
func ServerIdentity(ctx context.Context, c redis.UniversalClient) (version, role string) {
	version, role = "unknown", "unknown"
	text, err := c.Info(ctx, "server", "replication").Result()
	if err != nil {
		return version, role
	}
	info := ParseInfo(text)
	if v, ok := info.Get("redis_version"); ok {
		version = v
	}
	if r, ok := info.Get("role"); ok {
		role = r
	}
	return version, role
}
