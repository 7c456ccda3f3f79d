package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/bench"
	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/build"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

type checkOptions struct {
	IO     *iostreams.IOStreams
	Redis  func(context.Context) (*redisconn.Conn, error)
	Schema keyspace.Schema
	Client *http.Client
	API    *url.URL
	Format output.Format
	Quiet  bool

	RedisAddr  string // redacted, for the report when Redis cannot be reached
	AdminToken string
	// AdminAuthScheme is how the token is sent: "Bearer", "Token", or ""
	// to follow the scheme the API's 401 names (WWW-Authenticate). "Basic"
	// writes with the credentials of --api instead of a token.
	AdminAuthScheme string
	SkipClear       bool
	Yes             bool // clear without asking (demo passes it for its own Redis)
	RequestTimeout  time.Duration
}

// checkStep is one line of the checklist (DESIGN.md, the check JSON contract).
type checkStep struct {
	Name       string  `json:"name"`
	OK         bool    `json:"ok"`
	Skipped    bool    `json:"skipped,omitempty"`
	Detail     string  `json:"detail"`
	DurationMs float64 `json:"duration_ms"`
}

// checkReport is the JSON of `cachectl check`.
type checkReport struct {
	Op     string      `json:"op"`
	API    string      `json:"api"`
	Redis  string      `json:"redis"`
	Steps  []checkStep `json:"steps"`
	Passed bool        `json:"passed"`
}

// firstFailure returns the first step that failed, if any.
func (r *checkReport) firstFailure() (checkStep, bool) {
	for _, s := range r.Steps {
		if !s.OK {
			return s, true
		}
	}
	return checkStep{}, false
}

