package keyspace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ErrPlanRefused is wrapped by Apply's error when it deletes nothing because
// the plan no longer describes the server: another server (*PlanServerError)
// or a key set that drifted more than allowed (*DriftError).
var ErrPlanRefused = errors.New("plan refused")

// PlanServerError says that a plan was made on other servers than the ones
// the client reaches now.
type PlanServerError struct {
	Plan, Now PlanServer
}

func (e *PlanServerError) Error() string {
	db := e.Plan.DB != e.Now.DB
	return fmt.Sprintf("the plan was made on %s; this is %s", e.Plan.describe(db), e.Now.describe(db))
}

func (e *PlanServerError) Unwrap() error { return ErrPlanRefused }

// describe names the servers, and the database when db is set.
func (s PlanServer) describe(db bool) string {
	if len(s.Nodes) == 0 {
		return "no server"
	}
	if !s.Cluster {
		n := s.Nodes[0]
		if db {
			return fmt.Sprintf("run_id %s (%s) db %d", orUnknown(n.RunID), n.Addr, s.DB)
		}
		return fmt.Sprintf("run_id %s (%s)", orUnknown(n.RunID), n.Addr)
	}
	parts := make([]string, len(s.Nodes))
	for i, n := range s.Nodes {
		parts[i] = fmt.Sprintf("node %s run_id %s (%s)", orUnknown(short(n.NodeID)), orUnknown(short(n.RunID)), n.Addr)
	}
	return "a cluster of masters " + strings.Join(parts, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// same reports whether now is the deployment s was made on: the same kind,
// the same database, and the same server processes (run_id, and node id on a cluster), where
// they are known; addresses may differ (another name for the same server).
func (s PlanServer) same(now PlanServer) bool {
	if s.Cluster != now.Cluster || s.DB != now.DB || len(s.Nodes) != len(now.Nodes) {
		return false
	}
	for _, n := range s.Nodes {
		if !slices.ContainsFunc(now.Nodes, func(m PlanNode) bool { return sameID(n.id(), m.id()) }) {
			return false
		}
	}
	return true
}

// sameID compares what both sides know; an id neither side could learn
// (no INFO permission) does not refuse.
func sameID(a, b serverID) bool {
	return (a.RunID == "" || b.RunID == "" || a.RunID == b.RunID) &&
		(a.NodeID == "" || b.NodeID == "" || a.NodeID == b.NodeID)
}

// Drift is how the key set differs from the plan's: keys that match the
// selection now and are not in the plan, and planned keys that are gone.
type Drift struct {
	Added, Gone             int64
	AddedSample, GoneSample []string // the first few of each, sorted
}

// DriftError refuses an apply whose key set drifted more than allowed.
type DriftError struct {
	Drift
	Allowed int64
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("the keys changed since the plan was made: %d added, %d gone (%d allowed)", e.Added, e.Gone, e.Allowed)
}

func (e *DriftError) Unwrap() error { return ErrPlanRefused }

const driftSamples = 5

// diff walks two sorted key sets.
func diff(plan, now []string) Drift {
	var d Drift
	i, j := 0, 0
	for i < len(plan) || j < len(now) {
		switch {
		case j == len(now) || i < len(plan) && plan[i] < now[j]:
			d.Gone++
			if len(d.GoneSample) < driftSamples {
				d.GoneSample = append(d.GoneSample, plan[i])
			}
			i++
		case i == len(plan) || now[j] < plan[i]:
			d.Added++
			if len(d.AddedSample) < driftSamples {
				d.AddedSample = append(d.AddedSample, now[j])
			}
			j++
		default:
			i, j = i+1, j+1
		}
	}
	return d
}

// ApplyConfig tunes Apply.
type ApplyConfig struct {
	// Count, Batch and Pause are used as Clear uses them; Progress too,
	// for the deletion only (not the rescan before Confirm).
	ClearConfig
	// AllowDrift is the most added plus gone keys an apply accepts.
	AllowDrift int64
	// Confirm, when set, is called after the checks and before the first
	// UNLINK, with the plan's count and the drift; an error stops the apply
	// with nothing deleted.
	Confirm func(planned int64, d Drift) error
}

// ApplyResult is the outcome of an Apply.
type ApplyResult struct {
	Result        // of the deletion: its Matched and Deleted count planned keys only
	Planned int64 // the plan's count: what was confirmed
	Drift   Drift
}

// Apply carries out a plan: it rescans the plan's selection under its
// conditions, refuses (ErrPlanRefused) when the servers are not the plan's
// or the key set drifted by more than cfg.AllowDrift keys, and then clears
// as Clear does (passes, identity checks, honest completion, *ClearError)
// but deletes only keys of the plan's key set, on the plan's servers: a
// key added since the plan is never deleted, and a pass that finds another
// server than the plan's fails as a changed server.
func Apply(ctx context.Context, c redis.UniversalClient, p *Plan, cfg ApplyConfig) (ApplyResult, error) {
	res := ApplyResult{Result: EmptyResult(p.Selection), Planned: p.Keys}
	cfg.Conditions, cfg.DryRun, cfg.Limit = p.Conditions.conditions(), false, 0
	rescan := cfg.ClearConfig
	rescan.Progress = nil // the deletion's progress, after the question
	now, err := MakePlan(ctx, c, p.Selection, PlanConfig{ClearConfig: rescan, Samples: -1})
	if err != nil {
		res.Complete = false
		return res, err
	}
	if !p.Server.same(now.Server) {
		return res, &PlanServerError{Plan: p.Server, Now: now.Server}
	}
	res.Drift = diff(p.KeySet, now.KeySet)
	if d := res.Drift.Added + res.Drift.Gone; d > cfg.AllowDrift {
		return res, &DriftError{Drift: res.Drift, Allowed: cfg.AllowDrift}
	}
	if cfg.Confirm != nil {
		if err := cfg.Confirm(p.Keys, res.Drift); err != nil {
			return res, err
		}
	}
	r, err := clearWatched(ctx, c, p.Selection, cfg.ClearConfig, &applyWatch{plan: p})
	res.Result = r
	return res, err
}

// applyWatch admits the plan's keys only, on the plan's servers only.
type applyWatch struct{ plan *Plan }

func (w *applyWatch) startPass() {}

func (w *applyWatch) node(addr string, id serverID) error {
	for _, n := range w.plan.Server.Nodes {
		if sameID(n.id(), id) {
			return nil
		}
	}
	was := serverID{}
	if len(w.plan.Server.Nodes) == 1 {
		was = w.plan.Server.Nodes[0].id()
	}
	return &ServerChangedError{Addr: addr, Was: was, Now: id}
}

func (w *applyWatch) admit(key string) bool {
	_, ok := slices.BinarySearch(w.plan.KeySet, key)
	return ok
}

func (w *applyWatch) found(string, []string, []int) {}
