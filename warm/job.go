package warm

import (
	"context"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// Job is one `cachectl warm` run: where its plan comes from, how its
// requests are sent, what it proves in Redis, and how often it repeats.
type Job struct {
	Source
	Config
	// Every repeats the round on this schedule (Every); 0 runs it once.
	Every time.Duration
	// Deep also warms the products the built-in plan saw (RoundConfig.Deep).
	Deep bool
	// Verify reads Redis before and after the round; VerifyForced makes an
	// unreachable Redis an error rather than a reason to skip it.
	Verify, VerifyForced bool
	// MinCoverage is the share (0-1) of the planned URLs whose key must be
	// in Redis with a TTL (RoundReport.CoverageAtLeast).
	MinCoverage float64
	// FailFast stops at the first failed URL: MaxFailures 1.
	FailFast bool
}

// Validate refuses settings and combinations no run should start with (an
// *option.Error naming the flags).
func (j Job) Validate() error {
	err := option.First(j.Source.Validate(), j.Config.Validate())
	switch {
	case err != nil:
		return err
	case j.Every < 0:
		return option.Errorf("--every must be positive")
	case j.Deep && !j.Builtin():
		return option.Errorf("--deep goes with the built-in plan, not --urls, --sitemap or --plan")
	case j.MinCoverage < 0 || j.MinCoverage > 1:
		return option.Errorf("--min-coverage must be between 0 and 1")
	case j.MinCoverage > 0 && !j.Verify:
		return option.Errorf("--min-coverage needs --verify: coverage is read in Redis")
	}
	return nil
}

// Round is the job's round against api: its plan, its requests (one failure
// ends them with FailFast), verified in rdb when it is not nil.
func (j Job) Round(api *url.URL, schema keyspace.Schema, rdb redis.UniversalClient) RoundConfig {
	cfg := j.Config
	if j.FailFast {
		cfg.MaxFailures = 1
	}
	return RoundConfig{Config: cfg, API: api, Schema: schema, Redis: rdb, Plan: j.Planner(api), Deep: j.Deep}
}

// VerifyConn opens the Redis that Verify reads, with open: nil without
// Verify. When open fails and VerifyForced is not set, the round goes
// unverified: the connection is nil and skipped says why. The context
// ending is an error.
func (j Job) VerifyConn(ctx context.Context, open func(context.Context) (*redisconn.Conn, error)) (conn *redisconn.Conn, skipped, err error) {
	if !j.Verify {
		return nil, nil, nil
	}
	conn, err = open(ctx)
	switch {
	case err == nil:
		return conn, nil, nil
	case j.VerifyForced || ctx.Err() != nil:
		return nil, nil, err
	}
	return nil, err, nil
}