func newCheckCmd(f *factory, runF func(context.Context, *checkOptions) error) *cobra.Command {
	opts := &checkOptions{IO: f.IO, Redis: f.Redis}
	var scheme string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Prove end to end that the API caches in Redis and invalidates on writes",
		Long: `Run the cache's checklist against --api and --redis, one step after the other,
each marked passed or failed with the reason and how long it took:

  connect       PING, server version, role, cluster or not
  api           the catalog API answers
  clear         delete the keys of every group of the schema, as clear does:
                on a terminal after showing the target and the count and
                asking, without one only with --yes; --skip-clear keeps them
                (shared environments)
  warm          the built-in warm plan, verified in Redis
  endpoint ...  for each endpoint bench knows: delete its key, then a first
                request that must be a MISS and a second that must be a HIT
  keys          cached keys by group
  stats         hit rate and memory from INFO
  invalidation  with an admin token: change a product's price through the API,
                prove that exactly its keys are gone (its detail and the
                listings; another product's detail and the colors stay), and
                put the price back

It replaces the Django project's test_redis_cache.sh. Exits 1 naming the first
failed step (or when the clear is not confirmed), 2 without a terminal when
neither --yes nor --skip-clear is given, 3 when Redis or the API cannot be
reached.`,
		Example: `  # after a deploy (on call): is the cache doing its job? (asks before clearing)
  cachectl check --api https://catalog.internal --redis rediss://cache.internal:6380/0
  # in CI, with the write probe, as JSON
  CACHECTL_ADMIN_TOKEN=$TOKEN cachectl check --yes --json > check.json
  # on a shared staging Redis: keep the keys others rely on
  cachectl check --skip-clear`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.format(output.Table, output.JSON)
			if err != nil {
				return err
			}
			opts.Format, opts.Quiet = fm, f.opts.Quiet
			if opts.API, opts.Client, err = f.API(); err != nil {
				return err
			}
			if opts.Schema, err = f.Schema(); err != nil {
				return err
			}
			if opts.RequestTimeout <= 0 {
				return usageErrorf("--request-timeout must be positive")
			}
			if cmd.Flags().Changed("admin-token") {
				f.warnf("warning: a token on the command line is visible to other users of this machine; use %s", envAdminToken)
			} else {
				opts.AdminToken = f.Getenv(envAdminToken)
			}
			opts.RedisAddr = redisconn.Redact(f.opts.RedisURL)
			switch strings.ToLower(scheme) {
			case "auto":
				opts.AdminAuthScheme = ""
			case "bearer":
				opts.AdminAuthScheme = "Bearer"
			case "token":
				opts.AdminAuthScheme = "Token"
			case "basic":
				if u, err := url.Parse(f.opts.API); err != nil || u.User == nil {
					return usageErrorf("--admin-auth-scheme basic writes with the credentials of --api: give them there (%s=http://USER:PASSWORD@host)", envAPI)
				}
				opts.AdminAuthScheme = "Basic"
			default:
				return usageErrorf("--admin-auth-scheme %q: want auto, bearer, token or basic", scheme)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.AdminToken, "admin-token", "", "API token for the invalidation probe (unsafe on the command line: prefer "+envAdminToken+")")
	fl.StringVar(&scheme, "admin-auth-scheme", "auto", "how the write probe authenticates: bearer or token (the admin token as Authorization: Bearer or Token, DRF's TokenAuthentication), basic (the credentials in --api, DRF's BasicAuthentication), or auto: the token in the scheme the API's 401 names")
	fl.BoolVar(&opts.SkipClear, "skip-clear", false, "do not clear the schema's groups first (shared environments)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "clear the schema's groups without asking (needed without a terminal, unless --skip-clear)")
	fl.DurationVar(&opts.RequestTimeout, "request-timeout", 10*time.Second, "timeout of each API request")
	return cmd
}

func runCheck(ctx context.Context, opts *checkOptions) error {
	if !opts.SkipClear && !opts.Yes && !opts.IO.CanPrompt() {
		// As clear: no deleting without a terminal to ask on, unless told to.
		sel, err := groupSelection(opts.Schema)
		if err != nil {
			return err
		}
		names := make([]string, len(sel))
		for i, t := range sel {
			names[i] = t.Name
		}
		return hinted{usageErrorf("refusing to clear the groups %s under %q in %s without confirmation: no terminal to ask on",
			strings.Join(names, ", "), opts.Schema.Namespace(), opts.RedisAddr),
			"add --yes to clear them, or --skip-clear on a shared environment to keep them"}
	}
	pr := newCheckPrinter(opts)
	rep, err := checkRun(ctx, opts, pr.step)
	return finishCheck(opts, pr, rep, err)
}

// finishCheck prints the end of the checklist and maps the outcome to an error.
func finishCheck(opts *checkOptions, pr *checkPrinter, rep checkReport, err error) error {
	if opts.Format == output.JSON {
		if jerr := output.WriteJSON(opts.IO, rep); jerr != nil {
			return jerr
		}
	} else {
		pr.summary(rep)
	}
	if err != nil {
		return err
	}
	if s, failed := rep.firstFailure(); failed {
		return fmt.Errorf("check failed at step %s: %s", s.Name, s.Detail)
	}
	return nil
}

// checkRun runs the checklist, calling onStep as each step ends. A non-nil
// error means it could not go on (Redis or the API unreachable, interrupted);
// the report then holds the steps done so far.
func checkRun(ctx context.Context, opts *checkOptions, onStep func(checkStep)) (checkReport, error) {
	c := &checker{opts: opts, onStep: onStep}
	c.rep = checkReport{Op: "check", API: redact.URL(opts.API.String()), Redis: opts.RedisAddr, Steps: []checkStep{}}
	err := c.run(ctx)
	c.rep.Passed = err == nil
	if _, failed := c.rep.firstFailure(); failed {
		c.rep.Passed = false
	}
	return c.rep, err
}

type checker struct {
	opts   *checkOptions
	onStep func(checkStep)
	rep    checkReport
	conn   *redisconn.Conn
	scheme string // how the admin token is sent, learned from a 401 when auto
}

// stepResult is what a step function returns: ok, skipped, or a failure, and
// a fatal error when the checklist cannot go on.
type stepResult struct {
	ok, skipped bool
	detail      string
}

func passed(format string, a ...any) stepResult {
	return stepResult{ok: true, detail: fmt.Sprintf(format, a...)}
}
func failed(format string, a ...any) stepResult {
	return stepResult{detail: fmt.Sprintf(format, a...)}
}
func skipped(format string, a ...any) stepResult {
	return stepResult{ok: true, skipped: true, detail: fmt.Sprintf(format, a...)}
}

// step runs one step and records it; fatal errors are recorded as a failed
// step and returned.
func (c *checker) step(ctx context.Context, name string, fn func(context.Context) (stepResult, error)) (bool, error) {
	start := time.Now()
	res, err := fn(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		res = failed("%s", firstLine(err.Error()))
	}
	s := checkStep{Name: name, OK: res.ok, Skipped: res.skipped, Detail: res.detail, DurationMs: ms(time.Since(start))}
	c.rep.Steps = append(c.rep.Steps, s)
	if c.onStep != nil {
		c.onStep(s)
	}
	return res.ok, err
}

func (c *checker) run(ctx context.Context) error {
	// do runs a step; only an error that ends the checklist is returned.
	do := func(name string, fn func(context.Context) (stepResult, error)) (bool, error) {
		ok, err := c.step(ctx, name, fn)
		if err != nil && isFatal(err) {
			return false, err
		}
		return ok, nil
	}
	if _, err := c.step(ctx, "connect", c.connect); err != nil {
		return err
	}
	if ok, err := do("api", c.api); err != nil || !ok {
		return err // nothing else can be checked without the API
	}
	if _, err := do("clear", c.clear); err != nil {
		return err
	}
	if _, err := do("warm", c.warm); err != nil {
		return err
	}
	eps, err := bench.DefaultEndpoints(ctx, c.opts.Client, c.opts.API, c.opts.RequestTimeout)
	if err != nil {
		if _, err := do("endpoints", func(context.Context) (stepResult, error) { return stepResult{}, err }); err != nil {
			return err
		}
	}
	for _, ep := range eps {
		if _, err := do("endpoint "+ep.Name, func(ctx context.Context) (stepResult, error) { return c.endpoint(ctx, ep) }); err != nil {
			return err
		}
	}
	for _, s := range []struct {
		name string
		fn   func(context.Context) (stepResult, error)
	}{{"keys", c.keys}, {"stats", c.stats}, {"invalidation", c.invalidation}} {
		if _, err := do(s.name, s.fn); err != nil {
			return err
		}
	}
	return nil
}

// isFatal says whether an error ends the checklist: Redis or the API gone,
// or an interruption.
func isFatal(err error) bool {
	return errors.Is(err, redisconn.ErrConnect) || errors.As(err, new(*warm.UnreachableError)) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, errClearRefused)
}

