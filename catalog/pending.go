package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/keyspace"
)

// Pending invalidations outlive the process. At shutdown they are replayed
// within the shutdown timeout. With a database file (--db) each one is also
// kept there from the moment Redis refuses it until Redis takes it, and the
// next start loads them and serves from the database until they are
// replayed. A write whose process dies between its commit and its
// invalidation is not covered, as in the Django app: the commit and the
// invalidation are not one transaction. What is left at shutdown is logged
// as the `cachectl clear` command that finishes it.

// restoreTimeout bounds each read or write of the pending table.
const restoreTimeout = 5 * time.Second

// persistent reports whether the store is a file that outlives the process.
func (s *Store) persistent() bool { return s != nil && s.path != "" }

// keepPending records (or replaces) a family's pending invalidation.
func (s *Store) keepPending(ctx context.Context, f family) error {
	fixed, err := json.Marshal(f.fixed)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO cache_pending_invalidations(family, indexed, fixed) VALUES(?, ?, ?)
		ON CONFLICT(family) DO UPDATE SET indexed = excluded.indexed, fixed = excluded.fixed`, f.name, f.indexed, string(fixed))
	return err
}

// dropPending forgets a family's pending invalidation once Redis took it.
func (s *Store) dropPending(ctx context.Context, name string) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM cache_pending_invalidations WHERE family = ?", name)
	return err
}

// pendingFamilies returns the pending invalidations kept by an earlier run.
func (s *Store) pendingFamilies(ctx context.Context) ([]family, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT family, indexed, fixed FROM cache_pending_invalidations ORDER BY family")
	if err != nil {
		return nil, fmt.Errorf("read pending invalidations: %w", err)
	}
	defer rows.Close()
	var fams []family
	for rows.Next() {
		var f family
		var fixed string
		if err := rows.Scan(&f.name, &f.indexed, &fixed); err != nil {
			return nil, fmt.Errorf("read pending invalidations: %w", err)
		}
		if err := json.Unmarshal([]byte(fixed), &f.fixed); err != nil {
			return nil, fmt.Errorf("read pending invalidations of %s: %w", f.name, err)
		}
		fams = append(fams, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pending invalidations: %w", err)
	}
	return fams, nil
}

// restore loads, once, the invalidations an earlier run kept in the database
// file; if there are any, Redis is taken for down until they are replayed.
// It reports whether they are loaded: until then Redis is not used.
func (c *cache) restore(ctx context.Context) bool {
	if c.restored.Load() {
		return true
	}
	c.persistMu.Lock()
	defer c.persistMu.Unlock()
	if c.restored.Load() {
		return true
	}
	if c.rdb == nil || !c.store.persistent() {
		c.restored.Store(true)
		return true
	}
	fams, err := c.store.pendingFamilies(ctx)
	if err != nil {
		if c.health.mark(wholeCache, downMark{}) {
			c.log.Error("cannot read the invalidations kept by the last run: serving from the database until it can", "db", c.store.path, "err", err)
		}
		return false
	}
	c.mu.Lock()
	for _, f := range fams {
		p := c.pending[f.name]
		c.pending[f.name] = pendingInvalidation{fam: withFixedOf(f, p.fam), epoch: p.epoch + 1}
	}
	c.npending.Store(int64(len(c.pending)))
	c.mu.Unlock()
	if len(fams) > 0 {
		c.health.mark(wholeCache, downMark{})
		c.log.Info("invalidations kept by the last run: serving from the database until Redis has taken them", "pending", len(fams), "db", c.store.path)
	}
	c.restored.Store(true)
	return true
}

// withFixedOf returns f with the keys to delete by name of other added.
func withFixedOf(f, other family) family {
	for _, l := range other.fixed {
		if !slices.Contains(f.fixed, l) {
			f.fixed = append(f.fixed[:len(f.fixed):len(f.fixed)], l)
		}
	}
	return f
}

// keep writes a pending invalidation to the database file; the caller holds
// persistMu, so the file follows the order of the changes.
func (c *cache) keep(f family) {
	if !c.store.persistent() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), restoreTimeout)
	defer cancel()
	if err := c.store.keepPending(ctx, f); err != nil {
		c.log.Error("cannot keep a pending invalidation in the database: it is lost if the server stops before Redis takes it",
			"family", f.name, "err", err)
	}
}

// replayed forgets a pending invalidation that Redis took, unless it was
// renewed meanwhile.
func (c *cache) replayed(p pendingInvalidation) {
	c.persistMu.Lock()
	defer c.persistMu.Unlock()
	c.mu.Lock()
	done := c.pending[p.fam.name].epoch == p.epoch
	if done {
		delete(c.pending, p.fam.name)
		c.npending.Store(int64(len(c.pending)))
	}
	c.mu.Unlock()
	if !done || !c.store.persistent() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), restoreTimeout)
	defer cancel()
	if err := c.store.dropPending(ctx, p.fam.name); err != nil {
		c.log.Warn("cannot drop a replayed invalidation from the database: the next start replays it again",
			"family", p.fam.name, "err", err)
	}
}

// drain runs at shutdown: it replays the pending invalidations until none is
// left or ctx ends. Kept in a database file, they wait for the next start, so
// there one attempt is enough. What is left is logged with the command that
// finishes it.
func (c *cache) drain(ctx context.Context) {
	n := c.pendingCount()
	if c.rdb == nil || n == 0 {
		return
	}
	if !c.store.persistent() {
		deadline, _ := ctx.Deadline()
		c.log.Info("replaying the invalidations Redis has not taken before exiting", "pending", n,
			"within", time.Until(deadline).Round(time.Millisecond))
	}
	for {
		c.recover(ctx)
		if c.pendingCount() == 0 || c.store.persistent() || !keyspace.Sleep(ctx, probeEvery) {
			break
		}
	}
	c.mu.Lock()
	left := make([]family, 0, len(c.pending))
	for _, p := range c.pending {
		left = append(left, p.fam)
	}
	c.mu.Unlock()
	switch {
	case len(left) == 0:
		c.log.Info("pending invalidations replayed before exiting", "replayed", n)
	case c.store.persistent():
		c.log.Warn("invalidations Redis has not taken are kept in the database and replayed at the next start; should the server not start again on it, run the command",
			"pending", len(left), "db", c.store.path, "command", clearCommand(c.schema, left, c.clearArgs))
	default:
		c.log.Error("invalidations Redis has not taken are lost with this process: run the command to finish them",
			"pending", len(left), "command", clearCommand(c.schema, left, c.clearArgs))
	}
}

// clearCommand is the `cachectl clear` command line that deletes every key
// of fams (and a few more: a product's recommendations go with its id),
// pointed at the schema and, through extra, at this server's Redis.
func clearCommand(schema keyspace.Schema, fams []family, extra []string) string {
	var ids []int64
	has := map[string]bool{}
	for _, f := range fams {
		if id, ok := keyspace.ProductFamilyID(f.name); ok {
			ids = append(ids, id)
			continue
		}
		has[f.name] = true
	}
	args := []string{"cachectl", "clear"}
	if len(ids) > 0 {
		slices.Sort(ids)
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = strconv.FormatInt(id, 10)
		}
		args = append(args, "--product-id", strings.Join(s, ","))
	}
	switch {
	case has[famLists.name] && len(ids) > 0:
		args = append(args, "--cascade")
	case has[famLists.name]:
		args = append(args, "--pattern", keyspace.ListingsPattern)
	}
	if has[famRecs.name] {
		args = append(args, "--pattern", keyspace.RecommendationsPattern)
	}
	// Any other family is cleared with its whole group, by the group's flag.
	for _, g := range keyspace.Builtin() {
		if slices.ContainsFunc(g.Families, func(f keyspace.Family) bool {
			return has[f.Name] && f.Name != famLists.name && f.Name != famRecs.name
		}) {
			args = append(args, "--"+g.Name)
		}
	}
	if schema.Prefix != keyspace.DefaultPrefix {
		args = append(args, "--prefix", schema.Prefix)
	}
	if schema.Version != keyspace.DefaultVersion {
		args = append(args, "--key-version", strconv.Itoa(schema.Version))
	}
	args = append(append(args, extra...), "--yes")
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
