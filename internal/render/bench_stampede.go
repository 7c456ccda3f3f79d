package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
)

// benchStampede writes the stampede section of bench's table, when --stampede
// ran: per endpoint, what N requests released together at its just-cleared
// key cost the origin and the cache, and how long they took.
func benchStampede(ios *iostreams.IOStreams, rep bench.Report) {
	var rows []bench.Result
	for _, e := range rep.Endpoints {
		if e.Stampede != nil {
			rows = append(rows, e)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(ios.Out, "\nstampede: %d concurrent requests released together at each endpoint's just-cleared key\n", rows[0].Stampede.N)
	cs := ios.ColorScheme()
	tp := output.NewTable(ios, "ENDPOINT", "ORIGIN QUERIES", "CACHE WRITES", "COALESCED", "BY CACHE", "ERRORS", "P50", "P99", "MAX")
	var notes []string
	for _, e := range rows {
		s := e.Stampede
		coalesced := "n/a"
		if s.Coalesced != nil {
			coalesced = cs.Green("yes")
			if !*s.Coalesced {
				coalesced = cs.Red("no")
			}
		}
		var states []string
		for _, st := range bench.CacheStates {
			if n := s.ByCache[st]; n > 0 {
				states = append(states, st+" "+strconv.Itoa(n))
			}
		}
		tp.AddRow(e.Name, stampedeCount(s.OriginQueries), stampedeCount(s.CacheWrites), coalesced, strings.Join(states, ", "),
			strconv.Itoa(s.Errors), benchMs(s.P50), benchMs(s.P99), benchMs(s.Max))
		if s.Note != "" {
			notes = append(notes, e.Name+": "+s.Note)
		}
		if s.Cached != nil && !*s.Cached {
			notes = append(notes, e.Name+": the key was not stored again by the stampede")
		}
	}
	_ = tp.Render()
	fmt.Fprintln(ios.Out, "coalesced: the key was stored at most once, so at most one request loaded it from the origin")
	for _, n := range notes {
		fmt.Fprintln(ios.Out, n)
	}
}

func stampedeCount(n int) string {
	if n < 0 {
		return "n/a"
	}
	return strconv.Itoa(n)
}