func (c *checker) connect(ctx context.Context) (stepResult, error) {
	conn, err := c.opts.Redis(ctx)
	if err != nil {
		return stepResult{}, err
	}
	c.conn = conn
	c.rep.Redis = conn.Addr
	start := time.Now()
	reply, err := conn.Client.Ping(ctx).Result()
	if err != nil {
		return stepResult{}, &redisconn.Error{Addr: conn.Addr, Op: "reach", Cause: err}
	}
	rtt := time.Since(start)
	version, role := serverIdentity(ctx, conn.Client)
	mode := "standalone"
	if conn.Cluster {
		nodes, err := redisconn.ClusterNodes(ctx, conn.Client)
		if err != nil {
			return stepResult{}, err
		}
		masters := 0
		for _, n := range nodes {
			if n.Role == "master" {
				masters++
			}
		}
		mode = fmt.Sprintf("cluster of %d masters", masters)
	}
	return passed("%s in %.2f ms · redis %s · %s · %s · %s", reply, ms(rtt), version, role, mode, conn.Addr), nil
}

func (c *checker) api(ctx context.Context) (stepResult, error) {
	u := c.opts.API.JoinPath("/api/categories/").String()
	r, err := c.request(ctx, http.MethodGet, u, nil)
	if err != nil {
		return stepResult{}, err
	}
	if r.status != http.StatusOK {
		return failed("GET %s: HTTP %d", u, r.status), nil
	}
	// A plain JSON array, or a DRF page of them.
	var cats []json.RawMessage
	var page struct {
		Count   *int64            `json:"count"`
		Results []json.RawMessage `json:"results"`
	}
	n := int64(0)
	switch {
	case json.Unmarshal(r.body, &cats) == nil:
		n = int64(len(cats))
	case json.Unmarshal(r.body, &page) == nil && page.Results != nil:
		n = int64(len(page.Results))
		if page.Count != nil {
			n = *page.Count
		}
	default:
		return failed("GET %s: neither a JSON list of categories nor a page of them (count, results)", u), nil
	}
	return passed("HTTP 200 in %.1f ms · %d categories · %s", ms(r.latency), n, c.opts.API), nil
}

