package tui

import (
	"context"
	"testing"
)

// sampledApp is a hit rate per group sampled from Redis's commands.
type sampledApp struct{}

func (sampledApp) App(context.Context) (AppStats, error) {
	return AppStats{Sampled: true, Note: "sampled 250ms every 5s, 3 windows", Groups: map[string]AppGroup{
		"products": {Hits: 93, Misses: 7, Lo: 0.86, Hi: 0.97, Sampled: true},
	}}, nil
}

// A sampled hit rate is labelled as such, with its margin and how it was
// sampled.
func TestAppPanelSampled(t *testing.T) {
	h := newHarness(t, true)
	h.m.cfg.App = sampledApp{}
	h.size(160, 48)
	h.tick()
	h.wantScreen("hit rate by group (sampled)", "products", "93.0% ±7", "sampled 250ms every 5s, 3 windows")
	h.notOnScreen("from /metrics")
}
