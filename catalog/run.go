package catalog

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
)

// RunConfig is what `cachectl serve` runs: a store opened from Store, a
// cache Dial builds, a server over both (Config, its Store and Redis left
// to Run) listening on Listen.
type RunConfig struct {
	Config
	Store  StoreConfig
	Listen string
	// Dial builds the (not yet connected) Redis client to cache through and
	// a printable name of it; nil serves everything from the database.
	Dial func(ctx context.Context) (redis.UniversalClient, string, error)
	// OnListen is told the bound address and the cache's name ("none"
	// without one) once the server listens.
	OnListen func(addr net.Addr, redis string)
}

// SeedFlag is StoreConfig.SeedProducts for serve's --seed-products, whose 0
// means an empty catalog; a value outside 0..MaxSeedProducts is refused.
func SeedFlag(n int) (int, error) {
	if err := option.InRange("seed-products", n, 0, MaxSeedProducts); err != nil {
		return 0, err
	}
	if n == 0 {
		return -1, nil
	}
	return n, nil
}

// Validate refuses a listen address that is not HOST:PORT, a negative
// simulated latency and timeouts that are not positive, naming serve's flags.
func (rc RunConfig) Validate() error {
	if err := option.HostPort("listen", rc.Listen); err != nil {
		return err
	}
	if rc.Store.QueryLatency < 0 || rc.HitLatency < 0 || rc.RedisTimeout <= 0 {
		return option.Errorf("--db-latency and --hit-latency must be 0 or more and --cache-timeout positive")
	}
	if rc.ShutdownTimeout <= 0 {
		return option.Errorf("--shutdown-timeout must be positive")
	}
	return nil
}

// Run opens the store, dials Redis, listens and serves until ctx ends (Serve).
// A Redis that does not answer yet is logged, not fatal: the catalog serves
// from the database until it does.
func Run(ctx context.Context, rc RunConfig) error {
	start := time.Now()
	store, err := Open(ctx, rc.Store)
	if err != nil {
		return err
	}
	defer store.Close()
	cfg := rc.Config
	if cfg.Logger != nil {
		cfg.Logger.Debug("catalog ready", "db", rc.Store.Name(), "took", time.Since(start))
	}
	addr := "none"
	if rc.Dial != nil {
		if cfg.Redis, addr, err = rc.Dial(ctx); err != nil {
			return err
		}
		defer cfg.Redis.Close()
		cfg.probe(ctx, addr)
	}
	cfg.Store = store
	srv := NewServer(cfg)
	ln, err := net.Listen("tcp", rc.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", rc.Listen, err)
	}
	if rc.OnListen != nil {
		rc.OnListen(ln.Addr(), addr)
	}
	return srv.Serve(ctx, ln)
}

// probe pings the cache within a second and warns when it does not answer.
func (cfg Config) probe(ctx context.Context, addr string) {
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err := cfg.Redis.Ping(pctx).Err()
	if err == nil || cfg.Logger == nil {
		return
	}
	attrs := []any{"redis", addr, "err", err}
	if _, cluster := cfg.Redis.(*redis.ClusterClient); !cluster {
		attrs = append(attrs, "note", "taken for a single server: start with --cluster if it is a Redis Cluster")
	}
	cfg.Logger.Warn("redis is not answering: serving from the database until it does", attrs...)
}

// Writes says what serve writes, for --read-only's refusal.
func (RunConfig) Writes() string {
	return "serve caches into --redis and invalidates it on writes"
}
