// Package djangotest starts the Django catalog app in app/ for tests: a
// Django 3.2 + DRF + django-redis + django-filter project written from the
// original backend's description, served by gunicorn with sync workers, on
// SQLite, caching in the Redis a test gives it.
//
// Every app gets its own kernel-chosen port and its own temporary directory
// (a copy of the app, its SQLite file, its logs), and is stopped through
// t.Cleanup, whole process group, also when the test fails. The database is
// migrated and seeded once per catalog size per test binary and copied for
// each app, so a start costs about a second.
//
// The app runs on Debian's packages for /usr/bin/python3 (python3-django,
// python3-djangorestframework, python3-django-redis, python3-django-filters,
// gunicorn), never on whatever python3 is first on PATH. Where they are
// missing, Start fails the test and says how to install them.
package djangotest

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/childproc"
	"github.com/cachectl/cachectl/internal/redistest"
)

//go:embed all:app
var appFiles embed.FS

// Python is the interpreter the app runs on: Debian's, which the packages
// are installed for.
const Python = "/usr/bin/python3"

// Defaults of Options.
const (
	DefaultDB       = 1 // django-redis's documented LOCATION
	DefaultPrefix   = "ecommerce"
	DefaultVersion  = 1
	DefaultWorkers  = 3
	DefaultProducts = 200
)

// The seeded admin user (a superuser). Its token is App.AdminToken.
const (
	AdminUser     = "admin"
	AdminPassword = "admin"
)

const (
	// readyTimeout bounds how long gunicorn may take to answer.
	readyTimeout = 30 * time.Second
	// stopTimeout bounds the graceful SIGTERM shutdown before SIGKILL.
	stopTimeout = 10 * time.Second
	// manageTimeout bounds one management command.
	manageTimeout = 2 * time.Minute
	// startAttempts covers the window between picking a free port and
	// gunicorn binding it, in which another process may grab it.
	startAttempts = 5

	errorLog  = "gunicorn.log"
	accessLog = "access.log"
	outLog    = "gunicorn.out" // stdout/stderr: import errors land here
)

const missingMsg = "the Django fixture needs Django 3.2, Django REST framework, django-redis, " +
	"django-filter and gunicorn for " + Python + ": run scripts/test.sh, or on Debian/Ubuntu: " +
	"sudo apt-get install -y --no-install-recommends python3-django python3-djangorestframework " +
	"python3-django-redis python3-django-filters gunicorn"

// errPortInUse marks a start that failed only because the port was taken,
// which is worth retrying.
var errPortInUse = errors.New("port already in use")

// Serializer is django-redis's value serializer (OPTIONS SERIALIZER).
type Serializer string

// Serializers.
const (
	Pickle Serializer = "pickle" // django-redis's default
	JSON   Serializer = "json"
)

// Compressor is django-redis's value compressor (OPTIONS COMPRESSOR).
type Compressor string

// Compressors.
const (
	NoCompression Compressor = "none"
	Zlib          Compressor = "zlib"
	LZMA          Compressor = "lzma"
)

// Options configure one app. The zero value (plus Redis) is the app as the
// django-redis and DRF documentation set it up: db 1, prefix "ecommerce",
// version 1, pickled values, plain category lists, "parent" and
// "product_count" in categories, no "popularity" ordering, DRF's default
// authentication (session or HTTP Basic), no cache headers. Each field names
// the environment variable of app/ecommerce/settings.py it sets.
type Options struct {
	// Redis is the host:port of the Redis server (required), e.g. a
	// redistest.Server's Addr.
	Redis         string
	RedisPassword string

	DB      *int   // Redis database, in CATALOG_REDIS_URL's path; nil means DefaultDB
	Prefix  string // CATALOG_CACHE_PREFIX, KEY_PREFIX; "" means DefaultPrefix
	Version int    // CATALOG_CACHE_VERSION, VERSION; 0 means DefaultVersion

	Serializer Serializer // CATALOG_CACHE_SERIALIZER; "" means Pickle
	Compressor Compressor // CATALOG_CACHE_COMPRESSOR; "" means NoCompression

	// PaginateCategories makes /api/categories/ a DRF page
	// ({"count", "next", "previous", "results"}, 20 a page) instead of a
	// JSON array (CATALOG_CATEGORY_PAGINATION=paginated).
	PaginateCategories bool
	// ParentField names a category's parent in the JSON: "parent" (the
	// default, ModelSerializer's name) or "parent_id" (CATALOG_PARENT_FIELD).
	ParentField string
	// OmitProductCount drops "product_count" from categories
	// (CATALOG_PRODUCT_COUNT=0).
	OmitProductCount bool
	// OrderingFields are the ?ordering= fields of /api/products/
	// (CATALOG_ORDERING_FIELDS); nil means DefaultOrderingFields().
	// "popularity" is an alias of sales_count.
	OrderingFields []string

	// TokenAuth switches DRF to TokenAuthentication only: a write without a
	// token is a 401 with WWW-Authenticate: Token (CATALOG_AUTH=token).
	TokenAuth bool
	// CacheHeader adds the middleware that sends X-Cache: HIT|MISS on cached
	// routes (CATALOG_CACHE_HEADER=1).
	CacheHeader bool

	// SimulatedDBLatency is a SIMULATION, off when 0: the app sleeps this
	// long before each SQL query a request makes, to imitate a database
	// across a network rather than SQLite in the process
	// (CATALOG_SIMULATED_DB_LATENCY_MS). Management commands are not slowed.
	SimulatedDBLatency time.Duration

	Workers  int // gunicorn sync workers; 0 means DefaultWorkers
	Products int // products seeded; 0 means DefaultProducts
}

