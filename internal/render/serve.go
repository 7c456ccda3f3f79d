package render

import (
	"fmt"
	"time"

	"github.com/cachectl/cachectl/catalog"

	"github.com/cachectl/cachectl/internal/iostreams"
)

// ServeBanner is what serve says once it listens.
type ServeBanner struct {
	Addr      string // the bound address
	DB        string // the SQLite file; "" in memory
	Redis     string // redacted
	Namespace string
	NoCache   bool
	DBLatency time.Duration
	// TokenEnv, when set, is the variable whose absence disables writes.
	TokenEnv string
}

// ServeBannerOf is the banner of a server run with cfg, listening on addr
// with the cache it names (redacted); tokenEnv is named when cfg has no
// admin token.
func ServeBannerOf(cfg catalog.RunConfig, addr, cache, tokenEnv string) ServeBanner {
	b := ServeBanner{Addr: addr, DB: cfg.Store.Path, Redis: cache, Namespace: cfg.Schema.Namespace(),
		NoCache: cfg.NoCache, DBLatency: cfg.Store.QueryLatency}
	if cfg.AdminToken == "" {
		b.TokenEnv = tokenEnv
	}
	return b
}

// ServeListening prints the banner on stderr.
func ServeListening(ios *iostreams.IOStreams, b ServeBanner) {
	notes := ""
	if b.NoCache {
		notes += ", cache off (--no-cache: reads from the database, writes still invalidate)"
	}
	if b.DBLatency > 0 {
		notes += fmt.Sprintf(", simulated db latency %s per query", b.DBLatency)
	}
	if b.TokenEnv != "" {
		notes += ", writes disabled: set " + b.TokenEnv
	}
	fmt.Fprintf(ios.ErrOut, "serving the catalog on http://%s (db %s, redis %s, keys %s*%s)\n",
		b.Addr, catalog.StoreConfig{Path: b.DB}.Name(), b.Redis, b.Namespace, notes)
}
