package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

type keysOptions struct {
	IO     *iostreams.IOStreams
	Redis  func(context.Context) (*redisconn.Conn, error)
	Schema func() (keyspace.Schema, error)
	Format output.Format
	Quiet  bool

	Groups  []string
	Samples int
	Count   int64
}

// keysSample and keysGroup make up the `keys` JSON contract (DESIGN.md).
type keysSample struct {
	Key   string `json:"key"`
	TTLs  int64  `json:"ttl_s"` // -1: no expiry
	Bytes int64  `json:"bytes"`
}

type keysGroup struct {
	Keys           int64        `json:"keys"`
	MemoryBytesEst int64        `json:"memory_bytes_est"`
	AvgTTLs        float64      `json:"avg_ttl_s"`
	Samples        []keysSample `json:"samples"`
}

type keysResult struct {
	Op        string               `json:"op"`
	Groups    map[string]keysGroup `json:"groups"`
	TotalKeys int64                `json:"total_keys"`
}

func newKeysCmd(f *factory, runF func(context.Context, *keysOptions) error) *cobra.Command {
	opts := &keysOptions{IO: f.IO, Redis: f.Redis, Schema: f.Schema}
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Count the cached keys per group and estimate their memory",
		Long: `Count the keys of every group exactly, in one SCAN pass over every master
(never KEYS), and measure a random sample of each group with PTTL and
MEMORY USAGE: the estimated memory of a group is the mean sampled size times
its key count. Read-only.`,
		Example: `  # what is cached right now?
  cachectl keys
  # only products, in CI
  cachectl keys --group products --json | jq .groups.products.keys`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.format(output.Table, output.JSON, output.Markdown)
			if err != nil {
				return err
			}
			opts.Format = fm
			opts.Quiet = f.opts.Quiet
			if err := firstErr(
				inRange("samples", opts.Samples, 1, maxSamples),
				inRange("count", opts.Count, 1, maxScanCount),
			); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runKeys(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&opts.Groups, "group", nil, "only these groups (default: every group of the schema)")
	fl.IntVar(&opts.Samples, "samples", 5, "keys measured per group (on each master)")
	fl.Int64Var(&opts.Count, "count", keyspace.DefaultScanCount, "SCAN COUNT hint")
	return cmd
}

func runKeys(ctx context.Context, opts *keysOptions) error {
	schema, err := opts.Schema()
	if err != nil {
		return err
	}
	names := opts.Groups
	if len(names) == 0 {
		for _, g := range schema.Groups() {
			names = append(names, g.Name)
		}
	}
	var sel keyspace.Selection
	for _, n := range names {
		t, err := schema.Group(strings.TrimSpace(n))
		if err != nil {
			return err
		}
		sel = append(sel, t)
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	survey, err := keyspace.Survey(ctx, conn.Client, sel, keyspace.SurveyConfig{Count: opts.Count, Samples: opts.Samples})
	if err != nil {
		return fmt.Errorf("survey keys on %s: %w", conn.Addr, err)
	}
	res := keysResult{Op: "keys", Groups: map[string]keysGroup{}}
	for _, s := range survey {
		g := keysGroup{Keys: s.Keys, MemoryBytesEst: s.MemoryEst, AvgTTLs: s.AvgTTL.Seconds(), Samples: []keysSample{}}
		for _, k := range s.Samples {
			ttl := int64(-1)
			if k.TTL >= 0 {
				ttl = int64(k.TTL / time.Second)
			}
			g.Samples = append(g.Samples, keysSample{Key: k.Key, TTLs: ttl, Bytes: k.Bytes})
		}
		res.Groups[s.Name] = g
		res.TotalKeys += s.Keys
	}
	if opts.Quiet {
		return nil
	}
	if res.TotalKeys == 0 {
		defer printElsewhere(ctx, opts.IO, conn, schema)
	}
	switch opts.Format {
	case output.JSON:
		return output.WriteJSON(opts.IO, res)
	case output.Markdown:
		return keysTable(opts.IO, survey, true).RenderMarkdown(opts.IO.Out)
	}
	if err := keysTable(opts.IO, survey, opts.IO.IsStdoutTTY()).Render(); err != nil {
		return err
	}
	if !opts.IO.IsStdoutTTY() {
		return nil
	}
	// A person also gets a few sample keys per group; scripts use --json for them.
	tp := output.NewTable(opts.IO, "SAMPLE", "GROUP", "TTL", "SIZE")
	for _, s := range survey {
		for i, k := range s.Samples {
			if i == 3 {
				break
			}
			ttl := "none"
			if k.TTL >= 0 {
				ttl = k.TTL.Round(time.Second).String()
			}
			tp.AddRow(displayKey(k.Key), s.Name, ttl, formatSize(k.Bytes))
		}
	}
	fmt.Fprintln(opts.IO.Out)
	return tp.Render()
}

// keysTable is the per-group table: human units for a person, raw numbers for a pipe.
func keysTable(ios *iostreams.IOStreams, survey []keyspace.TargetSurvey, human bool) *output.TablePrinter {
	var tp *output.TablePrinter
	if human {
		tp = output.NewTable(ios, "GROUP", "KEYS", "MEMORY (EST.)", "AVG TTL")
	} else {
		tp = output.NewTable(ios, "group", "keys", "memory_bytes_est", "avg_ttl_s")
	}
	var keys, mem int64
	for _, s := range survey {
		keys += s.Keys
		if s.MemoryEst < 0 || mem < 0 {
			mem = -1 // one unknown size makes the total unknown
		} else {
			mem += s.MemoryEst
		}
		if human {
			ttl := "-"
			if s.TTLSamples > 0 {
				ttl = s.AvgTTL.Round(time.Second).String()
			}
			tp.AddRow(s.Name, strconv.FormatInt(s.Keys, 10), formatSize(s.MemoryEst), ttl)
		} else {
			tp.AddRow(s.Name, strconv.FormatInt(s.Keys, 10), strconv.FormatInt(s.MemoryEst, 10),
				strconv.FormatFloat(s.AvgTTL.Seconds(), 'f', 1, 64))
		}
	}
	if human {
		tp.AddRow("total", strconv.FormatInt(keys, 10), formatSize(mem), "")
	}
	return tp
}

// displayKey shows a key as is when it is printable UTF-8, quoted with
// escapes otherwise, so a binary key cannot garble the terminal.
func displayKey(k string) string {
	if utf8.ValidString(k) && strings.IndexFunc(k, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return k
	}
	return strconv.Quote(k)
}

// formatSize is output.Bytes, as stats and top print memory, with "n/a"
// where MEMORY USAGE was not permitted.
func formatSize(n int64) string {
	if n < 0 {
		return "n/a"
	}
	return output.Bytes(n)
}