func (c *checker) clear(ctx context.Context) (stepResult, error) {
	if c.opts.SkipClear {
		return skipped("skipped (--skip-clear): the keys already cached stay"), nil
	}
	sel, err := groupSelection(c.opts.Schema)
	if err != nil {
		return stepResult{}, err
	}
	if !c.opts.Yes {
		if err := c.confirmClear(ctx, sel); err != nil {
			return stepResult{}, err
		}
	}
	res, err := keyspace.Clear(ctx, c.conn.Client, sel, keyspace.ClearConfig{})
	if err != nil {
		if isFatal(err) {
			return stepResult{}, err
		}
		return failed("deleted %d keys, then: %s", res.Deleted, firstLine(err.Error())), nil
	}
	parts := make([]string, len(res.Targets))
	for i, t := range res.Targets {
		parts[i] = fmt.Sprintf("%s %d", t.Name, t.Deleted)
	}
	return passed("deleted %s under %s (%s)", keysCount(res.Deleted), c.opts.Schema.Namespace(), strings.Join(parts, ", ")), nil
}

// errClearRefused ends the checklist when the person at the terminal says no:
// the steps after the clear would delete keys of their own.
var errClearRefused = hinted{errors.New("not confirmed: nothing deleted"), "run with --skip-clear to check without clearing the groups"}

// confirmClear shows the target and the keys it holds, as clear does, and
// asks on the terminal; nothing to delete needs no question.
func (c *checker) confirmClear(ctx context.Context, sel keyspace.Selection) error {
	counts, err := keyspace.Count(ctx, c.conn.Client, sel, keyspace.DefaultScanCount)
	if err != nil {
		return redisError(c.conn, "SCAN", err)
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return nil
	}
	ok, err := askClear(ctx, c.opts.IO, c.opts.Schema, c.conn, sel, counts, total)
	switch {
	case err != nil:
		return err
	case !ok:
		return errClearRefused
	}
	return nil
}

func (c *checker) warm(ctx context.Context) (stepResult, error) {
	wo := &warmOptions{Client: c.opts.Client, Concurrency: 8, Retries: 2, RequestTimeout: c.opts.RequestTimeout}
	rep, err := warm.Round(ctx, warm.RoundConfig{Config: wo.config(), API: c.opts.API, Schema: c.opts.Schema, Redis: c.conn.Client})
	if err != nil {
		return stepResult{}, err
	}
	detail := fmt.Sprintf("%d URLs of the built-in plan, %d ok, %d failed, %d cached now, %d already cached · keys %d → %d",
		rep.URLs, rep.OK, rep.Failed, rep.Misses, rep.Hits, rep.Verify.KeysBefore, rep.Verify.KeysAfter)
	bypass := 0
	for _, r := range rep.Results {
		if r.Cache == "BYPASS" {
			bypass++
		}
	}
	if bypass > 0 {
		detail += fmt.Sprintf(" · %d answered BYPASS (the API is not using the cache)", bypass)
	}
	for _, r := range rep.Results {
		if !r.OK() {
			return failed("%s; first failure: %s: %s", detail, r.URL, r.Error), nil
		}
	}
	if n := len(rep.Verify.Missing); n > 0 {
		return failed("%s; %d keys not in Redis after warming: %s", detail, n, abbreviate(rep.Verify.Missing, 3)), nil
	}
	return passed("%s", detail), nil
}