// DefaultOrderingFields are the app's ordering fields when
// Options.OrderingFields is nil.
func DefaultOrderingFields() []string {
	return []string{"price", "name", "created_at", "sales_count", "rating"}
}

// Catalog counts what the seed command created. Ids are dense from 1:
// main categories first, then their subcategories.
type Catalog struct {
	Categories     int `json:"categories"`
	MainCategories int `json:"main_categories"`
	Colors         int `json:"colors"`
	Products       int `json:"products"`
	Variants       int `json:"variants"`
}

// App is one running Django app owned by a test.
type App struct {
	Addr string // "127.0.0.1:PORT"
	Port int
	Dir  string // its temporary dir: app/ (the project), db.sqlite3, logs

	DB       int    // the Redis database it caches in
	Prefix   string // KEY_PREFIX
	Version  int    // VERSION
	RedisURL string // its cache LOCATION

	// AdminToken is the admin user's DRF token (the same for every app of
	// one test binary). Only TokenAuth apps accept it.
	AdminToken string
	Catalog    Catalog

	opts Options
	env  []string

	mu   sync.Mutex // guards proc; held across Stop so it returns only once the process is gone
	proc *childproc.Process
}

// Start copies the app into a temporary dir, gives it a migrated and seeded
// SQLite database, starts gunicorn on a free port of 127.0.0.1, waits until
// it answers and registers a t.Cleanup that stops it. Exactly one Options
// must be given, with Redis set.
func Start(t testing.TB, opts ...Options) *App {
	t.Helper()
	if len(opts) != 1 {
		t.Fatalf("djangotest.Start: want one Options (with Redis), got %d", len(opts))
	}
	o := withDefaults(opts[0])
	if o.Redis == "" {
		t.Fatal("djangotest.Start: Options.Redis is required (e.g. a redistest.Server's Addr)")
	}
	if err := o.validate(); err != nil {
		t.Fatalf("djangotest.Start: %v", err)
	}
	if err := checkPython(); err != nil {
		t.Fatal(err)
	}
	a := &App{
		Dir:     t.TempDir(), // registered before the Stop cleanup, so it is removed after the process is gone
		DB:      *o.DB,
		Prefix:  o.Prefix,
		Version: o.Version,
		opts:    o,
	}
	a.RedisURL = redisURL(o)
	if err := writeApp(filepath.Join(a.Dir, "app")); err != nil {
		t.Fatalf("djangotest: %v", err)
	}
	tpl, err := seededDB(filepath.Join(a.Dir, "template"), o.Products)
	if err != nil {
		t.Fatalf("djangotest: %v", err)
	}
	if err := os.WriteFile(a.dbPath(), tpl.db, 0o644); err != nil {
		t.Fatalf("djangotest: %v", err)
	}
	a.Catalog, a.AdminToken = tpl.catalog, tpl.token
	t.Cleanup(a.Stop)

	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("djangotest: %v", err)
		}
		a.Port = port
		a.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = a.launch()
		if err == nil {
			return a
		}
		if !errors.Is(err, errPortInUse) || attempt == startAttempts {
			t.Fatalf("djangotest: starting gunicorn (attempt %d): %v", attempt, err)
		}
	}
}

