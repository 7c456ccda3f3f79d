package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

type statsOptions struct {
	IO     *iostreams.IOStreams
	Redis  func(context.Context) (*redisconn.Conn, error)
	Schema func() (keyspace.Schema, error)
	Format output.Format
	Quiet  bool
	// Groups counts the keys of every group exactly (one SCAN pass).
	Groups    bool
	ScanCount int64
}

// statsResult is the `stats` JSON contract of DESIGN.md §4.
type statsResult struct {
	Op             string                `json:"op"`
	Addr           string                `json:"addr"`
	Version        string                `json:"version"`
	Role           string                `json:"role"`
	Cluster        bool                  `json:"cluster"`
	UptimeS        int64                 `json:"uptime_s"`
	Clients        int64                 `json:"clients"`
	Memory         statsMemory           `json:"memory"`
	KeyspaceHits   int64                 `json:"keyspace_hits"`
	KeyspaceMisses int64                 `json:"keyspace_misses"`
	HitRate        float64               `json:"hit_rate"`
	EvictedKeys    int64                 `json:"evicted_keys"`
	ExpiredKeys    int64                 `json:"expired_keys"`
	OpsPerSec      float64               `json:"ops_per_sec"`
	DBs            map[string]statsDB    `json:"dbs"`
	Groups         map[string]statsGroup `json:"groups,omitempty"`
}

type statsMemory struct {
	Used          int64   `json:"used"`
	Peak          int64   `json:"peak"`
	Max           int64   `json:"max"`
	Policy        string  `json:"policy"`
	Fragmentation float64 `json:"fragmentation"`
}

type statsDB struct {
	Keys     int64 `json:"keys"`
	Expires  int64 `json:"expires"`
	AvgTTLMs int64 `json:"avg_ttl_ms"`
}

type statsGroup struct {
	Keys int64 `json:"keys"`
}

