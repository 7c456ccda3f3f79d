package inspect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/keyspace"
)

// Bounds of the search for a misplaced target: it reads INFO keyspace and
// at most sampleCalls SCAN pages of sampleCount on the current db and on
// each of at most sampleDBs other dbs, so a wrong guess costs Redis little.
const (
	sampleCalls = 10
	sampleCount = 1000
	sampleDBs   = 4
)

// Namespace is a django-redis PREFIX:VERSION: seen in sampled keys, with
// how many of the sample it holds.
type Namespace struct {
	Prefix  string // "ecommerce:1:"
	Sampled int
}

// OtherDB is a database other than the one selected that holds keys.
type OtherDB struct {
	DB   int
	Keys int64
	// Ours counts the sampled keys under the schema's own namespace there;
	// Namespaces are the most common PREFIX:VERSION: of the sample.
	Ours       int
	Namespaces []Namespace
}

// Elsewhere is where the keys a user looked for may be instead: other dbs,
// other prefixes or versions in the selected db. The zero value says none.
type Elsewhere struct {
	DBs        []OtherDB   // by key count, most first
	Namespaces []Namespace // in the selected db, other than the schema's; most first
}

// Empty reports that nothing was found elsewhere.
func (e Elsewhere) Empty() bool { return len(e.DBs) == 0 && len(e.Namespaces) == 0 }

// FindElsewhere looks for keys outside the schema's namespace in db (the
// selected one) and in the other dbs of a single server: when a command
// found none of its groups, the prefix, the version or the db is probably
// wrong. On a cluster there is only db 0. A user that may not run INFO gets
// only the sample of the selected db.
func FindElsewhere(ctx context.Context, c redis.UniversalClient, db int, s keyspace.Schema) (Elsewhere, error) {
	var out Elsewhere
	ns, _, err := sampleNamespaces(ctx, c, s)
	if err != nil {
		return out, err
	}
	out.Namespaces = ns
	single, ok := c.(*redis.Client)
	if !ok {
		return out, nil
	}
	text, err := single.Info(ctx, "keyspace").Result()
	if err != nil {
		if isNoPerm(err) {
			return out, nil
		}
		return out, err
	}
	for n, d := range ParseInfo(text).Keyspace() {
		if n != db && d.Keys > 0 {
			out.DBs = append(out.DBs, OtherDB{DB: n, Keys: d.Keys})
		}
	}
	slices.SortFunc(out.DBs, func(a, b OtherDB) int { return cmp.Or(cmp.Compare(b.Keys, a.Keys), cmp.Compare(a.DB, b.DB)) })
	for i := range out.DBs[:min(len(out.DBs), sampleDBs)] {
		o := *single.Options()
		o.DB = out.DBs[i].DB
		o.PoolSize = 1
		other := redis.NewClient(&o)
		all, ours, err := sampleNamespaces(ctx, other, s)
		other.Close()
		if err != nil {
			return out, err
		}
		out.DBs[i].Ours, out.DBs[i].Namespaces = ours, all
	}
	return out, nil
}

// sampleNamespaces counts the PREFIX:VERSION: of up to sampleCalls pages
// of SCAN: the namespaces other than s's, most first, and how many keys of
// the sample are s's own.
func sampleNamespaces(ctx context.Context, c redis.UniversalClient, s keyspace.Schema) ([]Namespace, int, error) {
	var mu sync.Mutex // masters are sampled in parallel
	counts := map[string]int{}
	own := s.Namespace()
	err := keyspace.ForEachMaster(ctx, c, func(ctx context.Context, node *redis.Client) error {
		var cursor uint64
		for range sampleCalls {
			keys, next, err := node.Scan(ctx, cursor, "*", sampleCount).Result()
			if err != nil {
				return fmt.Errorf("scan %s: %w", keyspace.NodeAddr(node), err)
			}
			mu.Lock()
			for _, k := range keys {
				if p, ok := namespaceOf(k); ok {
					counts[p]++
				}
			}
			mu.Unlock()
			if next == 0 {
				break
			}
			cursor = next
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	ours := counts[own]
	delete(counts, own)
	var out []Namespace
	for p, n := range counts {
		out = append(out, Namespace{Prefix: p, Sampled: n})
	}
	slices.SortFunc(out, func(a, b Namespace) int {
		return cmp.Or(cmp.Compare(b.Sampled, a.Sampled), strings.Compare(a.Prefix, b.Prefix))
	})
	return out, ours, nil
}

// namespaceOf returns "PREFIX:VERSION:" of a django-redis key: the first
// colon-separated field, then a whole number, then more.
func namespaceOf(key string) (string, bool) {
	prefix, rest, ok := strings.Cut(key, ":")
	if !ok || prefix == "" {
		return "", false
	}
	version, tail, ok := strings.Cut(rest, ":")
	if !ok || tail == "" {
		return "", false
	}
	if _, err := strconv.Atoi(version); err != nil {
		return "", false
	}
	return prefix + ":" + version + ":", true
}

// Hint is one line for a person whose groups came out empty, saying where
// the keys probably are and which flag points cachectl there; "" when
// nothing was found elsewhere either.
func (e Elsewhere) Hint(s keyspace.Schema) string {
	own := s.Namespace()
	for _, d := range e.DBs {
		if d.Ours > 0 {
			return fmt.Sprintf("db%d holds %s, %s among them: select it with /%d at the end of --redis (django-redis's documented LOCATION uses db 1)", d.DB, keysWord(d.Keys), quoteNS(own), d.DB)
		}
	}
	if len(e.Namespaces) > 0 {
		n := e.Namespaces[0]
		return fmt.Sprintf("none of the groups' keys are under %s in this db, but %d sampled keys are under %s: %s", quoteNS(own), n.Sampled, quoteNS(n.Prefix), flagsFor(n.Prefix))
	}
	if len(e.DBs) > 0 {
		var parts []string
		for _, d := range e.DBs {
			p := fmt.Sprintf("db%d holds %s", d.DB, keysWord(d.Keys))
			if len(d.Namespaces) > 0 {
				p += " (mostly under " + quoteNS(d.Namespaces[0].Prefix) + ")"
			}
			parts = append(parts, p)
		}
		return "none of the groups' keys are under " + quoteNS(own) + " in this db, but " + strings.Join(parts, ", ") + ": is the db in --redis right?"
	}
	return ""
}

func quoteNS(p string) string { return strconv.Quote(p) }

func keysWord(n int64) string {
	if n == 1 {
		return "1 key"
	}
	return strconv.FormatInt(n, 10) + " keys"
}

// flagsFor says which flags select namespace "PREFIX:VERSION:".
func flagsFor(ns string) string {
	prefix, rest, _ := strings.Cut(ns, ":")
	version := strings.TrimSuffix(rest, ":")
	return fmt.Sprintf("try --prefix %s --key-version %s (django-redis KEY_PREFIX and VERSION)", prefix, version)
}
