package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// DefaultSeedProducts is how many products a fresh catalog gets.
const DefaultSeedProducts = 5000

// ErrNotFound is returned by the store for a row that does not exist.
var ErrNotFound = errors.New("not found")

// MaxSeedProducts bounds serve's --seed-products: a reference catalog, not
// a load generator.
const MaxSeedProducts = 1_000_000

// StoreConfig says where the catalog lives and how to fill it.
type StoreConfig struct {
	// Path is an SQLite file; empty means a private in-memory database.
	Path string
	// SeedProducts is how many products to create when the database is
	// empty; 0 means DefaultSeedProducts, a negative value seeds none.
	SeedProducts int
	// QueryLatency is a simulated delay added to every query made while
	// serving a request (never to seeding), to imitate a remote database.
	QueryLatency time.Duration
}

// Name names the database: its file, or "in memory".
func (c StoreConfig) Name() string {
	if c.Path == "" {
		return "in memory"
	}
	return c.Path
}

// Store is the SQLite catalog. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	path    string // the database file; empty in memory
	latency time.Duration
	queries atomic.Int64 // every counted query since Open, for metrics

	// beforeRead, when set (by tests only), runs before each counted query;
	// it lets a test hold a reader between its cache miss and its database read.
	beforeRead func(ctx context.Context)
}

// Open opens (and, when empty, seeds) the catalog.
//
// The pool holds exactly one connection that never expires: an in-memory
// SQLite database lives only as long as its connection, and one connection
// also makes every goroutine see the same data without shared-cache locking.
// The simulated latency is slept before a query takes the connection, so it
// does not serialise requests.
func Open(ctx context.Context, cfg StoreConfig) (*Store, error) {
	dsn := "file:catalog?mode=memory"
	if cfg.Path != "" {
		dsn = "file:" + (&url.URL{Path: cfg.Path}).EscapedPath() + "?_pragma=journal_mode(WAL)"
	}
	dsn += pragmaSuffix(dsn)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", cfg.Path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, path: cfg.Path, latency: cfg.QueryLatency}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	n := cfg.SeedProducts
	if n == 0 {
		n = DefaultSeedProducts
	}
	if n > 0 {
		if err := s.seedIfEmpty(ctx, n); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

func pragmaSuffix(dsn string) string {
	sep := "&"
	if !strings.Contains(dsn, "?") {
		sep = "?"
	}
	return sep + "_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)"
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Queries is the number of counted queries made since Open.
func (s *Store) Queries() int64 { return s.queries.Load() }

// Ping checks that the database answers; it is not counted.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

const schemaSQL = `
CREATE TABLE IF NOT EXISTS categories (
	id        INTEGER PRIMARY KEY,
	name      TEXT NOT NULL,
	slug      TEXT NOT NULL UNIQUE,
	parent_id INTEGER REFERENCES categories(id)
);
CREATE TABLE IF NOT EXISTS colors (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	hex  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
	id          INTEGER PRIMARY KEY,
	category_id INTEGER NOT NULL REFERENCES categories(id),
	name        TEXT NOT NULL,
	description TEXT NOT NULL,
	price_cents INTEGER NOT NULL,
	created_at  TEXT NOT NULL,
	sales_count INTEGER NOT NULL DEFAULT 0,
	popularity  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS products_category ON products(category_id);
CREATE INDEX IF NOT EXISTS products_sales ON products(sales_count);
CREATE INDEX IF NOT EXISTS products_created ON products(created_at);
CREATE INDEX IF NOT EXISTS products_popularity ON products(popularity);
CREATE TABLE IF NOT EXISTS variants (
	id         INTEGER PRIMARY KEY,
	product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
	color_id   INTEGER NOT NULL REFERENCES colors(id),
	size       TEXT NOT NULL,
	sku        TEXT NOT NULL UNIQUE,
	stock      INTEGER NOT NULL CHECK (stock >= 0)
);
CREATE INDEX IF NOT EXISTS variants_product ON variants(product_id);
CREATE INDEX IF NOT EXISTS variants_color ON variants(color_id);
CREATE TABLE IF NOT EXISTS cache_pending_invalidations (
	family  TEXT PRIMARY KEY,
	indexed INTEGER NOT NULL,
	fixed   TEXT NOT NULL
);
`

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, schemaSQL); err != nil {
		return fmt.Errorf("create catalog schema: %w", err)
	}
	return nil
}

// queryCount is carried in a request's context so the handler can report
// X-DB-Queries; only queries made under one are counted and delayed.
type queryCount struct{ n atomic.Int64 }

type queryCountKey struct{}

// withQueryCount returns a context whose store queries are counted.
func withQueryCount(ctx context.Context) (context.Context, *queryCount) {
	qc := &queryCount{}
	return context.WithValue(ctx, queryCountKey{}, qc), qc
}

// count records one query made for a request, applies the simulated latency
// and the test hook. Seeding and health checks carry no counter and skip all three.
func (s *Store) count(ctx context.Context) error {
	qc, _ := ctx.Value(queryCountKey{}).(*queryCount)
	if qc == nil {
		return nil
	}
	qc.n.Add(1)
	s.queries.Add(1)
	if s.beforeRead != nil {
		s.beforeRead(ctx)
	}
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// queryer is what both *sql.DB and *sql.Tx offer.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) query(ctx context.Context, q queryer, sqlText string, args ...any) (*sql.Rows, error) {
	if err := s.count(ctx); err != nil {
		return nil, err
	}
	return q.QueryContext(ctx, sqlText, args...)
}

func (s *Store) queryRow(ctx context.Context, q queryer, sqlText string, args ...any) *sql.Row {
	if err := s.count(ctx); err != nil {
		// An already-cancelled context makes QueryRowContext fail the same way.
		return q.QueryRowContext(ctx, sqlText, args...)
	}
	return q.QueryRowContext(ctx, sqlText, args...)
}

func (s *Store) exec(ctx context.Context, q queryer, sqlText string, args ...any) (sql.Result, error) {
	if err := s.count(ctx); err != nil {
		return nil, err
	}
	return q.ExecContext(ctx, sqlText, args...)
}

// Seed data: fixed names so that every run of every machine builds the same catalog.
var (
	mainCategories = []string{"Men", "Women", "Kids", "Home", "Sports"}
	subCategories  = []string{"Shirts", "Trousers", "Shoes", "Jackets", "Accessories"}
	singular       = map[string]string{"Shirts": "Shirt", "Trousers": "Trousers", "Shoes": "Shoe", "Jackets": "Jacket", "Accessories": "Accessory"}
	seedColors     = []struct{ name, hex string }{
		{"Black", "#000000"}, {"White", "#ffffff"}, {"Red", "#d32f2f"}, {"Blue", "#1976d2"},
		{"Green", "#388e3c"}, {"Yellow", "#fbc02d"}, {"Orange", "#f57c00"}, {"Purple", "#7b1fa2"},
		{"Pink", "#c2185b"}, {"Grey", "#9e9e9e"}, {"Brown", "#5d4037"}, {"Navy", "#1a237e"},
	}
	sizes      = []string{"XS", "S", "M", "L", "XL"}
	adjectives = []string{"Classic", "Slim", "Relaxed", "Vintage", "Modern", "Essential", "Premium", "Everyday"}
	seedEpoch  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (s *Store) seedIfEmpty(ctx context.Context, products int) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM categories").Scan(&n); err != nil {
		return fmt.Errorf("seed catalog: %w", err)
	}
	if n > 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed catalog: %w", err)
	}
	defer tx.Rollback()
	if err := seed(ctx, tx, products); err != nil {
		return fmt.Errorf("seed catalog: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed catalog: %w", err)
	}
	return nil
}