func newStatsCmd(f *factory, runF func(context.Context, *statsOptions) error) *cobra.Command {
	opts := &statsOptions{IO: f.IO, Redis: f.Redis, Schema: f.Schema}
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print one snapshot of what Redis says about itself",
		Long: `Read INFO once and print the server's version, role, uptime, clients, memory
(used, peak, max, eviction policy, fragmentation), keys per database, hits,
misses, the lifetime hit rate, evicted and expired keys and ops/s, then count
the keys of every group exactly with SCAN. In a cluster every master is asked
and the figures are summed.

The hit rate is keyspace_hits / (keyspace_hits + keyspace_misses) since the
server started, 0 before the first lookup. --groups=false skips the SCAN, which
walks the whole keyspace, on very large databases.

Exits 1 when this user may not run INFO (ACL), 3 when Redis cannot be reached.`,
		Example: `  # on call: how is the cache doing?
  cachectl stats --redis rediss://cache.internal:6380/0
  # in CI: the hit rate after a warm-up
  cachectl stats --json | jq .hit_rate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.format(output.Table, output.JSON)
			if err != nil {
				return err
			}
			opts.Format = fm
			opts.Quiet = f.opts.Quiet
			if err := inRange("count", opts.ScanCount, 1, maxScanCount); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStats(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Groups, "groups", true, "count the keys of each group exactly (a SCAN of the whole keyspace)")
	cmd.Flags().Int64Var(&opts.ScanCount, "count", keyspace.DefaultScanCount, "SCAN COUNT hint for the group counts")
	return cmd
}

func runStats(ctx context.Context, opts *statsOptions) error {
	res, err := collectStats(ctx, opts)
	if err != nil {
		return err
	}
	if opts.Quiet {
		return nil
	}
	if res.Groups != nil && groupsEmpty(res.Groups) {
		if conn, err := opts.Redis(ctx); err == nil {
			if schema, err := opts.Schema(); err == nil {
				defer printElsewhere(ctx, opts.IO, conn, schema)
			}
		}
	}
	if opts.Format == output.JSON {
		return output.WriteJSON(opts.IO, res)
	}
	return printStats(opts.IO, res)
}

// collectStats takes the snapshot and, when asked, the exact group counts.
func collectStats(ctx context.Context, opts *statsOptions) (statsResult, error) {
	conn, err := opts.Redis(ctx)
	if err != nil {
		return statsResult{}, err
	}
	snap, err := inspect.Take(ctx, conn.Client)
	if err != nil {
		return statsResult{}, redisError(conn, "INFO", err)
	}
	res := statsFromSnapshot(conn, snap)
	if !opts.Groups {
		return res, nil
	}
	schema, err := opts.Schema()
	if err != nil {
		return statsResult{}, err
	}
	sel, err := groupSelection(schema)
	if err != nil {
		return statsResult{}, err
	}
	counts, err := inspect.CountGroups(ctx, conn.Client, sel, opts.ScanCount)
	if err != nil {
		return statsResult{}, redisError(conn, "SCAN", err)
	}
	res.Groups = map[string]statsGroup{}
	for _, g := range counts {
		res.Groups[g.Name] = statsGroup{Keys: g.Keys}
	}
	return res, nil
}

func groupsEmpty(groups map[string]statsGroup) bool {
	for _, g := range groups {
		if g.Keys > 0 {
			return false
		}
	}
	return true
}

// groupSelection is every group of the schema but "all", which is their
// union: the registry's groups, then the config file's.
func groupSelection(schema keyspace.Schema) (keyspace.Selection, error) {
	return schema.Selection(), nil
}

// notPermittedError is an ACL refusal: the job cannot run, but retrying or
// another address will not help, so it is exit 1, not 3.
type notPermittedError struct {
	addr, command string
	cause         error
}

func (e *notPermittedError) Error() string {
	return fmt.Sprintf("redis at %s does not allow %s for this user (NOPERM)", e.addr, e.command)
}
func (e *notPermittedError) Unwrap() error { return e.cause }
func (e *notPermittedError) Hint() string {
	return fmt.Sprintf("grant it with ACL SETUSER <user> +%s, or connect as a user that has it (--user)", strings.ToLower(e.command))
}

// redisError turns a failure of command while reading Redis into the
// exit-code contract: NOPERM is exit 1 with its own message, anything else
// means Redis could not be reached (exit 3).
func redisError(conn *redisconn.Conn, command string, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case inspect.NotPermitted(err):
		return &notPermittedError{addr: conn.Addr, command: command, cause: err}
	}
	return &redisconn.Error{Addr: conn.Addr, Op: "reach", Cause: err}
}

func statsFromSnapshot(conn *redisconn.Conn, s inspect.Snapshot) statsResult {
	res := statsResult{
		Op: "stats", Addr: conn.Addr, Version: s.Version, Role: s.Role,
		Cluster: conn.Cluster || s.Cluster, UptimeS: s.UptimeS, Clients: s.Clients,
		Memory: statsMemory{
			Used: s.Memory.Used, Peak: s.Memory.Peak, Max: s.Memory.Max,
			Policy: s.Memory.Policy, Fragmentation: s.Memory.Fragmentation,
		},
		KeyspaceHits: s.Hits, KeyspaceMisses: s.Misses,
		EvictedKeys: s.Evicted, ExpiredKeys: s.Expired, OpsPerSec: s.OpsPerSec,
		DBs: map[string]statsDB{},
	}
	res.HitRate, _ = s.HitRate()
	for idx, db := range s.DBs {
		res.DBs["db"+strconv.Itoa(idx)] = statsDB{Keys: db.Keys, Expires: db.Expires, AvgTTLMs: db.AvgTTLMs}
	}
	return res
}

// printStats prints a labelled list for a person, or stable "name<TAB>value"
// lines with raw numbers when piped.
func printStats(ios *iostreams.IOStreams, res statsResult) error {
	dbNames := make([]string, 0, len(res.DBs))
	for name := range res.DBs {
		dbNames = append(dbNames, name)
	}
	// db2 before db10.
	slices.SortFunc(dbNames, func(a, b string) int {
		x, _ := strconv.Atoi(strings.TrimPrefix(a, "db"))
		y, _ := strconv.Atoi(strings.TrimPrefix(b, "db"))
		return x - y
	})
	groupNames := make([]string, 0, len(res.Groups))
	for name := range res.Groups {
		groupNames = append(groupNames, name)
	}
	slices.Sort(groupNames)

	if !ios.IsStdoutTTY() {
		tp := output.NewTable(ios)
		i := func(n int64) string { return strconv.FormatInt(n, 10) }
		fl := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
		tp.AddRow("addr", res.Addr)
		tp.AddRow("version", res.Version)
		tp.AddRow("role", res.Role)
		tp.AddRow("cluster", strconv.FormatBool(res.Cluster))
		tp.AddRow("uptime_s", i(res.UptimeS))
		tp.AddRow("clients", i(res.Clients))
		tp.AddRow("memory_used", i(res.Memory.Used))
		tp.AddRow("memory_peak", i(res.Memory.Peak))
		tp.AddRow("memory_max", i(res.Memory.Max))
		tp.AddRow("memory_policy", res.Memory.Policy)
		tp.AddRow("memory_fragmentation", fl(res.Memory.Fragmentation))
		tp.AddRow("keyspace_hits", i(res.KeyspaceHits))
		tp.AddRow("keyspace_misses", i(res.KeyspaceMisses))
		tp.AddRow("hit_rate", fl(res.HitRate))
		tp.AddRow("evicted_keys", i(res.EvictedKeys))
		tp.AddRow("expired_keys", i(res.ExpiredKeys))
		tp.AddRow("ops_per_sec", fl(res.OpsPerSec))
		for _, name := range dbNames {
			db := res.DBs[name]
			tp.AddRow(name+".keys", i(db.Keys))
			tp.AddRow(name+".expires", i(db.Expires))
			tp.AddRow(name+".avg_ttl_ms", i(db.AvgTTLMs))
		}
		for _, name := range groupNames {
			tp.AddRow("group."+name+".keys", i(res.Groups[name].Keys))
		}
		return tp.Render()
	}

	mode := "standalone"
	if res.Cluster {
		mode = "cluster"
	}
	fmt.Fprintf(ios.Out, "%s  version %s  %s  %s  up %s\n\n", res.Addr, res.Version, res.Role, mode, humanUptime(res.UptimeS))
	maxMem := "no limit"
	if res.Memory.Max > 0 {
		maxMem = output.Bytes(res.Memory.Max) + " max"
	}
	hitRate := "no lookups yet"
	if res.KeyspaceHits+res.KeyspaceMisses > 0 {
		hitRate = fmt.Sprintf("%.1f%%  (%d hits, %d misses)", 100*res.HitRate, res.KeyspaceHits, res.KeyspaceMisses)
	}
	tp := output.NewTable(ios)
	tp.AddRow("clients", strconv.FormatInt(res.Clients, 10))
	tp.AddRow("memory", fmt.Sprintf("%s used, %s peak, %s, policy %s, fragmentation %.2f",
		output.Bytes(res.Memory.Used), output.Bytes(res.Memory.Peak), maxMem, res.Memory.Policy, res.Memory.Fragmentation))
	tp.AddRow("hit rate", hitRate)
	tp.AddRow("evicted keys", strconv.FormatInt(res.EvictedKeys, 10))
	tp.AddRow("expired keys", strconv.FormatInt(res.ExpiredKeys, 10))
	tp.AddRow("ops/s", strconv.FormatFloat(res.OpsPerSec, 'f', -1, 64))
	if err := tp.Render(); err != nil {
		return err
	}
	fmt.Fprintln(ios.Out)
	dbs := output.NewTable(ios, "DB", "KEYS", "EXPIRES", "AVG TTL")
	for _, name := range dbNames {
		db := res.DBs[name]
		dbs.AddRow(name, strconv.FormatInt(db.Keys, 10), strconv.FormatInt(db.Expires, 10),
			(time.Duration(db.AvgTTLMs) * time.Millisecond).Round(time.Second).String())
	}
	if len(dbNames) == 0 {
		dbs.AddRow("(no keys)")
	}
	if err := dbs.Render(); err != nil {
		return err
	}
	if len(groupNames) == 0 {
		return nil
	}
	fmt.Fprintln(ios.Out)
	groups := output.NewTable(ios, "GROUP", "KEYS")
	for _, name := range groupNames {
		groups.AddRow(name, strconv.FormatInt(res.Groups[name].Keys, 10))
	}
	return groups.Render()
}

// humanUptime prints 3d4h, 5h12m, 7m3s.
func humanUptime(s int64) string {
	d, h, m := s/86400, s%86400/3600, s%3600/60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd%dh", d, h)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s%60)
	}
	return fmt.Sprintf("%ds", s)
}
