package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/cmdutil"
	"github.com/cachectl/cachectl/internal/config"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

// factory builds what commands need, once and only when asked: streams,
// logger, Redis connection, HTTP client, schema. Tests build one over
// iostreams.Test() and a fake environment.
type factory struct {
	IO     *iostreams.IOStreams
	Getenv func(string) string

	opts globalOptions
	cfg  *config.File

	logOnce sync.Once
	logger  *slog.Logger

	// redisFlagSet and apiFlagSet record whether --redis and --api came
	// from argv, before the environment and config file fill the flags in.
	redisFlagSet bool
	apiFlagSet   bool
	// readOnlyBy names the switch that made the run read-only, "" when it is not.
	readOnlyBy string
	// deletes counts the keys the connection deletes, for the audit trail.
	deletes audit.Deletes

	conn   *redisconn.Conn
	api    *http.Client
	apiURL *url.URL
}

func newFactory(ios *iostreams.IOStreams, getenv func(string) string) *factory {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &factory{IO: ios, Getenv: getenv, cfg: &config.File{}}
}

// Logger logs to stderr: warnings by default, debug with -v, errors only
// with -q; go-redis's own messages go to it at debug level.
func (f *factory) Logger() *slog.Logger {
	f.logOnce.Do(func() {
		f.logger = f.opts.Logger(f.IO.ErrOut, slog.LevelWarn)
		redisconn.RouteLogs(f.logger)
	})
	return f.logger
}

// adminToken is the catalog API's admin token: --admin-token when given
// (changed), with a warning, else the environment's.
func (f *factory) adminToken(changed bool, flag string) string {
	if !changed {
		return f.Getenv(envAdminToken)
	}
	f.warnf("warning: a token on the command line is visible to other users of this machine; use %s", envAdminToken)
	return flag
}

// redisConfig is the connection settings of the resolved options
// (config.Options.Redis), its warnings printed.
func (f *factory) redisConfig() (redisconn.Config, error) {
	cfg, warnings, err := f.opts.Redis(f.Getenv, f.redisFlagSet)
	for _, w := range warnings {
		f.warnf("%s", w)
	}
	cfg.Logger, cfg.Hooks = f.Logger(), []redis.Hook{&f.deletes}
	return cfg, err
}

func (f *factory) warnf(format string, a ...any) {
	if f.opts.Quiet {
		return
	}
	fmt.Fprintf(f.IO.ErrOut, format+"\n", a...)
}

// Redis opens the connection on first use and returns the same one after.
func (f *factory) Redis(ctx context.Context) (*redisconn.Conn, error) {
	if f.conn != nil {
		return f.conn, nil
	}
	cfg, err := f.redisConfig()
	if err != nil {
		return nil, err
	}
	conn, err := redisconn.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	f.conn = conn
	return conn, nil
}

// Schema is the key schema from --prefix, --key-version and the config file's groups.
func (f *factory) Schema() (keyspace.Schema, error) {
	s, err := f.cfg.Schema(f.opts.Prefix, f.opts.KeyVersion)
	if err != nil {
		return s, cmdutil.UsageError{Err: err}
	}
	return s, nil
}

// API is the catalog API of warm, bench and check: --api without its
// credentials (the URL every request, line and report is built from) and the
// client whose transport alone keeps them. The client has no timeout of its
// own, so --request-timeout alone bounds each request.
func (f *factory) API() (*url.URL, *http.Client, error) {
	if f.apiURL != nil {
		return f.apiURL, f.api, nil
	}
	u, err := config.ParseAPI(f.opts.API)
	if err != nil {
		return nil, nil, err
	}
	if _, hasPassword := u.User.Password(); hasPassword && f.apiFlagSet {
		f.warnf("warning: a password in --api is visible to other users of this machine; use %s", envAPI)
	}
	f.api, f.apiURL = warm.NewClient(u)
	if f.opts.ReadOnly {
		catalogapi.ReadOnly(f.api)
	}
	return f.apiURL, f.api, nil
}

