package topfeed

import (
	"context"
	"fmt"

	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/tui"
)

// DetailSamples is how many keys per master the drill-down measures: more
// than the dashboard's counts do, as it surveys one group when asked.
const DetailSamples = 200

// Detail surveys one group, for the dashboard's drill-down: an exact count
// in one SCAN pass, PTTL and MEMORY USAGE of a sample, and its biggest keys.
func (r Redis) Detail(ctx context.Context, group string) (tui.GroupDetail, error) {
	t, err := r.target(group)
	if err != nil {
		return tui.GroupDetail{}, err
	}
	survey, err := keyspace.Survey(ctx, r.Client, keyspace.Selection{t}, keyspace.SurveyConfig{Samples: DetailSamples})
	if err != nil {
		return tui.GroupDetail{}, err
	}
	return detail(survey[0]), nil
}

// Count is the exact number of keys a clear of the group would delete: the
// same target and the same count as `clear --group NAME --dry-run`.
func (r Redis) Count(ctx context.Context, group string) (int64, error) {
	t, err := r.target(group)
	if err != nil {
		return 0, err
	}
	counts, err := keyspace.Count(ctx, r.Client, keyspace.Selection{t}, keyspace.DefaultScanCount)
	if err != nil {
		return 0, err
	}
	return counts[0], nil
}

func (r Redis) target(group string) (keyspace.Target, error) {
	for _, t := range r.Selection {
		if t.Name == group {
			return t, nil
		}
	}
	return keyspace.Target{}, fmt.Errorf("%w %q", keyspace.ErrUnknownGroup, group)
}

// detail maps a survey onto what the drill-down shows.
func detail(t keyspace.TargetSurvey) tui.GroupDetail {
	d := tui.GroupDetail{
		Name: t.Name, Keys: t.Keys, Sampled: len(t.Samples),
		Memory: t.MemoryEst, MemoryKnown: t.MemoryEst >= 0,
		TTLP50: t.TTLP50, TTLP90: t.TTLP90, TTLKnown: t.TTLSamples > 0,
		NoTTL: t.NoTTL, ExpiringSoon: t.ExpiringSoon, Soon: keyspace.DefaultSoon,
		TTLExact: t.Exact["ttl"], BiggestExact: t.Exact["biggest"], Skew: t.Skew,
	}
	for _, b := range t.TTLHistogram {
		upper := b.Upper
		if upper == keyspace.TTLOver {
			upper = tui.TTLOver
		}
		d.Histogram = append(d.Histogram, tui.TTLBucket{Upper: upper, Count: int64(b.Count)})
	}
	for _, k := range t.Biggest {
		d.Biggest = append(d.Biggest, tui.KeySize{Key: k.Key, Bytes: k.Bytes})
	}
	for _, n := range t.Nodes {
		d.Nodes = append(d.Nodes, tui.NodeKeys{Addr: n.Addr, Keys: n.Keys, Memory: n.MemoryEst,
			NoTTL: n.NoTTL, TTLP50: n.TTLP50, TTLKnown: n.TTLSamples > 0})
	}
	return d
}