// seed fills an empty catalog from a fixed random sequence, so that the same
// product count always gives the same rows (benchmarks stay comparable).
func seed(ctx context.Context, tx *sql.Tx, products int) error {
	rng := rand.New(rand.NewPCG(2026, 11))
	type leaf struct {
		id  int64
		sub string
	}
	var leaves []leaf
	id := int64(0)
	for _, main := range mainCategories {
		id++
		parent := id
		if _, err := tx.ExecContext(ctx, "INSERT INTO categories(id,name,slug,parent_id) VALUES(?,?,?,NULL)",
			parent, main, slugify(main)); err != nil {
			return err
		}
		for _, sub := range subCategories {
			id++
			name := main + " " + sub
			if _, err := tx.ExecContext(ctx, "INSERT INTO categories(id,name,slug,parent_id) VALUES(?,?,?,?)",
				id, name, slugify(name), parent); err != nil {
				return err
			}
			leaves = append(leaves, leaf{id, sub})
		}
	}
	for i, c := range seedColors {
		if _, err := tx.ExecContext(ctx, "INSERT INTO colors(id,name,hex) VALUES(?,?,?)", i+1, c.name, c.hex); err != nil {
			return err
		}
	}
	insProduct, err := tx.PrepareContext(ctx, `INSERT INTO products(id,category_id,name,description,price_cents,created_at,sales_count,popularity)
		VALUES(?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer insProduct.Close()
	insVariant, err := tx.PrepareContext(ctx, "INSERT INTO variants(product_id,color_id,size,sku,stock) VALUES(?,?,?,?,?)")
	if err != nil {
		return err
	}
	defer insVariant.Close()
	for p := int64(1); p <= int64(products); p++ {
		l := leaves[rng.IntN(len(leaves))]
		cat, sub := l.id, l.sub
		adj := adjectives[rng.IntN(len(adjectives))]
		name := fmt.Sprintf("%s %s %d", adj, singular[sub], p)
		desc := fmt.Sprintf("%s piece from the %s range, item %d.", adj, strings.ToLower(sub), p)
		price := 499 + rng.IntN(30000)
		created := seedEpoch.Add(-time.Duration(rng.IntN(365*24*60)) * time.Minute).Format(time.RFC3339)
		if _, err := insProduct.ExecContext(ctx, p, cat, name, desc, price, created, rng.IntN(10000), rng.IntN(100000)); err != nil {
			return err
		}
		nv := 2 + rng.IntN(4)
		color := 1 + rng.IntN(len(seedColors))
		for v := range nv {
			size := sizes[v%len(sizes)]
			c := (color+v/len(sizes)+v)%len(seedColors) + 1
			sku := fmt.Sprintf("P%06d-%s-%02d", p, size, c)
			if _, err := insVariant.ExecContext(ctx, p, c, size, sku, rng.IntN(200)); err != nil {
				return err
			}
		}
	}
	return nil
}

func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
