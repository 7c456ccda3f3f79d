// Package sandbox runs the reference catalog (what `cachectl serve` runs) on
// a free port of 127.0.0.1, over a Redis of the caller's or a private one
// (a redis-server from PATH, else an embedded Redis): the demo's world, and
// the tests'. It prints nothing; Close stops everything it started.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/localredis"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// APIOptions say how to serve the catalog.
type APIOptions struct {
	// Redis is the cache's connection; nil serves everything from the database.
	Redis   *redis.Options
	Cluster bool
	// RedisTimeout bounds each Redis call (catalog.DefaultRedisTimeout when zero).
	RedisTimeout time.Duration
	Store        catalog.StoreConfig
	Schema       keyspace.Schema
	// AdminToken guards writes; empty refuses them all.
	AdminToken string
	NoCache    bool
	Logger     *slog.Logger
	// Wrap, when set, puts a handler in front of the API (tests: faults,
	// authentication). The server then runs without Serve's drain at shutdown.
	Wrap func(http.Handler) http.Handler
}

// API is a running catalog server.
type API struct {
	URL        *url.URL // http://127.0.0.1:PORT
	AdminToken string

	stop func()
}

// Close shuts the server down and waits for it.
func (a *API) Close() { a.stop() }

// StartAPI seeds a catalog and serves it on a free port of 127.0.0.1 until Close.
func StartAPI(ctx context.Context, o APIOptions) (*API, error) {
	store, err := catalog.Open(ctx, o.Store)
	if err != nil {
		return nil, err
	}
	var rdb redis.UniversalClient
	if o.Redis != nil {
		rdb = redisconn.NewClient(catalog.RedisOptions(o.Redis, o.RedisTimeout), o.Cluster)
	}
	closeAll := func() {
		if rdb != nil {
			rdb.Close()
		}
		store.Close()
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := catalog.NewServer(catalog.Config{
		Store: store, Redis: rdb, Schema: o.Schema, AdminToken: o.AdminToken,
		NoCache: o.NoCache, RedisTimeout: o.RedisTimeout, Logger: logger,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("cannot listen for the catalog API: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := serve(sctx, srv, ln, o.Wrap); err != nil {
			logger.Error("catalog api", "err", err)
		}
	}()
	stop := func() {
		cancel()
		<-done
		closeAll()
	}
	return &API{URL: &url.URL{Scheme: "http", Host: ln.Addr().String()}, AdminToken: o.AdminToken, stop: stop}, nil
}

func serve(ctx context.Context, srv *catalog.Server, ln net.Listener, wrap func(http.Handler) http.Handler) error {
	if wrap == nil {
		return srv.Serve(ctx, ln)
	}
	hs := &http.Server{Handler: wrap(srv.Handler()), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Kind says where the sandbox's Redis comes from.
type Kind string

// Kinds of Redis.
const (
	Given    Kind = "given" // the caller's, from Options.Redis
	Process  Kind = Kind(localredis.Process)
	Embedded Kind = Kind(localredis.Embedded)
)

// Options say what to start.
type Options struct {
	// Redis, when set, is tried first; a private Redis is started when it
	// cannot be reached.
	Redis       *redisconn.Config
	Timeout     time.Duration // of each command on a private Redis
	RedisLogger *slog.Logger  // of the connection to a private Redis
	// SeedProducts is the size of the in-memory catalog.
	SeedProducts int
	Schema       keyspace.Schema
	Logger       *slog.Logger // the API's; nil discards
}

// Sandbox is a Redis and the catalog API over it.
type Sandbox struct {
	Redis     *redisconn.Conn
	RedisKind Kind
	// RedisURL is printable: redacted, without the password.
	RedisURL string
	// Local is the private Redis the sandbox started (nil for a given one).
	Local *localredis.Server
	API   *API
	// Notes say what did not go as asked and what was done instead.
	Notes []string
}

// Start picks the Redis (the given one when reachable, else a private
// redis-server, else the embedded one) and serves the catalog over it with
// a fresh random admin token.
func Start(ctx context.Context, o Options) (*Sandbox, error) {
	sb, cfg, err := startRedis(ctx, o)
	if err != nil {
		return nil, err
	}
	ropt, err := redisconn.Options(cfg)
	if err != nil {
		sb.Close()
		return nil, err
	}
	var b [16]byte
	rand.Read(b[:])
	sb.API, err = StartAPI(ctx, APIOptions{
		Redis: ropt, Cluster: sb.Redis.Cluster, Store: catalog.StoreConfig{SeedProducts: o.SeedProducts},
		Schema: o.Schema, AdminToken: hex.EncodeToString(b[:]), Logger: o.Logger,
	})
	if err != nil {
		sb.Close()
		return nil, err
	}
	return sb, nil
}

// Close stops the API and a Redis the sandbox started.
func (s *Sandbox) Close() {
	if s.API != nil {
		s.API.Close()
	}
	if s.Redis != nil {
		s.Redis.Close()
	}
	if s.Local != nil {
		s.Local.Close()
	}
}

func startRedis(ctx context.Context, o Options) (*Sandbox, redisconn.Config, error) {
	sb := &Sandbox{}
	if o.Redis != nil {
		conn, err := redisconn.Open(ctx, *o.Redis)
		if err == nil {
			sb.Redis, sb.RedisKind, sb.RedisURL = conn, Given, conn.Addr
			return sb, *o.Redis, nil
		}
		if ctx.Err() != nil {
			return nil, redisconn.Config{}, ctx.Err()
		}
		sb.Notes = append(sb.Notes, fmt.Sprintf("%s; starting a private Redis instead", firstLine(err)))
	}
	local, err := localredis.StartProcess(ctx)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, redisconn.Config{}, ctx.Err()
	case errors.Is(err, localredis.ErrNotFound):
		local, err = localredis.StartEmbedded()
	default:
		sb.Notes = append(sb.Notes, fmt.Sprintf("redis-server would not start (%s); using the embedded Redis", firstLine(err)))
		local, err = localredis.StartEmbedded()
	}
	if err != nil {
		return nil, redisconn.Config{}, err
	}
	cfg := redisconn.Config{URL: local.URL(), Password: local.Password, Timeout: o.Timeout, Logger: o.RedisLogger}
	conn, err := redisconn.Open(ctx, cfg)
	if err != nil {
		local.Close()
		return nil, redisconn.Config{}, err
	}
	sb.Redis, sb.RedisKind, sb.RedisURL, sb.Local = conn, Kind(local.Kind), local.URL(), local
	return sb, cfg, nil
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	return s
}