// endpoint deletes an endpoint's key, then requires a MISS and then a HIT.
func (c *checker) endpoint(ctx context.Context, ep bench.Endpoint) (stepResult, error) {
	first, err := c.request(ctx, http.MethodGet, ep.URL, nil)
	if err != nil {
		return stepResult{}, err
	}
	if !first.success() {
		return failed("GET %s: HTTP %d", ep.URL, first.status), nil
	}
	// The server names the key in X-Cache-Key; otherwise the endpoint's patterns.
	key, patterns := first.key, ep.Clear
	if key != "" {
		if err := c.conn.Client.Unlink(ctx, c.opts.Schema.Key(key)).Err(); err != nil {
			return stepResult{}, redisError(c.conn, "UNLINK", err)
		}
	} else if err := c.clearPatterns(ctx, patterns); err != nil {
		return stepResult{}, err
	}
	what := key
	if what == "" {
		what = strings.Join(patterns, " ")
	}

	miss, err := c.request(ctx, http.MethodGet, ep.URL, nil)
	if err != nil {
		return stepResult{}, err
	}
	if !miss.success() {
		return failed("after deleting %s: HTTP %d", what, miss.status), nil
	}
	if miss.cache != "" && miss.cache != "MISS" {
		return failed("first request after deleting %s was %s, want MISS", what, miss.cache), nil
	}
	stored, err := c.cached(ctx, key, patterns)
	if err != nil {
		return stepResult{}, err
	}
	if !stored {
		return failed("%s not in Redis after the first request (%s)", what, orNone(miss.cache)), nil
	}
	hit, err := c.request(ctx, http.MethodGet, ep.URL, nil)
	if err != nil {
		return stepResult{}, err
	}
	if !hit.success() {
		return failed("second request: HTTP %d", hit.status), nil
	}
	if hit.cache != "" && hit.cache != "HIT" {
		return failed("second request was %s, want HIT (%s is in Redis)", hit.cache, what), nil
	}
	missName, hitName := "MISS", "HIT"
	if miss.cache == "" {
		missName, hitName = "1st", "2nd" // the server does not say; Redis did
	}
	detail := fmt.Sprintf("%s %.1f ms → %s %.1f ms", missName, ms(miss.latency), hitName, ms(hit.latency))
	if hit.latency > 0 {
		detail += fmt.Sprintf(" (%.1fx)", float64(miss.latency)/float64(hit.latency))
	}
	if miss.queries >= 0 && hit.queries >= 0 {
		detail += fmt.Sprintf(" · db queries %d → %d", miss.queries, hit.queries)
	}
	return passed("%s · %s", detail, what), nil
}

func orNone(cache string) string {
	if cache == "" {
		return "no X-Cache header"
	}
	return "X-Cache: " + cache
}

// clearPatterns deletes the keys of logical globs, on every master.
func (c *checker) clearPatterns(ctx context.Context, patterns []string) error {
	var sel keyspace.Selection
	for _, p := range patterns {
		t, err := c.opts.Schema.Pattern(p)
		if err != nil {
			return err
		}
		sel = append(sel, t)
	}
	if len(sel) == 0 {
		return nil
	}
	_, err := keyspace.Clear(ctx, c.conn.Client, sel, keyspace.ClearConfig{})
	return err
}

