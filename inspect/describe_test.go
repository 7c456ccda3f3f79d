package inspect

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/redistest"
)

func TestDescribeSaysWhatTheServerIs(t *testing.T) {
	ctx := context.Background()
	c := client(t, redistest.Start(t))
	s, err := Describe(ctx, c, "redis://127.0.0.1/0", 3, false)
	if err != nil || s.Reply != "PONG" || s.RTT <= 0 || s.Role != "master" || s.Version == "unknown" || s.Nodes != nil {
		t.Errorf("Describe = %+v, %v; want PONG, a round trip, a master with its version, no nodes", s, err)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	if _, err := Describe(ctx, down, "redis://127.0.0.1:1/0", 1, false); !errors.Is(err, redisconn.ErrConnect) {
		t.Errorf("no server: %v, want redisconn.ErrConnect", err)
	}
}
