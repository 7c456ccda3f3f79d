package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
)

type pingOptions struct {
	IO     *iostreams.IOStreams
	Redis  func(context.Context) (*redisconn.Conn, error)
	Format output.Format
	Quiet  bool
	Count  int
}

// pingResult is the JSON of `cachectl ping`.
type pingResult struct {
	Op      string           `json:"op"`
	Addr    string           `json:"addr"`
	Reply   string           `json:"reply"`
	RTTMs   float64          `json:"rtt_ms"`
	Version string           `json:"version"`
	Role    string           `json:"role"`
	Cluster bool             `json:"cluster"`
	DB      int              `json:"db"`
	Nodes   []redisconn.Node `json:"nodes,omitempty"`
}

func newPingCmd(f *factory, runF func(context.Context, *pingOptions) error) *cobra.Command {
	opts := &pingOptions{IO: f.IO, Redis: f.Redis}
	cmd := &cobra.Command{
		Use:   "ping",
		Short: "Check that Redis answers, and say what it is",
		Long: `Connect to Redis, authenticate, and report PONG, the round-trip time, the
server version and role, and whether it is a cluster (with its nodes).
Exits 3 when Redis cannot be reached or refuses the credentials.`,
		Example: `  # on call: is production's cache up?
  CACHECTL_REDIS_PASSWORD=... cachectl ping --redis rediss://cache.internal:6380/0
  # in CI: wait for Redis, then read the version
  until cachectl ping -q; do sleep 1; done; cachectl ping --json | jq -r .version
  # a cluster: one seed address is enough
  cachectl ping --redis redis://10.0.0.5:7000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.format(output.Table, output.JSON)
			if err != nil {
				return err
			}
			opts.Format = fm
			opts.Quiet = f.opts.Quiet
			if err := inRange("count", opts.Count, 1, maxPings); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runPing(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVarP(&opts.Count, "count", "n", 5, "PINGs to time; the median is reported")
	return cmd
}

func runPing(ctx context.Context, opts *pingOptions) error {
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	res := pingResult{Op: "ping", Addr: conn.Addr, Cluster: conn.Cluster, DB: conn.DB}
	rtts := make([]time.Duration, 0, opts.Count)
	for range opts.Count {
		start := time.Now()
		reply, err := conn.Client.Ping(ctx).Result()
		if err != nil {
			return &redisconn.Error{Addr: conn.Addr, Op: "reach", Cause: err}
		}
		rtts = append(rtts, time.Since(start))
		res.Reply = reply
	}
	slices.Sort(rtts)
	res.RTTMs = ms(rtts[len(rtts)/2])

	res.Version, res.Role = serverIdentity(ctx, conn.Client)
	if conn.Cluster {
		if res.Nodes, err = redisconn.ClusterNodes(ctx, conn.Client); err != nil {
			return err
		}
	}
	if opts.Quiet {
		return nil
	}
	if opts.Format == output.JSON {
		return output.WriteJSON(opts.IO, res)
	}
	return printPing(opts.IO, res)
}

// serverIdentity reads the version and role from INFO (inspect.ServerIdentity).
func serverIdentity(ctx context.Context, c redis.UniversalClient) (version, role string) {
	return inspect.ServerIdentity(ctx, c)
}

func printPing(ios *iostreams.IOStreams, res pingResult) error {
	mode := "standalone"
	if res.Cluster {
		var masters, replicas int
		for _, n := range res.Nodes {
			if n.Role == "master" {
				masters++
			} else {
				replicas++
			}
		}
		mode = fmt.Sprintf("cluster, %d masters, %d replicas", masters, replicas)
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintf(ios.Out, "%s from %s in %.2f ms\n", res.Reply, res.Addr, res.RTTMs)
		tp := output.NewTable(ios)
		tp.AddRow("version", res.Version)
		tp.AddRow("role", res.Role)
		tp.AddRow("mode", mode)
		if !res.Cluster {
			tp.AddRow("db", strconv.Itoa(res.DB))
		}
		if err := tp.Render(); err != nil {
			return err
		}
	} else {
		tp := output.NewTable(ios)
		tp.AddRow("reply", res.Reply)
		tp.AddRow("addr", res.Addr)
		tp.AddRow("rtt_ms", strconv.FormatFloat(res.RTTMs, 'f', 3, 64))
		tp.AddRow("version", res.Version)
		tp.AddRow("role", res.Role)
		tp.AddRow("cluster", strconv.FormatBool(res.Cluster))
		tp.AddRow("db", strconv.Itoa(res.DB))
		if err := tp.Render(); err != nil {
			return err
		}
	}
	if !res.Cluster {
		return nil
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintln(ios.Out)
	}
	tp := output.NewTable(ios, "NODE", "ROLE", "SLOTS", "STATE", "ID")
	for _, n := range res.Nodes {
		state := "connected"
		switch {
		case n.Failing:
			state = "failing"
		case !n.Connected:
			state = "disconnected"
		}
		tp.AddRow(n.Addr, n.Role, strconv.Itoa(n.Slots), state, n.ID)
	}
	return tp.Render()
}

func ms(d time.Duration) float64 {
	return float64(d.Nanoseconds()) / 1e6
}
