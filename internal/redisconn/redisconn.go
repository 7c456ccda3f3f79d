// Package redisconn opens the Redis connection every cachectl command shares:
// URL schemes, credentials, TLS, cluster detection, short timeouts, and
// errors that name a redacted address and never a secret.
package redisconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/cachectl/cachectl/internal/redact"
)

// Sentinel errors; callers map them to exit codes with errors.Is.
var (
	// ErrConnect wraps every failure to reach, handshake with or authenticate to Redis.
	ErrConnect = errors.New("cannot connect to redis")
	// ErrConfig wraps bad connection settings: a malformed URL, unreadable TLS files.
	ErrConfig = errors.New("bad redis settings")
)

// DefaultURL is used when neither a flag, the environment nor a config file names one.
const DefaultURL = "redis://127.0.0.1:6379/0"

// TLS holds the TLS settings; verification is on unless Insecure.
type TLS struct {
	CACert     string // PEM file with the CA(s) that signed the server's certificate
	Cert, Key  string // client certificate and key for mutual TLS
	ServerName string // overrides the host name checked against the certificate
	Insecure   bool   // skip verification (warned about by the caller)
}

// Config says how to reach Redis.
type Config struct {
	URL          string
	User         string // ACL user; overrides the URL's
	Password     string // overrides the URL's
	ForceCluster bool
	TLS          TLS
	Timeout      time.Duration // dial, read and write timeout of each command
	Logger       *slog.Logger
	// ReadOnly makes the client refuse every command that could change the
	// data set (see ReadOnly), on every node of a cluster.
	ReadOnly bool
	// Hooks see every command sent to the server, or to each node of a
	// cluster (not to the cluster client, so a command is seen once).
	Hooks []redis.Hook
}

// Conn is an open, verified connection.
type Conn struct {
	Client  redis.UniversalClient
	Cluster bool
	// Addr is the redacted URL, safe to print.
	Addr string
	// Seeds are the addresses (host:port) the URL names, in its order:
	// several for a cluster given as redis://h1:7000,h2:7001.
	Seeds []string
	DB    int
	// Assumed is set when the server could not be asked whether it is a
	// cluster (INFO and CLUSTER INFO not permitted) and standalone was assumed:
	// commands that must reach every master should say so.
	Assumed bool
	// Hook adds the connection's hooks (read-only, …) to another client
	// of the same server, such as one a clear opens for itself.
	Hook func(*redis.Client)
}

// Close closes the client.
func (c *Conn) Close() error { return c.Client.Close() }

// Error is a failure to connect; its text names the redacted address and the cause.
type Error struct {
	Addr  string
	Op    string // "reach", "authenticate to", "complete tls handshake with"
	Cause error
}

func (e *Error) Error() string {
	return fmt.Sprintf("cannot %s redis at %s: %s", e.Op, e.Addr, describe(e.Cause))
}

func (e *Error) Unwrap() []error {
	if e.Op == opAuth {
		return []error{ErrConnect, ErrAuth, e.Cause}
	}
	return []error{ErrConnect, e.Cause}
}

// Error.Op values.
const (
	opReach = "reach"
	opAuth  = "authenticate to"
	opTLS   = "complete tls handshake with"
)

// Hint is a one-line suggestion for the person at the terminal.
func (e *Error) Hint() string {
	switch e.Op {
	case opAuth:
		return "set CACHECTL_REDIS_PASSWORD or use --password-file (and --user for an ACL user)"
	case opTLS:
		return "check --tls-ca-cert and --tls-server-name, or use redis:// if the server does not speak TLS"
	}
	return "is redis-server running there? set the address with --redis or CACHECTL_REDIS_URL"
}

