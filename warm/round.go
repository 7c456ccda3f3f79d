package warm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/keyspace"
)

// RoundConfig says what one round of warming does: build the plan, run it
// (and with Deep the products it saw), and verify in Redis.
type RoundConfig struct {
	Config Config // how the requests are sent; OnBody is the round's when Deep is set
	API    *url.URL
	Schema keyspace.Schema
	// Redis, when set, is read before and after the run to prove the keys exist.
	Redis redis.UniversalClient
	// Plan builds the round's plan afresh; nil means the built-in plan,
	// discovered from the API.
	Plan func(context.Context, Config) (Plan, error)
	// Deep also warms detail, variants and recommendations of every product
	// the plan's lists returned.
	Deep bool
	// OnPlan is told each plan before it runs: the round's, then the deep one.
	OnPlan func(Plan)
	// OnDone is told when the requests have ended, before Redis is read again.
	OnDone func()
}

// RoundReport is what one round did: the JSON of `cachectl warm`.
type RoundReport struct {
	Op         string       `json:"op"`
	API        string       `json:"api"`
	Source     string       `json:"source"`
	URLs       int          `json:"urls"`
	OK         int          `json:"ok"`
	Failed     int          `json:"failed"`
	Skipped    int          `json:"skipped"`
	Hits       *int         `json:"hits"`    // null when no response said, nor Redis showed, its cache state
	Misses     *int         `json:"misses"`  // likewise
	Unknown    int          `json:"unknown"` // successful requests whose cache state is unknown
	Retries    int          `json:"retries"`
	DurationMs float64      `json:"duration_ms"`
	Results    []Result     `json:"results"`
	Verify     Verification `json:"verify"`
	// Warnings say where the API did not answer as the plan assumed.
	Warnings []string `json:"warnings"`
	// Observed says how Redis was watched; null when it was not.
	Observed *Observed `json:"observed"`
}

// Observed is how a round's requests were observed in Redis.
type Observed struct {
	Mechanism string `json:"mechanism"`
	Degraded  string `json:"degraded,omitempty"`
	// Headers is true when the API named its keys and cache state, and
	// warm trusted them after the first request.
	Headers bool   `json:"headers"`
	Error   string `json:"error,omitempty"` // an observation that failed; the round went on without
}

// BuiltinHint follows an error about an API that does not answer as the
// built-in plan assumes.
const BuiltinHint = "if the API names or nests these differently, describe its warm-up in a file: cachectl warm --plan FILE (see the README)"

// shapeError is ErrShape from the built-in plan, with what to do about it.
type shapeError struct{ err error }

func (e shapeError) Error() string { return e.err.Error() }
func (e shapeError) Unwrap() error { return e.err }
func (e shapeError) Hint() string  { return BuiltinHint }

