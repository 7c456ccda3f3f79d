package render

import (
	"fmt"
	"strconv"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
)

// PingResult is the JSON of `cachectl ping`.
type PingResult struct {
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

// Ping prints res as JSON, as a line and a list for a person, or as
// "name<TAB>value" lines when piped; a cluster's nodes follow as a table.
func Ping(ios *iostreams.IOStreams, fm output.Format, res PingResult) error {
	if fm == output.JSON {
		return output.WriteJSON(ios, res)
	}
	tp := output.NewTable(ios)
	if ios.IsStdoutTTY() {
		fmt.Fprintf(ios.Out, "%s from %s in %.2f ms\n", res.Reply, res.Addr, res.RTTMs)
		tp.AddRow("version", res.Version)
		tp.AddRow("role", res.Role)
		tp.AddRow("mode", pingMode(res))
		if !res.Cluster {
			tp.AddRow("db", strconv.Itoa(res.DB))
		}
	} else {
		tp.AddRow("reply", res.Reply)
		tp.AddRow("addr", res.Addr)
		tp.AddRow("rtt_ms", strconv.FormatFloat(res.RTTMs, 'f', 3, 64))
		tp.AddRow("version", res.Version)
		tp.AddRow("role", res.Role)
		tp.AddRow("cluster", strconv.FormatBool(res.Cluster))
		tp.AddRow("db", strconv.Itoa(res.DB))
	}
	if err := tp.Render(); err != nil || !res.Cluster {
		return err
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintln(ios.Out)
	}
	return pingNodes(ios, res.Nodes)
}

func pingMode(res PingResult) string {
	if !res.Cluster {
		return "standalone"
	}
	var masters, replicas int
	for _, n := range res.Nodes {
		if n.Role == "master" {
			masters++
		} else {
			replicas++
		}
	}
	return fmt.Sprintf("cluster, %d masters, %d replicas", masters, replicas)
}

func pingNodes(ios *iostreams.IOStreams, nodes []redisconn.Node) error {
	tp := output.NewTable(ios, "NODE", "ROLE", "SLOTS", "STATE", "ID")
	for _, n := range nodes {
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