// cached says whether the logical key (or, without one, any key of the
// patterns) is in Redis.
func (c *checker) cached(ctx context.Context, key string, patterns []string) (bool, error) {
	if key != "" {
		n, err := c.conn.Client.Exists(ctx, c.opts.Schema.Key(key)).Result()
		if err != nil {
			return false, redisError(c.conn, "EXISTS", err)
		}
		return n == 1, nil
	}
	var sel keyspace.Selection
	for _, p := range patterns {
		t, err := c.opts.Schema.Pattern(p)
		if err != nil {
			return false, err
		}
		sel = append(sel, t)
	}
	if len(sel) == 0 {
		return false, nil
	}
	counts, err := keyspace.Count(ctx, c.conn.Client, sel, keyspace.DefaultScanCount)
	if err != nil {
		return false, redisError(c.conn, "SCAN", err)
	}
	for _, n := range counts {
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

func (c *checker) keys(ctx context.Context) (stepResult, error) {
	sel, err := groupSelection(c.opts.Schema)
	if err != nil {
		return stepResult{}, err
	}
	counts, err := inspect.CountGroups(ctx, c.conn.Client, sel, keyspace.DefaultScanCount)
	if err != nil {
		return stepResult{}, redisError(c.conn, "SCAN", err)
	}
	var total int64
	parts := make([]string, len(counts))
	for i, g := range counts {
		total += g.Keys
		parts[i] = fmt.Sprintf("%s %d", g.Name, g.Keys)
	}
	if total == 0 {
		if h := elsewhereHint(ctx, c.conn, c.opts.Schema); h != "" {
			return failed("no keys under %s: %s", c.opts.Schema.Namespace(), h), nil
		}
		return failed("no keys under %s: does the API cache into this Redis with the same --prefix and --key-version?", c.opts.Schema.Namespace()), nil
	}
	return passed("%s: %s", keysCount(total), strings.Join(parts, " · ")), nil
}

func (c *checker) stats(ctx context.Context) (stepResult, error) {
	snap, err := inspect.Take(ctx, c.conn.Client)
	if err != nil {
		if inspect.NotPermitted(err) {
			return skipped("INFO is not permitted for this user: no hit rate or memory figures"), nil
		}
		return stepResult{}, redisError(c.conn, "INFO", err)
	}
	var parts []string
	if snap.Has("keyspace_hits") {
		if rate, ok := snap.HitRate(); ok {
			parts = append(parts, fmt.Sprintf("hit rate %.1f%% (%d hits, %d misses)", 100*rate, snap.Hits, snap.Misses))
		} else {
			parts = append(parts, "no lookups yet")
		}
	}
	if snap.Has("used_memory") {
		maxMem := "no limit"
		if snap.Memory.Max > 0 {
			maxMem = output.Bytes(snap.Memory.Max) + " max"
		}
		parts = append(parts, fmt.Sprintf("memory %s used (%s, policy %s)", output.Bytes(snap.Memory.Used), maxMem, snap.Memory.Policy))
	}
	if snap.Has("evicted_keys") {
		parts = append(parts, fmt.Sprintf("%d evicted", snap.Evicted))
	}
	if len(parts) == 0 {
		return skipped("this server reports no hit, miss or memory statistics in INFO"), nil
	}
	return passed("%s", strings.Join(parts, " · ")), nil
}

// invalidation changes a product's price through the API and proves that
// exactly the right keys went: the product's own and the listings, not
// another product's detail nor the colors. The price is put back after.
func (c *checker) invalidation(ctx context.Context) (stepResult, error) {
	basic := c.opts.AdminAuthScheme == "Basic"
	if c.opts.AdminToken == "" && !basic {
		return skipped("skipped: no admin token (--admin-token or %s) to write through the API", envAdminToken), nil
	}
	c.scheme = c.opts.AdminAuthScheme
	if c.scheme == "" {
		c.scheme = "Bearer" // until a 401 names another
	}
	api := c.opts.API
	list, err := c.request(ctx, http.MethodGet, api.JoinPath("/api/products/").String()+"?page_size=2", nil)
	if err != nil {
		return stepResult{}, err
	}
	var page struct {
		Results []struct {
			ID    int64           `json:"id"`
			Price json.RawMessage `json:"price"`
		} `json:"results"`
	}
	if !list.success() || json.Unmarshal(list.body, &page) != nil || len(page.Results) < 2 {
		return failed("need two products from GET /api/products/ (HTTP %d)", list.status), nil
	}
	target, other := page.Results[0], page.Results[1]
	oldPrice, ok := parseCents(target.Price)
	if !ok {
		return failed("product %d has a price this check cannot read: %s", target.ID, target.Price), nil
	}
	newPrice := oldPrice + 1
	if newPrice > 100_000_000 {
		newPrice = oldPrice - 1
	}
	productURL := func(id int64) string {
		return api.JoinPath("/api/products/" + strconv.FormatInt(id, 10) + "/").String()
	}

	// Cache what must go and what must stay, learning each key's name.
	probes := []*invalidationProbe{
		{url: productURL(target.ID), key: "product:" + strconv.FormatInt(target.ID, 10), mustGo: true},
		{url: api.JoinPath("/api/products/top_sellers/").String(), key: "products:top_sellers", mustGo: true},
		{url: productURL(other.ID), key: "product:" + strconv.FormatInt(other.ID, 10)},
		{url: api.JoinPath("/api/colors/").String(), key: "product_colors:all"},
	}
	for _, p := range probes {
		r, err := c.request(ctx, http.MethodGet, p.url, nil)
		if err != nil {
			return stepResult{}, err
		}
		if !r.success() {
			return failed("GET %s: HTTP %d", p.url, r.status), nil
		}
		if r.key != "" {
			p.key = r.key
		}
		ok, err := c.cached(ctx, p.key, nil)
		if err != nil {
			return stepResult{}, err
		}
		if !ok {
			return failed("%s is not cached before the write, so the write cannot be judged", p.key), nil
		}
	}

	write := func(cents int64) (stepResult, error) {
		body := fmt.Sprintf(`{"price": "%s"}`, formatCents(cents))
		r, err := c.request(ctx, http.MethodPatch, productURL(target.ID), []byte(body))
		if err == nil && r.status == http.StatusUnauthorized && c.opts.AdminAuthScheme == "" {
			// A 401 wrote nothing; it names the scheme the API wants
			// (DRF's TokenAuthentication says Token). Ask once more in it.
			if s := challengeScheme(r.challenge); s != "" && !strings.EqualFold(s, c.scheme) && !strings.EqualFold(s, "Basic") {
				c.scheme = s
				r, err = c.request(ctx, http.MethodPatch, productURL(target.ID), []byte(body))
			}
		}
		switch {
		case err != nil:
			return stepResult{}, err
		case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
			return failed("the API refused the write: PATCH product %d: HTTP %d%s", target.ID, r.status, c.authAdvice(r)), nil
		case !r.success():
			return failed("PATCH product %d: HTTP %d: %s", target.ID, r.status, firstLine(string(r.body))), nil
		}
		return passed(""), nil
	}
	if res, err := write(newPrice); err != nil || !res.ok {
		return res, err
	}
	// From here on the price is put back whatever happens.
	verdict, verr := c.judgeInvalidation(ctx, probes, productURL(target.ID), formatCents(newPrice))
	undo, uerr := write(oldPrice)
	switch {
	case verr != nil:
		return stepResult{}, verr
	case uerr != nil:
		return stepResult{}, uerr
	case !verdict.ok:
		return verdict, nil
	case !undo.ok:
		undo.detail = "the price could not be put back: " + undo.detail
		return undo, nil
	}
	var gone, kept []string
	for _, p := range probes {
		if p.mustGo {
			gone = append(gone, p.key)
		} else {
			kept = append(kept, p.key)
		}
	}
	return passed("PATCH product %d price %s → %s (%s): gone %s; kept %s; price put back",
		target.ID, formatCents(oldPrice), formatCents(newPrice), c.authUsed(), strings.Join(gone, ", "), strings.Join(kept, ", ")), nil
}

// authUsed names how the write probe authenticated, for its report.
func (c *checker) authUsed() string {
	if c.scheme == "Basic" {
		return "basic auth from --api"
	}
	return "Authorization: " + c.scheme
}

// authAdvice says, after a refused write, what the API asked for.
func (c *checker) authAdvice(r checkResponse) string {
	s := challengeScheme(r.challenge)
	switch {
	case c.scheme == "Basic":
		return " with basic auth from --api"
	case s == "":
		return fmt.Sprintf(" with Authorization: %s (the API names no scheme; --admin-auth-scheme sets it, or put a user's credentials in --api)", c.scheme)
	case strings.EqualFold(s, "Basic"):
		return " (the API asks for basic auth: put the credentials in --api, e.g. " + envAPI + "=http://USER:PASSWORD@host)"
	case !strings.EqualFold(s, c.scheme):
		return fmt.Sprintf(" (the API asks for %s; --admin-auth-scheme %s)", s, strings.ToLower(s))
	}
	return fmt.Sprintf(" with Authorization: %s: is the admin token right?", c.scheme)
}

// challengeScheme is the first auth scheme a WWW-Authenticate header names:
// "Token" for DRF's TokenAuthentication, "Bearer realm=…" gives "Bearer".
func challengeScheme(h string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(h), " ")
	s, _, _ = strings.Cut(s, ",")
	return s
}

// invalidationProbe is a key the write must delete (mustGo) or leave alone.
type invalidationProbe struct {
	url    string
	key    string // logical
	mustGo bool
}

// judgeInvalidation checks, right after the write, that every key that must go
// is gone and every other is still cached, and that the API now serves the new
// price rather than an old copy.
func (c *checker) judgeInvalidation(ctx context.Context, probes []*invalidationProbe, productURL, newPrice string) (stepResult, error) {
	var wrong []string
	for _, p := range probes {
		ok, err := c.cached(ctx, p.key, nil)
		if err != nil {
			return stepResult{}, err
		}
		switch {
		case p.mustGo && ok:
			wrong = append(wrong, p.key+" is still cached")
		case !p.mustGo && !ok:
			wrong = append(wrong, p.key+" was deleted too")
		}
	}
	if len(wrong) > 0 {
		return failed("after the write %s", strings.Join(wrong, ", ")), nil
	}
	r, err := c.request(ctx, http.MethodGet, productURL, nil)
	if err != nil {
		return stepResult{}, err
	}
	if !bytes.Contains(r.body, []byte(`"`+newPrice+`"`)) {
		return failed("GET %s after the write does not show the new price %s", productURL, newPrice), nil
	}
	return passed(""), nil
}

// parseCents reads a price given as "19.99" or 19.99.
func parseCents(raw json.RawMessage) (int64, bool) {
	s := strings.Trim(string(raw), `"`)
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, false
	}
	frac += strings.Repeat("0", 2-len(frac))
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 {
		return 0, false
	}
	return w*100 + f, true
}

