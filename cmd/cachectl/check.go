package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/check"
	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/build"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/keyspace"
)

type checkOptions struct {
	common
	apiTarget

	// Check holds what the flags say (the admin token and its scheme,
	// --skip-clear, the redacted Redis address); checkRun adds the rest.
	Check          check.Config
	Yes            bool // clear without asking
	RequestTimeout time.Duration
}

func newCheckCmd(f *factory, runF func(context.Context, *checkOptions) error) *cobra.Command {
	opts := &checkOptions{}
	var scheme string
	cmd := newCommand(f, "check", "Prove end to end that the API caches in Redis and invalidates on writes", opts,
		[]output.Format{output.Table, output.JSON}, func(cmd *cobra.Command) error {
			return opts.complete(f, cmd, scheme)
		}, runF, runCheck)
	fl := cmd.Flags()
	fl.StringVar(&opts.Check.AdminToken, "admin-token", "", "API token for the invalidation probe (unsafe on the command line: prefer "+envAdminToken+")")
	fl.StringVar(&scheme, "admin-auth-scheme", "auto", "how the write probe authenticates: bearer or token (the admin token as Authorization: Bearer or Token, DRF's TokenAuthentication), basic (the credentials in --api, DRF's BasicAuthentication), or auto: the token in the scheme the API's 401 names")
	fl.BoolVar(&opts.Check.SkipClear, "skip-clear", false, "do not clear the schema's groups first (shared environments)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "clear the schema's groups without asking (needed without a terminal, unless --skip-clear)")
	fl.DurationVar(&opts.RequestTimeout, "request-timeout", 10*time.Second, "timeout of each API request")
	return cmd
}

// complete fills the options from the global flags, the environment and
// --admin-auth-scheme.
func (opts *checkOptions) complete(f *factory, cmd *cobra.Command, scheme string) error {
	if err := f.apiTarget(&opts.apiTarget); err != nil {
		return err
	}
	if opts.RequestTimeout <= 0 {
		return usageErrorf("--request-timeout must be positive")
	}
	c := &opts.Check
	c.AdminToken = f.adminToken(cmd.Flags().Changed("admin-token"), c.AdminToken)
	c.RedisAddr = redisconn.Redact(f.opts.RedisURL)
	var err error
	if c.AdminAuthScheme, err = catalogapi.ParseScheme(scheme); err != nil {
		return usageErrorf("--admin-auth-scheme %w", err)
	}
	if u, err := url.Parse(f.opts.API); c.AdminAuthScheme == catalogapi.SchemeBasic && (err != nil || u.User == nil) {
		return usageErrorf("--admin-auth-scheme basic writes with the credentials of --api: give them there (%s=http://USER:PASSWORD@host)", envAPI)
	}
	return nil
}

func runCheck(ctx context.Context, opts *checkOptions) error {
	if !opts.Check.SkipClear && !opts.Yes && !opts.IO.CanPrompt() && opts.ReadOnlyBy == "" {
		return checkRefusal(opts)
	}
	pr := newCheckPrinter(opts)
	rep, err := checkRun(ctx, opts, pr.Step)
	return finishCheck(opts, pr, rep, err)
}

// checkRefusal is clear's rule: no deleting without a terminal to ask on,
// unless told to.
func checkRefusal(opts *checkOptions) error {
	return hinted(usageErrorf("refusing to clear the groups %s under %q in %s without confirmation: no terminal to ask on",
		strings.Join(opts.Schema.Selection().Names(), ", "), opts.Schema.Namespace(), opts.Check.RedisAddr),
		"add --yes to clear them, or --skip-clear on a shared environment to keep them")
}

// checkRun runs the checklist, calling onStep as each step ends. A non-nil
// error means it could not go on (Redis or the API unreachable,
// interrupted, the clear refused); the report then holds the steps done so far.
func checkRun(ctx context.Context, opts *checkOptions, onStep func(check.Step)) (check.Report, error) {
	groups, cfg := opts.Schema.Selection(), opts.Check
	cfg.Redis, cfg.Schema, cfg.Groups, cfg.ReadOnly = opts.Redis, opts.Schema, groups, opts.ReadOnlyBy
	cfg.API = catalogapi.New(opts.API, opts.Client).WithTimeout(opts.RequestTimeout).
		WithHeader(http.Header{"User-Agent": {build.UserAgent()}})
	cfg.Cleared = func(res keyspace.Result, err error) { opts.record(ctx, audit.OfClear("check", res, err)) }
	if !opts.Yes {
		cfg.Confirm = func(ctx context.Context, conn *redisconn.Conn, counts []int64, total int64) (bool, error) {
			return render.AskClear(ctx, opts.IO, opts.Schema, conn, groups, counts, total)
		}
	}
	rep, err := check.Run(ctx, cfg, onStep)
	if errors.Is(err, check.ErrClearRefused) {
		err = hinted(err, "run with --skip-clear to check without clearing the groups")
	}
	return rep, err
}

// newCheckPrinter prints the steps as they end, unless JSON or -q.
func newCheckPrinter(opts *checkOptions) *render.CheckPrinter {
	return render.NewCheckPrinter(opts.IO, opts.Format != output.JSON && !opts.Quiet)
}

// finishCheck prints the end of the checklist and maps the outcome to an error.
func finishCheck(opts *checkOptions, pr *render.CheckPrinter, rep check.Report, err error) error {
	if perr := pr.End(opts.Format == output.JSON, rep); perr != nil {
		return perr
	}
	if err != nil {
		return err
	}
	return rep.Err()
}