// Options turns cfg into go-redis options without connecting.
func Options(cfg Config) (*redis.Options, error) {
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	first, _, err := splitSeeds(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, Redact(cfg.URL), err)
	}
	// The shape of the URL with its first seed: a list of bracketed IPv6
	// seeds is no URL to net/url.
	if err := checkURLShape(first); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, Redact(cfg.URL), err)
	}
	opt, err := redis.ParseURL(first)
	if err != nil {
		// go-redis errors may quote the URL; quote only its redacted form.
		return nil, fmt.Errorf("%w: %s: %s", ErrConfig, Redact(cfg.URL), strings.TrimPrefix(scrub(err.Error(), cfg.URL), "redis: "))
	}
	if cfg.User != "" {
		opt.Username = cfg.User
	}
	if cfg.Password != "" {
		opt.Password = cfg.Password
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	opt.DialTimeout = cfg.Timeout
	opt.ReadTimeout = cfg.Timeout
	opt.WriteTimeout = cfg.Timeout
	opt.MaxRetries = 1
	opt.DialerRetries = 1
	opt.Protocol = 2
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	opt.ClientName = "cachectl"

	if opt.TLSConfig != nil || cfg.TLS != (TLS{}) {
		tc, err := tlsConfig(cfg.TLS, opt)
		if err != nil {
			return nil, err
		}
		opt.TLSConfig = tc
	}
	return opt, nil
}

// checkURLShape refuses what go-redis would quietly read as localhost:6379:
// redis:host:port (no //), redis:///0 (no host). A typo must never point a
// clear at another server than the one the user named.
func checkURLShape(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Opaque != "" || !strings.HasPrefix(raw[len(u.Scheme):], "://") {
			return fmt.Errorf("write %s://host:port/db", u.Scheme)
		}
		if u.Hostname() == "" {
			return errors.New("no host: write the host, e.g. redis://127.0.0.1:6379/0")
		}
	case "unix":
		if u.Path == "" {
			return errors.New("no socket path: write unix:///path/to/redis.sock")
		}
	}
	return nil
}