func formatCents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

func keysCount(n int64) string {
	if n == 1 {
		return "1 key"
	}
	return strconv.FormatInt(n, 10) + " keys"
}

// abbreviate lists the first n items and how many more there are.
func abbreviate(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// checkResponse is what one API request saw.
type checkResponse struct {
	status    int
	cache     string
	key       string
	queries   int // -1 when the server does not say
	latency   time.Duration
	body      []byte
	challenge string // WWW-Authenticate
}

func (r checkResponse) success() bool { return r.status >= 200 && r.status < 300 }

func (c *checker) request(ctx context.Context, method, u string, body []byte) (checkResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return checkResponse{}, err
	}
	req.Header.Set("User-Agent", "cachectl/"+build.Get().Version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		if c.scheme != "Basic" { // basic auth: the client's transport adds --api's credentials
			req.Header.Set("Authorization", c.scheme+" "+c.opts.AdminToken)
		}
	}
	start := time.Now()
	resp, err := warm.Do(c.opts.Client, req)
	if err != nil {
		return checkResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	r := checkResponse{
		status:    resp.StatusCode,
		cache:     strings.ToUpper(resp.Header.Get("X-Cache")),
		key:       resp.Header.Get("X-Cache-Key"),
		queries:   -1,
		challenge: resp.Header.Get("WWW-Authenticate"),
		latency:   time.Since(start),
		body:      data,
	}
	if n, perr := strconv.Atoi(resp.Header.Get("X-DB-Queries")); perr == nil {
		r.queries = n
	}
	if err != nil {
		return r, &warm.RequestError{Method: method, URL: u, Status: r.status, Err: err}
	}
	return r, nil
}

// checkPrinter shows each step as it ends: a mark, the name, the reason and
// the time on a terminal; tab-separated fields when piped; nothing for JSON.
type checkPrinter struct {
	ios    *iostreams.IOStreams
	on     bool
	tty    bool
	header bool
	start  time.Time
}

func newCheckPrinter(opts *checkOptions) *checkPrinter {
	return &checkPrinter{ios: opts.IO, on: opts.Format != output.JSON && !opts.Quiet, tty: opts.IO.IsStdoutTTY(), start: time.Now()}
}

const (
	ansiGreen  = "\x1b[32m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
	ansiReset  = "\x1b[0m"
)

func (p *checkPrinter) color(code, s string) string {
	if !p.ios.ColorEnabled() {
		return s
	}
	return code + s + ansiReset
}

func (p *checkPrinter) step(s checkStep) {
	if !p.on {
		return
	}
	if !p.tty {
		if !p.header {
			fmt.Fprintln(p.ios.Out, "status\tstep\tduration_ms\tdetail")
			p.header = true
		}
		status := "ok"
		switch {
		case s.Skipped:
			status = "skip"
		case !s.OK:
			status = "FAIL"
		}
		fmt.Fprintf(p.ios.Out, "%s\t%s\t%s\t%s\n", status, s.Name, strconv.FormatFloat(s.DurationMs, 'f', 1, 64), s.Detail)
		return
	}
	mark := p.color(ansiGreen, "✓")
	switch {
	case s.Skipped:
		mark = p.color(ansiYellow, "-")
	case !s.OK:
		mark = p.color(ansiRed, "✗")
	}
	fmt.Fprintf(p.ios.Out, "%s %-24s %s %s\n", mark, s.Name, s.Detail, p.color(ansiDim, "("+humanMs(s.DurationMs)+")"))
}

func (p *checkPrinter) summary(rep checkReport) {
	if !p.on || !p.tty || len(rep.Steps) == 0 {
		return
	}
	took := time.Since(p.start).Round(10 * time.Millisecond)
	if rep.Passed {
		fmt.Fprintf(p.ios.Out, "\n%s: %d steps in %s\n", p.color(ansiGreen, "check passed"), len(rep.Steps), took)
		return
	}
	bad := 0
	for _, s := range rep.Steps {
		if !s.OK {
			bad++
		}
	}
	fmt.Fprintf(p.ios.Out, "\n%s: %d of %d steps failed in %s\n", p.color(ansiRed, "check failed"), bad, len(rep.Steps), took)
}

func humanMs(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}
