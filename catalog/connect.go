package catalog

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redisconn"
)

// DialRedis builds the (not yet connected) client serve caches through,
// tuned by RedisOptions, and a credential-free name of it for the log.
// Unless cfg.ForceCluster, it asks the server what it is within a second;
// a server that does not answer yet is taken for a single one, and the
// catalog serves from the database until it answers.
func DialRedis(ctx context.Context, cfg redisconn.Config, rawURL string, timeout time.Duration) (redis.UniversalClient, string, error) {
	opt, err := redisconn.Options(cfg)
	if err != nil {
		return nil, "", err
	}
	addr := redisconn.Redact(rawURL)
	cluster := cfg.ForceCluster
	if !cluster {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := redisconn.Open(dctx, cfg)
		cancel()
		switch {
		case err == nil:
			cluster = conn.Cluster
			conn.Client.Close()
		case errors.Is(err, redisconn.ErrConfig):
			return nil, "", err
		}
	}
	if cluster {
		addr += " (cluster)"
	}
	return redisconn.NewClient(RedisOptions(opt, timeout), cluster), addr, nil
}