// MetricsClient reads top's metrics from the catalog API: the API's own
// client (credentials in its transport, none in the URL it returns),
// bounded per scrape since a dashboard has no --request-timeout.
func (f *factory) MetricsClient() (*url.URL, *http.Client, error) {
	u, c, err := f.API()
	if err != nil {
		return nil, nil, err
	}
	return u, &http.Client{Transport: c.Transport, Timeout: 4 * f.opts.Timeout}, nil
}

// Close releases what the factory opened.
func (f *factory) Close() {
	if f.conn != nil {
		f.conn.Close()
	}
}

// common is what the options of the Redis commands share: the streams, the
// Redis connection, the output format and -q. The factory fills it.
type common struct {
	IO     *iostreams.IOStreams
	Redis  func(context.Context) (*redisconn.Conn, error)
	Format output.Format
	Quiet  bool
	// ReadOnlyBy names the switch that made the run read-only; "" when it is not.
	ReadOnlyBy string
	// Record appends a destructive action's line to the audit trail; nil
	// records nothing (options a test builds by hand).
	Record func(context.Context, audit.Entry)
}

// common fills c from the global flags: the output format among those the
// command supports, -q, the streams and the Redis connection.
func (f *factory) common(c *common, supported ...output.Format) error {
	fm, err := f.opts.FormatOf(supported...)
	if err != nil {
		return err
	}
	*c = common{IO: f.IO, Redis: f.Redis, Format: fm, Quiet: f.opts.Quiet, ReadOnlyBy: f.readOnlyBy, Record: f.record}
	return nil
}

// base is the common options inside a command's options.
func (c *common) base() *common { return c }

// newCommand is a command that takes no arguments. Run, it fills the common
// options from the global flags (the output format among formats), lets
// prepare turn the other flags into options and check them, then calls
// run, or the test's runF with the options instead.
func newCommand[O interface{ base() *common }](f *factory, use, short string, opts O, formats []output.Format,
	prepare func(*cobra.Command) error, runF, run func(context.Context, O) error) *cobra.Command {
	return newPlainCommand(f, use, short, opts, func(cmd *cobra.Command) error {
		if err := f.common(opts.base(), formats...); err != nil {
			return err
		}
		return prepare(cmd)
	}, runF, run)
}

// newPlainCommand is newCommand for the options that do not embed common
// (serve, demo): prepare alone fills them.
func newPlainCommand[O any](f *factory, use, short string, opts O, prepare func(*cobra.Command) error, runF, run func(context.Context, O) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := prepare(cmd); err != nil {
				return err
			}
			if err := f.refuseWrites(opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), opts)
		},
	}
}

// writer is the options of a command that may write: writes says what
// this run would write, "" when it only reads.
type writer interface{ Writes() string }

// refuseWrites refuses a run that would write, up front, when read-only.
func (f *factory) refuseWrites(opts any) error {
	if w, ok := opts.(writer); ok && f.readOnlyBy != "" && w.Writes() != "" {
		return cmdutil.ReadOnlyError{By: f.readOnlyBy, What: w.Writes()}
	}
	return nil
}

// record appends e, a destructive action, to the audit trail (and its
// stream with --audit-stream). A line that cannot be written is a warning,
// even with -q; the action's result and exit code stand.
func (f *factory) record(ctx context.Context, e audit.Entry) {
	t := audit.Trail{Path: f.auditPath()}
	if f.conn != nil {
		e.Redis = f.conn.Addr
		if f.opts.AuditStream {
			t.Stream, t.Redis = audit.StreamKey(f.opts.Prefix), f.conn.Client
		}
	}
	if err := t.Record(ctx, e); err != nil {
		f.IO.Warnf("the audit trail did not get this action's line: %s", firstLine(err.Error()))
	}
}

// auditPath is --audit-file, else the trail in the XDG state directory.
func (f *factory) auditPath() string { return audit.Path(f.opts.AuditFile, f.Getenv) }

// apiTarget is what the options of the catalog API's commands share: the
// key schema, the API's URL and its client.
type apiTarget struct {
	Schema keyspace.Schema
	Client *http.Client
	API    *url.URL
}

// apiTarget fills a from --api and the schema.
func (f *factory) apiTarget(a *apiTarget) (err error) {
	if a.API, a.Client, err = f.API(); err != nil {
		return err
	}
	a.Schema, err = f.Schema()
	return err
}
