package warm

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/option/optiontest"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

func TestJobValidate(t *testing.T) {
	valid := Job{Config: Config{Concurrency: 8, Retries: 2, RequestTimeout: time.Second}, Verify: true}
	for _, tc := range []struct {
		name string
		edit func(*Job)
		want string // "" for valid
	}{
		{"defaults", func(*Job) {}, ""},
		{"source", func(j *Job) { j.URLs, j.Sitemap = "a.txt", "http://x/sitemap.xml" }, "cannot be used together"},
		{"config", func(j *Job) { j.Concurrency = 0 }, "--concurrency"},
		{"every", func(j *Job) { j.Every = -time.Second }, "--every must be positive"},
		{"deep with urls", func(j *Job) { j.Deep, j.URLs = true, "a.txt" }, "--deep goes with the built-in plan"},
		{"deep", func(j *Job) { j.Deep = true }, ""},
		{"coverage range", func(j *Job) { j.MinCoverage = 1.5 }, "between 0 and 1"},
		{"coverage unverified", func(j *Job) { j.MinCoverage, j.Verify = 0.5, false }, "needs --verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := valid
			tc.edit(&j)
			optiontest.Want(t, j.Validate(), tc.want)
		})
	}
}

func TestJobRound(t *testing.T) {
	api, _ := url.Parse("http://127.0.0.1:1")
	schema := keyspace.New("shop", 1)
	j := Job{Config: Config{Concurrency: 3, MaxFailures: 5}, Deep: true}
	rc := j.Round(api, schema, nil)
	if rc.API != api || rc.Schema.Namespace() != schema.Namespace() || !rc.Deep || rc.Plan != nil || rc.Config.MaxFailures != 5 || rc.Redis != nil {
		t.Errorf("Round = %+v, want the built-in plan, deep, 5 failures at most, no Redis", rc)
	}
	j.FailFast, j.URLs, j.Deep = true, "urls.txt", false
	if rc := j.Round(api, schema, nil); rc.Config.MaxFailures != 1 || rc.Plan == nil {
		t.Errorf("Round with --fail-fast and --urls: MaxFailures %d, plan set %v; want 1 and a plan", rc.Config.MaxFailures, rc.Plan != nil)
	}
}

func TestJobVerifyConn(t *testing.T) {
	ctx := context.Background()
	down := errors.New("connection refused")
	up := &redisconn.Conn{Addr: "redis://h:6379/0"}
	open := func(c *redisconn.Conn, err error) func(context.Context) (*redisconn.Conn, error) {
		return func(context.Context) (*redisconn.Conn, error) { return c, err }
	}
	if conn, skipped, err := (Job{}).VerifyConn(ctx, open(nil, down)); conn != nil || skipped != nil || err != nil {
		t.Errorf("without Verify: %v, %v, %v; want nothing opened", conn, skipped, err)
	}
	if conn, _, err := (Job{Verify: true}).VerifyConn(ctx, open(up, nil)); conn != up || err != nil {
		t.Errorf("reachable: %v, %v; want the connection", conn, err)
	}
	if conn, skipped, err := (Job{Verify: true}).VerifyConn(ctx, open(nil, down)); conn != nil || skipped != down || err != nil {
		t.Errorf("unreachable: %v, %v, %v; want verification skipped for the error", conn, skipped, err)
	}
	if _, skipped, err := (Job{Verify: true, VerifyForced: true}).VerifyConn(ctx, open(nil, down)); skipped != nil || err != down {
		t.Errorf("unreachable, forced: %v, %v; want the error", skipped, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, skipped, err := (Job{Verify: true}).VerifyConn(cancelled, open(nil, context.Canceled)); skipped != nil || err == nil {
		t.Errorf("interrupted: %v, %v; want the error", skipped, err)
	}
}