// Round builds and runs the plan once, verifying in Redis when rc.Redis is
// set. It never prints. The report is returned, partial, even when the run
// was interrupted; it is nil when no request could be sent.
func Round(ctx context.Context, rc RoundConfig) (*RoundReport, error) {
	rep := &RoundReport{Op: "warm", API: redact.URL(rc.API.String()), Results: []Result{},
		Verify: Verification{Missing: []string{}}, Warnings: []string{}}
	if rc.Redis != nil {
		n, err := CountKeys(ctx, rc.Redis, rc.Schema)
		if err != nil {
			return nil, err
		}
		rep.Verify.KeysBefore = n
	}
	cfg := rc.Config
	plan, err := rc.plan(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rep.Source = plan.Source
	rep.Warnings = append(rep.Warnings, plan.Warnings...)
	var seen []int64
	if rc.Deep {
		cfg.OnBody = func(_ Request, body []byte) { seen = append(seen, ProductIDs(body)...) }
	}
	rc.told(plan)
	res, runErr := Run(ctx, cfg, plan)
	if runErr == nil && len(seen) > 0 {
		deep := DeepPlan(rc.API, seen)
		rc.told(deep)
		cfg.OnBody = nil
		var more Report
		more, runErr = Run(ctx, cfg, deep)
		res = res.Append(more)
	}
	if rc.OnDone != nil {
		rc.OnDone()
	}
	rep.URLs, rep.OK, rep.Failed, rep.Skipped = res.URLs, res.OK, res.Failed, res.Skipped
	if res.Known > 0 {
		rep.Hits, rep.Misses = &res.Hits, &res.Misses
	}
	rep.Unknown, rep.Retries = res.OK-res.Known, res.Retries
	if w := rc.Config.Observe; w != nil {
		rep.Observed = &Observed{Mechanism: string(w.Mechanism()), Degraded: w.Degraded(), Headers: w.Trusting()}
		if err := w.Err(); err != nil {
			rep.Observed.Error = err.Error()
		}
	}
	rep.DurationMs = float64(res.Duration.Nanoseconds()) / 1e6
	rep.Results = append(rep.Results, res.Results...)
	if runErr != nil {
		return rep, runErr
	}
	if rc.Redis != nil {
		return rep, rep.verify(ctx, rc)
	}
	return rep, nil
}

func (rc RoundConfig) plan(ctx context.Context, cfg Config) (Plan, error) {
	if rc.Plan != nil {
		return rc.Plan(ctx, cfg)
	}
	plan, err := BuiltinPlan(ctx, cfg, rc.API)
	if errors.Is(err, ErrShape) {
		err = shapeError{err}
	}
	return plan, err
}

func (rc RoundConfig) told(p Plan) {
	if rc.OnPlan != nil {
		rc.OnPlan(p)
	}
}

// verify counts the keys after the run and names the expected ones missing.
func (r *RoundReport) verify(ctx context.Context, rc RoundConfig) error {
	var err error
	if r.Verify.KeysAfter, err = CountKeys(ctx, rc.Redis, rc.Schema); err != nil {
		return err
	}
	missing, err := MissingKeys(ctx, rc.Redis, rc.Schema, ExpectedKeys(r.Results))
	if err != nil {
		return err
	}
	r.Verify.Checked = true
	r.Verify.Missing = append(r.Verify.Missing, missing...)
	r.Verify.Coverage = coverage(r.Results, missing, r.URLs)
	return nil
}

// Summary is the round in one line, as a schedule prints it.
func (r *RoundReport) Summary() string {
	s := fmt.Sprintf("%d urls, %d ok, %d failed, %s cached now, %s already hit, %d retries, %.0f ms",
		r.URLs, r.OK, r.Failed, Count(r.Misses), Count(r.Hits), r.Retries, r.DurationMs)
	if r.Verify.Checked {
		s += fmt.Sprintf(", keys %d -> %d", r.Verify.KeysBefore, r.Verify.KeysAfter)
		if len(r.Verify.Missing) > 0 {
			s += ", missing " + strings.Join(r.Verify.Missing, " ")
		}
	}
	return s
}

// Count is n, or "unknown" when it could not be measured.
func Count(n *int) string {
	if n == nil {
		return "unknown"
	}
	return fmt.Sprint(*n)
}

// Succeeded reports whether every URL was warmed and every expected key found.
func (r *RoundReport) Succeeded() bool { return r.Failed == 0 && len(r.Verify.Missing) == 0 }

// CoverageError is a round whose coverage is below the share asked for.
type CoverageError struct {
	Coverage Coverage
	Min      float64
}

func (e *CoverageError) Error() string {
	return fmt.Sprintf("coverage %d/%d (%.1f%%) is below %.1f%%: the other URLs' keys are not in Redis with a TTL",
		e.Coverage.Covered, e.Coverage.Planned, 100*e.Coverage.Ratio, 100*e.Min)
}

// CoverageAtLeast is nil when the round covered at least min of its URLs
// (or min is 0).
func (r *RoundReport) CoverageAtLeast(min float64) error {
	if min <= 0 || r.Verify.Coverage == nil || r.Verify.Coverage.Ratio >= min {
		return nil
	}
	return &CoverageError{Coverage: *r.Verify.Coverage, Min: min}
}

// Transient reports whether err is the API failing this round (unreachable,
// a failed discovery request, an unexpected shape), which a schedule
// outlives, rather than a fault of the round's own set-up.
func Transient(err error) bool {
	return errors.As(err, new(*UnreachableError)) || errors.As(err, new(*RequestError)) || errors.Is(err, ErrShape)
}

// Every runs a round every interval until ctx ends, and returns ctx.Err()
// then. Each round's outcome goes to onRound (n counts from 1); an API
// failing is that round's news (Transient) and the schedule goes on, any
// other error ends it.
func Every(ctx context.Context, interval time.Duration, round func() RoundConfig, onRound func(n int, rep *RoundReport, err error)) error {
	for n := 1; ; n++ {
		rep, err := Round(ctx, round())
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !Transient(err):
			return err
		}
		onRound(n, rep, err)
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