// StartWithRedis starts a private redis-server (redistest.Start) and the
// app on it: o.Redis is set to its address.
func StartWithRedis(t testing.TB, o Options) (*App, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	o.Redis = srv.Addr
	return Start(t, o), srv
}

func withDefaults(o Options) Options {
	if o.DB == nil {
		o.DB = new(DefaultDB)
	} else {
		o.DB = new(*o.DB) // the caller's pointer stays the caller's
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Version == 0 {
		o.Version = DefaultVersion
	}
	if o.Serializer == "" {
		o.Serializer = Pickle
	}
	if o.Compressor == "" {
		o.Compressor = NoCompression
	}
	if o.ParentField == "" {
		o.ParentField = "parent"
	}
	if o.OrderingFields == nil {
		o.OrderingFields = DefaultOrderingFields()
	} else {
		o.OrderingFields = append([]string(nil), o.OrderingFields...)
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.Products == 0 {
		o.Products = DefaultProducts
	}
	return o
}

func (o Options) validate() error {
	switch {
	case o.Serializer != Pickle && o.Serializer != JSON:
		return fmt.Errorf("Serializer %q: want %q or %q", o.Serializer, Pickle, JSON)
	case o.Compressor != NoCompression && o.Compressor != Zlib && o.Compressor != LZMA:
		return fmt.Errorf("Compressor %q: want %q, %q or %q", o.Compressor, NoCompression, Zlib, LZMA)
	case o.ParentField != "parent" && o.ParentField != "parent_id":
		return fmt.Errorf("ParentField %q: want \"parent\" or \"parent_id\"", o.ParentField)
	case *o.DB < 0 || o.Version < 0 || o.Workers < 0 || o.Products < 0 || o.SimulatedDBLatency < 0:
		return fmt.Errorf("DB %d, Version %d, Workers %d, Products %d, SimulatedDBLatency %v: none may be negative",
			*o.DB, o.Version, o.Workers, o.Products, o.SimulatedDBLatency)
	}
	return nil
}

func redisURL(o Options) string {
	u := url.URL{Scheme: "redis", Host: o.Redis, Path: "/" + strconv.Itoa(*o.DB)}
	if o.RedisPassword != "" {
		u.User = url.UserPassword("", o.RedisPassword)
	}
	return u.String()
}

// environ is the whole environment of the app's processes: nothing of the
// caller's Python set-up (PYTHONPATH, a virtualenv, user site-packages)
// leaks in.
func (a *App) environ() []string {
	o := a.opts
	onOff := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	pagination, auth := "plain", "session"
	if o.PaginateCategories {
		pagination = "paginated"
	}
	if o.TokenAuth {
		auth = "token"
	}
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + os.TempDir(),
		"LANG=C.UTF-8",
		"PYTHON=" + Python, // for test_redis_cache.sh
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONNOUSERSITE=1",
		"PYTHONUNBUFFERED=1",
		"DJANGO_SETTINGS_MODULE=ecommerce.settings",
		"CATALOG_DB_PATH=" + a.dbPath(),
		"CATALOG_REDIS_URL=" + a.RedisURL,
		"CATALOG_CACHE_PREFIX=" + o.Prefix,
		"CATALOG_CACHE_VERSION=" + strconv.Itoa(o.Version),
		"CATALOG_CACHE_SERIALIZER=" + string(o.Serializer),
		"CATALOG_CACHE_COMPRESSOR=" + string(o.Compressor),
		"CATALOG_CATEGORY_PAGINATION=" + pagination,
		"CATALOG_PARENT_FIELD=" + o.ParentField,
		"CATALOG_PRODUCT_COUNT=" + onOff(!o.OmitProductCount),
		"CATALOG_ORDERING_FIELDS=" + strings.Join(o.OrderingFields, ","),
		"CATALOG_AUTH=" + auth,
		"CATALOG_CACHE_HEADER=" + onOff(o.CacheHeader),
		"CATALOG_SIMULATED_DB_LATENCY_MS=" + strconv.FormatFloat(float64(o.SimulatedDBLatency)/float64(time.Millisecond), 'f', -1, 64),
		"CATALOG_ALLOWED_HOSTS=127.0.0.1,localhost",
		// warmup_cache's page links name the app's own address.
		"CATALOG_SITE_URL=" + a.URL(),
	}
}

func (a *App) dbPath() string { return filepath.Join(a.Dir, "db.sqlite3") }

// Env returns the app's environment (its settings switches included), e.g.
// to run app/test_redis_cache.sh or manage.py by hand in Dir/app.
func (a *App) Env() []string { return append([]string(nil), a.env...) }

// URL returns "http://127.0.0.1:PORT", without a trailing slash.
func (a *App) URL() string { return "http://" + a.Addr }

// Key returns the Redis key django-redis stores logical key k under:
// PREFIX:VERSION:k.
func (a *App) Key(k string) string { return a.Prefix + ":" + strconv.Itoa(a.Version) + ":" + k }

// Authorize sets the admin's credentials on req the way the app's
// authentication wants them: "Token KEY" with TokenAuth, HTTP Basic
// otherwise.
func (a *App) Authorize(req *http.Request) {
	if a.opts.TokenAuth {
		req.Header.Set("Authorization", "Token "+a.AdminToken)
		return
	}
	basic := base64.StdEncoding.EncodeToString([]byte(AdminUser + ":" + AdminPassword))
	req.Header.Set("Authorization", "Basic "+basic)
}

// launch starts gunicorn on a.Port and waits until it answers. On failure
// the process is stopped again.
func (a *App) launch() error {
	a.env = a.environ()
	offsets := map[string]int64{}
	for _, name := range []string{errorLog, outLog} {
		offsets[name] = childproc.Size(filepath.Join(a.Dir, name))
	}
	out, err := os.OpenFile(filepath.Join(a.Dir, outLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(Python, "-m", "gunicorn",
		"--bind", a.Addr,
		"--workers", strconv.Itoa(a.opts.Workers),
		"--worker-class", "sync",
		"--chdir", filepath.Join(a.Dir, "app"),
		"--error-logfile", filepath.Join(a.Dir, errorLog),
		"--access-logfile", filepath.Join(a.Dir, accessLog),
		"--capture-output",
		"--graceful-timeout", "5",
		// Import Django once and fork the workers: starts take a third of
		// the CPU, and nothing is cached or connected before the fork.
		"--preload",
		"ecommerce.wsgi:application",
	)
	cmd.Dir = filepath.Join(a.Dir, "app")
	cmd.Env = a.env
	cmd.Stdout, cmd.Stderr = out, out
	p, err := childproc.Start(cmd) // own process group, gone with the test binary
	out.Close()
	if err != nil {
		return fmt.Errorf("exec %s -m gunicorn: %w", Python, err)
	}
	a.mu.Lock()
	a.proc = p
	a.mu.Unlock()

	if err := a.waitReady(p, offsets[errorLog]); err != nil {
		a.Stop()
		fresh := a.readFrom(errorLog, offsets[errorLog]) + a.readFrom(outLog, offsets[outLog])
		if strings.Contains(fresh, "Connection in use") {
			return fmt.Errorf("%w: port %d: %v", errPortInUse, a.Port, err)
		}
		return fmt.Errorf("%v\n%s", err, a.LogTail(40))
	}
	return nil
}

// waitReady polls until gunicorn has logged that it listens on a.Addr (so
// the port is ours, not a foreign server's) and the API root answers 200.
func (a *App) waitReady(p *childproc.Process, logOff int64) error {
	listening := fmt.Sprintf("Listening at: %s (%d)", a.URL(), p.Pid())
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	lastErr := errors.New("not listening yet")
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("gunicorn on port %d exited during startup: %v", a.Port, p.Err())
		}
		fresh := a.readFrom(errorLog, logOff)
		if strings.Contains(fresh, "Connection in use") {
			return fmt.Errorf("gunicorn cannot bind %s", a.Addr)
		}
		if strings.Contains(fresh, listening) {
			lastErr = probe(client, a.URL()+"/api/")
			if lastErr == nil {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("gunicorn on port %d not ready after %v: %v", a.Port, readyTimeout, lastErr)
}

func probe(client *http.Client, u string) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

// Stop terminates gunicorn and its workers with SIGTERM and waits for the
// master to exit, escalating to SIGKILL after a timeout. It is idempotent
// and safe to call concurrently.
func (a *App) Stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.proc
	a.proc = nil
	if p == nil {
		return
	}
	p.Stop(stopTimeout) // the whole process group: the workers too
}

// Manage runs `manage.py ARGS...` with the app's settings and returns what
// it printed (stdout, then stderr). A failure fails the test.
func (a *App) Manage(t testing.TB, args ...string) string {
	t.Helper()
	out, err := a.TryManage(args...)
	if err != nil {
		t.Fatalf("djangotest: manage.py %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TryManage is Manage for commands that are expected to fail: it returns
// the output and the error (an *exec.ExitError for a non-zero exit).
func (a *App) TryManage(args ...string) (string, error) {
	stdout, stderr, err := a.manage(args...)
	return stdout + stderr, err
}

func (a *App) manage(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), manageTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Python, append([]string{"manage.py"}, args...)...)
	cmd.Dir = filepath.Join(a.Dir, "app")
	cmd.Env = a.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// LogTail returns the last n lines of gunicorn's error log (Django's
// tracebacks included), its stdout/stderr and its access log, for failure
// messages.
func (a *App) LogTail(n int) string { return childproc.Tail(a.Dir, n, errorLog, outLog, accessLog) }

func (a *App) readFrom(name string, off int64) string {
	return childproc.ReadFrom(filepath.Join(a.Dir, name), off)
}

// freePort asks the kernel for a free port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeApp copies the embedded project to dir, leaving out what running it
// in the source tree may have left there.
func writeApp(dir string) error {
	return fs.WalkDir(appFiles, "app", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := path.Base(name)
		if base == "__pycache__" || base == ".gitignore" || strings.HasSuffix(base, ".pyc") || strings.HasPrefix(base, "db.sqlite3") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		target := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(name, "app")))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := appFiles.ReadFile(name)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(base, ".sh") || base == "manage.py" {
			mode = 0o755
		}
		return os.WriteFile(target, data, mode)
	})
}

var python struct {
	once sync.Once
	err  error
}

// checkPython makes sure Debian's interpreter and packages are there, once
// per test binary.
func checkPython() error {
	python.once.Do(func() { python.err = checkInterpreter(Python) })
	return python.err
}

// checkInterpreter fails, saying how to install them, unless bin imports
// every package the app needs.
func checkInterpreter(bin string) error {
	const imports = "import django, rest_framework, django_redis, django_filters, gunicorn"
	out, err := exec.Command(bin, "-s", "-c", imports).CombinedOutput()
	if err != nil {
		return fmt.Errorf("djangotest: %s -c %q: %v\n%s\n%s", bin, imports, err, bytes.TrimSpace(out), missingMsg)
	}
	return nil
}

// template is a migrated and seeded SQLite database, kept in memory.
type template struct {
	db      []byte
	catalog Catalog
	token   string
}

var templates struct {
	mu    sync.Mutex
	sizes map[int]*templateOnce
}

type templateOnce struct {
	once sync.Once
	tpl  template
	err  error
}

// seededDB returns the database for a catalog of n products, building it in
// dir the first time this test binary asks for that size. The settings
// switches do not change the schema or the rows, and migrate and seed never
// touch Redis, so the size is the whole key; the build runs with the default
// switches, so one app's bad switch cannot spoil the others' template.
func seededDB(dir string, n int) (template, error) {
	templates.mu.Lock()
	if templates.sizes == nil {
		templates.sizes = map[int]*templateOnce{}
	}
	e := templates.sizes[n]
	if e == nil {
		e = &templateOnce{}
		templates.sizes[n] = e
	}
	templates.mu.Unlock()
	e.once.Do(func() { e.tpl, e.err = buildDB(dir, n) })
	return e.tpl, e.err
}

func buildDB(dir string, n int) (template, error) {
	// No Redis is reached: the address only fills the settings.
	a := &App{Dir: dir, opts: withDefaults(Options{Redis: "127.0.0.1:6379", Products: n})}
	a.RedisURL = redisURL(a.opts)
	a.env = a.environ()
	if err := writeApp(filepath.Join(dir, "app")); err != nil {
		return template{}, err
	}
	if out, err := a.TryManage("migrate", "--no-input", "-v", "0"); err != nil {
		return template{}, fmt.Errorf("manage.py migrate: %v\n%s", err, out)
	}
	out, stderr, err := a.manage("seed", "--json", "--products", strconv.Itoa(n),
		"--admin-user", AdminUser, "--admin-password", AdminPassword)
	if err != nil {
		return template{}, fmt.Errorf("manage.py seed: %v\n%s%s", err, out, stderr)
	}
	var summary struct {
		Catalog
		Token string `json:"admin_token"`
	}
	if err := json.Unmarshal([]byte(lastLine(out)), &summary); err != nil {
		return template{}, fmt.Errorf("manage.py seed printed %q: %v", out, err)
	}
	db, err := os.ReadFile(a.dbPath())
	if err != nil {
		return template{}, err
	}
	return template{db: db, catalog: summary.Catalog, token: summary.Token}, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
