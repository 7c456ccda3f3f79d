// Package check is the cache's end-to-end checklist (what the Django
// project's test_redis_cache.sh did): connect, clear, warm, a MISS then a
// HIT per endpoint, keys, stats, and a write through the API that must
// invalidate exactly its keys. It prints nothing: each step reaches the
// caller through a callback as it ends, and Run returns the report.
package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/format"
	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
	"github.com/cachectl/cachectl/warm"
)

// Config is what the checklist runs against, and the jobs it hands back to
// its caller.
type Config struct {
	// Redis connects; its error ends the checklist.
	Redis  func(context.Context) (*redisconn.Conn, error)
	Schema keyspace.Schema
	// Groups is what the clear step deletes and the keys step counts: every
	// group of the schema but their union.
	Groups keyspace.Selection
	// API is the catalog API, each request bounded by its timeout.
	API *catalogapi.Client
	// RedisAddr names Redis (redacted) in the report until it is reached.
	RedisAddr string

	// AdminToken enables the write probe; AdminAuthScheme is how it is sent
	// (catalogapi.SchemeBearer, SchemeToken), or "" to follow the API's
	// 401. SchemeBasic writes with the credentials the API client holds.
	AdminToken      string
	AdminAuthScheme string

	// SkipClear keeps the groups' keys (shared environments).
	SkipClear bool
	// ReadOnly, when it names the switch that set it, skips every step that
	// writes: the clear, the endpoints' MISS then HIT, the write probe.
	ReadOnly string
	// Cleared, if set, is told what the clear step deleted (the audit trail).
	Cleared func(keyspace.Result, error)
	// Confirm asks before the clear deletes total keys (counts per target of
	// Groups); false ends the checklist with ErrClearRefused. Nil: no question.
	Confirm func(ctx context.Context, conn *redisconn.Conn, counts []int64, total int64) (bool, error)
	// Warm runs the built-in warm plan once, verified in Redis; nil runs
	// it through API (its client, timeout and headers), WarmConcurrency
	// requests in flight, WarmRetries retries.
	Warm func(ctx context.Context, rdb redis.UniversalClient) (*warm.RoundReport, error)
}

// Step is one line of the checklist (DESIGN.md, the check JSON contract).
type Step struct {
	Name       string  `json:"name"`
	OK         bool    `json:"ok"`
	Skipped    bool    `json:"skipped,omitempty"`
	Detail     string  `json:"detail"`
	DurationMs float64 `json:"duration_ms"`
}

// Report is the JSON of `cachectl check`.
type Report struct {
	Op     string `json:"op"`
	API    string `json:"api"`
	Redis  string `json:"redis"`
	Steps  []Step `json:"steps"`
	Passed bool   `json:"passed"`
}

// FirstFailure returns the first step that failed, if any.
func (r *Report) FirstFailure() (Step, bool) {
	for _, s := range r.Steps {
		if !s.OK {
			return s, true
		}
	}
	return Step{}, false
}

// Err names the first step that failed; nil when none did.
func (r *Report) Err() error {
	if s, failed := r.FirstFailure(); failed {
		return fmt.Errorf("check failed at step %s: %s", s.Name, s.Detail)
	}
	return nil
}

// Failed counts the steps that failed.
func (r *Report) Failed() int {
	n := 0
	for _, s := range r.Steps {
		if !s.OK {
			n++
		}
	}
	return n
}

// ErrClearRefused ends the checklist when the clear was not confirmed: the
// steps after it would delete keys of their own.
var ErrClearRefused = errors.New("not confirmed: nothing deleted")

// Run runs the checklist, calling onStep (if not nil) as each step ends. A
// non-nil error means it could not go on (Redis or the API unreachable,
// interrupted, the clear refused); the report then holds the steps done so far.
func Run(ctx context.Context, cfg Config, onStep func(Step)) (Report, error) {
	c := &checker{cfg: cfg, onStep: onStep}
	c.rep = Report{Op: "check", API: redact.URL(cfg.API.Base().String()), Redis: cfg.RedisAddr, Steps: []Step{}}
	err := c.run(ctx)
	c.rep.Passed = err == nil
	if _, failed := c.rep.FirstFailure(); failed {
		c.rep.Passed = false
	}
	return c.rep, err
}

type checker struct {
	cfg    Config
	onStep func(Step)
	rep    Report
	conn   *redisconn.Conn
	obs    *observe.Observer // nil until the endpoint steps, and where keys cannot be observed
}

// result is what a step function returns: ok, skipped, or a failure.
type result struct {
	ok, skipped bool
	detail      string
}

func passed(format string, a ...any) result {
	return result{ok: true, detail: fmt.Sprintf(format, a...)}
}
func failed(format string, a ...any) result {
	return result{detail: fmt.Sprintf(format, a...)}
}
func skipped(format string, a ...any) result {
	return result{ok: true, skipped: true, detail: fmt.Sprintf(format, a...)}
}

type stepFunc func(context.Context) (result, error)

// step runs one step and records it; an error is recorded as a failed step
// and returned.
func (c *checker) step(ctx context.Context, name string, fn stepFunc) (bool, error) {
	start := time.Now()
	res, err := fn(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		res = failed("%s", firstLine(err.Error()))
	}
	s := Step{Name: name, OK: res.ok, Skipped: res.skipped, Detail: res.detail, DurationMs: format.Millis(time.Since(start))}
	c.rep.Steps = append(c.rep.Steps, s)
	if c.onStep != nil {
		c.onStep(s)
	}
	return res.ok, err
}

// do runs a step; only an error that ends the checklist is returned.
func (c *checker) do(ctx context.Context, name string, fn stepFunc) (bool, error) {
	ok, err := c.step(ctx, name, fn)
	if err != nil && isFatal(err) {
		return false, err
	}
	return ok, nil
}

func (c *checker) run(ctx context.Context) error {
	if _, err := c.step(ctx, "connect", c.connect); err != nil {
		return err
	}
	if ok, err := c.do(ctx, "api", c.api); err != nil || !ok {
		return err // nothing else can be checked without the API
	}
	for _, s := range []struct {
		name string
		fn   stepFunc
	}{{"clear", c.clear}, {"warm", c.warm}} {
		if _, err := c.do(ctx, s.name, s.fn); err != nil {
			return err
		}
	}
	if err := c.endpoints(ctx); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		fn   stepFunc
	}{{"keys", c.keys}, {"stats", c.stats}, {"invalidation", c.invalidation}} {
		if _, err := c.do(ctx, s.name, s.fn); err != nil {
			return err
		}
	}
	return nil
}

// isFatal says whether an error ends the checklist: Redis or the API gone,
// an interruption, or the clear refused.
func isFatal(err error) bool {
	return errors.Is(err, redisconn.ErrConnect) || errors.As(err, new(*catalogapi.UnreachableError)) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrClearRefused)
}

func (c *checker) redisErr(command string, err error) error {
	return redisconn.CommandError(c.conn.Addr, command, err)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// abbreviate lists the first n items and how many more there are.
func abbreviate(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