func tlsConfig(t TLS, opt *redis.Options) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if opt.TLSConfig != nil {
		tc = opt.TLSConfig.Clone()
	} else if opt.Network == "tcp" {
		tc.ServerName, _, _ = net.SplitHostPort(opt.Addr)
	}
	if t.ServerName != "" {
		tc.ServerName = t.ServerName
	}
	tc.InsecureSkipVerify = t.Insecure
	if t.CACert != "" {
		pem, err := os.ReadFile(t.CACert)
		if err != nil {
			return nil, fmt.Errorf("%w: --tls-ca-cert: %w", ErrConfig, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: --tls-ca-cert %s: no PEM certificate in it", ErrConfig, t.CACert)
		}
		tc.RootCAs = pool
	}
	if (t.Cert == "") != (t.Key == "") {
		return nil, fmt.Errorf("%w: --tls-cert and --tls-key go together", ErrConfig)
	}
	if t.Cert != "" {
		pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate: %w", ErrConfig, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// Open connects, verifies the connection with PING (which also authenticates),
// and detects Redis Cluster from INFO cluster unless ForceCluster is set.
// The whole attempt is bounded by cfg.Timeout.
func Open(ctx context.Context, cfg Config) (*Conn, error) {
	opt, err := Options(cfg)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	addr := Redact(cfg.URL)
	if cfg.URL == "" {
		addr = Redact(DefaultURL)
	}
	fail := func(err error) error { return classify(addr, err) }

	_, seeds, _ := splitSeeds(cfg.URL)
	if len(seeds) == 0 {
		seeds = []string{opt.Addr} // unix:// and the default URL
	}
	// The first seed that answers is asked what it is; the others stand in
	// for it when it is down. Each seed has the whole timeout: a host that
	// drops packets must not use up the others' time.
	var (
		single *redis.Client
		live   []string // the seed that answered and those not tried
	)
	for i, seed := range seeds {
		o := *opt
		o.Addr = seed
		single = redis.NewClient(&o)
		cfg.hook(single)
		sctx, scancel := context.WithTimeout(ctx, opt.DialTimeout)
		err := single.Ping(sctx).Err()
		scancel()
		if err == nil {
			live = seeds[i:]
			break
		}
		single.Close()
		if opt.DB != 0 && strings.Contains(err.Error(), "SELECT is not allowed in cluster mode") {
			return nil, fmt.Errorf("%w: %s: redis cluster has only db 0", ErrConfig, addr)
		}
		if i == len(seeds)-1 || ctx.Err() != nil {
			return nil, fail(err)
		}
		log.Debug("seed does not answer, trying the next", "seed", seed, "err", err)
	}
	ctx, cancel := context.WithTimeout(ctx, opt.DialTimeout)
	defer cancel()
	cluster := cfg.ForceCluster
	assumed := false
	if !cluster {
		info, err := single.Info(ctx, "cluster").Result()
		switch {
		case err == nil:
			cluster = strings.Contains(info, "cluster_enabled:1")
		case NotPermitted(err):
			// CLUSTER INFO is often granted where INFO is not.
			log.Debug("INFO is not permitted for this user: asking CLUSTER INFO whether this is a cluster", "addr", addr)
			ci, cerr := single.ClusterInfo(ctx).Result()
			switch {
			case cerr == nil:
				cluster = strings.Contains(ci, "cluster_state:")
			case strings.Contains(cerr.Error(), "cluster support disabled"):
				// a standalone server, said plainly
			case probeCrossSlot(ctx, single):
				cluster = true
				log.Debug("CLUSTER INFO is not permitted either, but two keys of different slots are CROSSSLOT: a cluster", "addr", addr)
			default:
				assumed = true
				log.Debug("CLUSTER INFO is not permitted either: assuming a standalone server (use --cluster for a cluster)", "addr", addr)
			}
		default:
			single.Close()
			return nil, fail(err)
		}
	}
	if !cluster {
		if len(seeds) > 1 {
			single.Close()
			return nil, fmt.Errorf("%w: %s names %d servers, but %s is not a cluster node: give one address", ErrConfig, addr, len(seeds), single.Options().Addr)
		}
		return &Conn{Client: single, Addr: addr, DB: opt.DB, Assumed: assumed, Seeds: seeds, Hook: cfg.hook}, nil
	}
	single.Close()
	if opt.DB != 0 {
		return nil, fmt.Errorf("%w: %s: redis cluster has only db 0", ErrConfig, addr)
	}
	co := ClusterOptions(opt)
	co.Addrs = live // go-redis loads the slot map from any of them
	cc := redis.NewClusterClient(co)
	cc.OnNewNode(cfg.hook) // before the first command makes a node
	if cfg.ReadOnly {
		ReadOnly(cc) // refused before it is routed
	}
	if err := cc.Ping(ctx).Err(); err != nil {
		cc.Close()
		if NotPermitted(err) {
			return nil, fmt.Errorf("redis at %s is a cluster node, but this user may not run the CLUSTER commands a cluster client needs: %s", addr, scrub(err.Error(), cfg.URL))
		}
		if strings.Contains(err.Error(), "cluster support disabled") {
			return nil, fmt.Errorf("%w: %s is a single server, not a cluster node: drop --cluster", ErrConfig, addr)
		}
		return nil, fail(err)
	}
	log.Debug("redis cluster detected", "addr", addr)
	return &Conn{Client: cc, Cluster: true, Addr: addr, Seeds: seeds, Hook: cfg.hook}, nil
}

// hook adds cfg's hooks to the client of one server.
func (cfg Config) hook(c *redis.Client) {
	if cfg.ReadOnly {
		ReadOnly(c)
	}
	for _, h := range cfg.Hooks {
		c.AddHook(h)
	}
}

// NewClient builds a client from opt without connecting: a cluster client
// seeded with opt's address when cluster is set, a single-server one otherwise.
func NewClient(opt *redis.Options, cluster bool) redis.UniversalClient {
	if cluster {
		return redis.NewClusterClient(ClusterOptions(opt))
	}
	return redis.NewClient(opt)
}

// ClusterOptions carries opt's connection settings (credentials, TLS,
// timeouts, retries) over to a cluster client seeded with opt's address.
func ClusterOptions(o *redis.Options) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                    []string{o.Addr},
		ClientName:               o.ClientName,
		Dialer:                   o.Dialer,
		Protocol:                 o.Protocol,
		Username:                 o.Username,
		Password:                 o.Password,
		MaxRetries:               o.MaxRetries,
		DialerRetries:            o.DialerRetries,
		DialTimeout:              o.DialTimeout,
		ReadTimeout:              o.ReadTimeout,
		WriteTimeout:             o.WriteTimeout,
		PoolTimeout:              o.PoolTimeout,
		ContextTimeoutEnabled:    o.ContextTimeoutEnabled,
		TLSConfig:                o.TLSConfig,
		DisableIdentity:          o.DisableIdentity,
		MaintNotificationsConfig: o.MaintNotificationsConfig,
	}
}

