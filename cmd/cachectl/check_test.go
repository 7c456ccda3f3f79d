package main

import (
	"context"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/keyspace"
)

const checkTestToken = "check-test-token"

// TestCheckScripts runs testdata/check/*.txtar: check and demo through the
// built binary, against reference catalog servers that each script gets to
// itself, cached in a private redis-server:
//
//	API_URL          caching under the prefix "checkok", writes need $ADMIN_TOKEN
//	NOCACHE_API_URL  the same server with --no-cache, under the prefix "checknc"
//	REDIS_URL        the redis-server both use
func TestCheckScripts(t *testing.T) {
	srv := redistest.Start(t)
	var scripts atomic.Int64
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/check",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Each script has its own prefixes, so scripts running in parallel
			// never clear each other's keys.
			name := strconv.FormatInt(scripts.Add(1), 10)
			env.Setenv("REDIS_URL", srv.URL())
			env.Setenv("ADMIN_TOKEN", checkTestToken)
			env.Setenv("OK_PREFIX", "checkok"+name)
			env.Setenv("NC_PREFIX", "checknc"+name)
			env.Setenv("API_URL", startCheckCatalog(t, env, srv, "checkok"+name, false))
			env.Setenv("NOCACHE_API_URL", startCheckCatalog(t, env, srv, "checknc"+name, true))
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/.config")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exit":  cmdExit,
			"redis": cmdRedis,
		},
	})
}

// startCheckCatalog serves a small reference catalog on httptest until the script ends.
func startCheckCatalog(t *testing.T, env *testscript.Env, srv *redistest.Server, prefix string, noCache bool) string {
	store, err := catalog.Open(context.Background(), catalog.StoreConfig{SeedProducts: 60})
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(catalog.RedisOptions(srv.ClientOptions(), time.Second))
	api := httptest.NewServer(catalog.NewServer(catalog.Config{
		Store: store, Redis: rdb, Schema: keyspace.New(prefix, 1),
		AdminToken: checkTestToken, NoCache: noCache, RedisTimeout: time.Second,
	}).Handler())
	env.Defer(func() {
		api.Close()
		rdb.Close()
		store.Close()
	})
	return api.URL
}
