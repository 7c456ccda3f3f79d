package inspect

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redisconn"
)

// Server is what `cachectl ping` says about a server.
type Server struct {
	Reply         string        // the last PING's
	RTT           time.Duration // the median round trip
	Version, Role string        // "unknown" where INFO is not permitted
	Nodes         []redisconn.Node
}

// Describe PINGs the server at addr n times (Ping), reads its identity,
// and on a cluster its nodes. A failed PING means Redis could not be
// reached (*redisconn.Error).
func Describe(ctx context.Context, c redis.UniversalClient, addr string, n int, cluster bool) (Server, error) {
	var s Server
	var err error
	if s.Reply, s.RTT, err = Ping(ctx, c, n); err != nil {
		return s, &redisconn.Error{Addr: addr, Op: "reach", Cause: err}
	}
	s.Version, s.Role = Identity(ctx, c)
	if cluster {
		if s.Nodes, err = redisconn.ClusterNodes(ctx, c); err != nil {
			return s, err
		}
	}
	return s, nil
}