// classify wraps a failure to open the connection into an *Error that says
// which step failed.
func classify(addr string, err error) error {
	op := opReach
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case authFailed(err):
		op = opAuth
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		strings.Contains(err.Error(), "tls:"):
		op = opTLS
	}
	return &Error{Addr: addr, Op: op, Cause: err}
}

// describe shortens network errors to their cause ("connection refused",
// "timed out") since the address is already in the message.
func describe(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timed out"
	case errors.As(err, &errno):
		return errno.Error()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "no such host " + dnsErr.Name
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return "tls: " + certErr.Err.Error()
	}
	return strings.TrimSpace(err.Error())
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Redact returns rawURL with its credentials replaced by ***, for printing:
// redis://user:***@host:6379/0, or redis://***@host:6379/0.
func Redact(rawURL string) string { return redact.URL(rawURL) }

// scrub removes any occurrence of the raw URL and its password from msg.
func scrub(msg, rawURL string) string {
	if rawURL != "" {
		msg = strings.ReplaceAll(msg, rawURL, Redact(rawURL))
	}
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "***")
		}
	}
	// As redact.URL reads it: all between the scheme and the last @ is
	// credentials, even where net/url read part of it as a host or a path
	// (a password with / in it). Any run of it the message quotes goes.
	if _, rest, ok := strings.Cut(rawURL, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at > 0 {
			for piece := range strings.FieldsFuncSeq(rest[:at], func(r rune) bool { return strings.ContainsRune(":/?#", r) }) {
				if len(piece) >= 3 {
					msg = strings.ReplaceAll(msg, piece, "***")
				}
			}
		}
	}
	return msg
}

// DBFromURL returns the database number a URL selects, for display.
func DBFromURL(rawURL string) int {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return 0
	}
	return opt.DB
}

// probeCrossSlot asks EXISTS of two keys that hash to different slots: a
// cluster node refuses (CROSSSLOT, or MOVED), a single server counts them.
// It reads nothing of the user's and needs only EXISTS.
func probeCrossSlot(ctx context.Context, c *redis.Client) bool {
	err := c.Exists(ctx, "{0}cachectl-probe", "{1}cachectl-probe").Err()
	code := ReplyCode(err)
	return code == "CROSSSLOT" || code == "MOVED"
}

// splitSeeds reads the host part of a redis:// or rediss:// URL as a list:
// redis://h1:7000,h2:7001/0 names two seeds of one cluster, so that a clear
// still starts when one of them is down. It returns the URL with only the
// first host (what go-redis parses) and every address, with the default
// port 6379 where none is given. Other URLs come back as they are.
func splitSeeds(raw string) (string, []string, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || (scheme != "redis" && scheme != "rediss") {
		return raw, nil, nil
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	userinfo, hosts := "", authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hosts = authority[:at+1], authority[at+1:]
	}
	if hosts == "" {
		return raw, nil, nil // checkURLShape says: no host
	}
	var seeds []string
	for h := range strings.SplitSeq(hosts, ",") {
		if h == "" {
			return "", nil, errors.New("an empty address in the host list")
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(strings.Trim(h, "[]"), "6379")
		}
		seeds = append(seeds, h)
	}
	first, _, _ := strings.Cut(hosts, ",")
	return scheme + "://" + userinfo + first + rest[end:], seeds, nil
}

// WithHost returns rawURL with its host list replaced by addr, for a hint
// that names another node: redis://***@h2:7001/0.
func WithHost(rawURL, addr string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	userinfo := ""
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		userinfo = rest[:at+1]
	}
	return scheme + "://" + userinfo + addr + rest[end:]
}
