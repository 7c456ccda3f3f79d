// The tests that keep docs/ARCHITECTURE.md true: what
// each room may import and call, and how large the wiring room may grow.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/cachectl/cachectl/"

// domain are the packages that do the work. They take options and return
// results; the command line, the environment and the terminal are not theirs.
var domain = []string{"keyspace", "inspect", "warm", "bench", "check", "catalogapi", "catalog", "observe",
	"internal/clearflow", "internal/topfeed", "internal/audit", "internal/exporter", "internal/sandbox", "internal/redisconn"}

// file is one parsed non-test Go file of the module.
type file struct {
	path string // relative to the module root
	fset *token.FileSet
	ast  *ast.File
	src  []byte
}

func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", dir, err)
	}
	return dir
}

// sources parses the non-test Go files of the package in dir (relative to
// the module root).
func sources(t *testing.T, dir string) []file {
	t.Helper()
	base := root(t)
	paths, err := filepath.Glob(filepath.Join(base, dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []file
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(base, p)
		files = append(files, file{rel, fset, f, src})
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return files
}

// allPackages lists every directory of the module that holds non-test Go
// files, relative to the root, skipping testdata and the Django app.
func allPackages(t *testing.T) []string {
	t.Helper()
	base := root(t)
	var dirs []string
	err := filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") || name == "app" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			rel, _ := filepath.Rel(base, filepath.Dir(p))
			if len(dirs) == 0 || dirs[len(dirs)-1] != rel {
				dirs = append(dirs, rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func TestDomainPackagesNeitherWireNorPrint(t *testing.T) {
	// A domain package imports no CLI library, reads no environment and
	// writes to no standard stream: the commands decide all three.
	forbiddenImports := map[string]string{
		"github.com/spf13/cobra":      "the CLI library",
		"github.com/spf13/pflag":      "the CLI library",
		module + "internal/iostreams": "the terminal's streams",
		module + "internal/render":    "the presentation layer",
	}
	forbiddenCalls := map[string]bool{
		"os.Getenv": true, "os.LookupEnv": true, "os.Environ": true,
		"fmt.Print": true, "fmt.Printf": true, "fmt.Println": true,
		"log.Print": true, "log.Printf": true, "log.Println": true, "log.Fatal": true, "log.Fatalf": true,
	}
	forbiddenIdents := map[string]bool{"os.Stdout": true, "os.Stderr": true, "os.Stdin": true}
	for _, pkg := range domain {
		for _, f := range sources(t, pkg) {
			for _, imp := range f.ast.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if why, bad := forbiddenImports[path]; bad {
					t.Errorf("%s imports %s (%s): a domain package takes options and returns results", f.path, path, why)
				}
			}
			ast.Inspect(f.ast, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				name := x.Name + "." + sel.Sel.Name
				if forbiddenCalls[name] || forbiddenIdents[name] {
					t.Errorf("%s:%d uses %s: the environment and the terminal belong to the commands",
						f.path, f.fset.Position(sel.Pos()).Line, name)
				}
				return true
			})
		}
	}
}

// keyLiteral matches a string literal that spells a logical key of the
// catalog's schema: "product:…", "products:…", "categories:…",
// "category:…", "product_colors:…".
var keyLiteral = regexp.MustCompile(`^"(product|products|category|categories|product_colors):`)

func TestLogicalKeyNamesAreBuiltInKeyspaceOnly(t *testing.T) {
	for _, pkg := range allPackages(t) {
		if pkg == "keyspace" {
			continue
		}
		for _, f := range sources(t, pkg) {
			ast.Inspect(f.ast, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if ok && lit.Kind == token.STRING && keyLiteral.MatchString(lit.Value) {
					t.Errorf("%s:%d spells the logical key %s: build it with keyspace",
						f.path, f.fset.Position(lit.Pos()).Line, lit.Value)
				}
				return true
			})
		}
	}
}

func TestTheCommandsOnlyWire(t *testing.T) {
	// cmd/cachectl turns flags, environment and config into options, makes
	// one domain call and prints through the presentation layer. It stays
	// small, and so do its functions. maxLines is a ratchet under the
	// 2,000 lines docs/ARCHITECTURE.md sets: lower it as code leaves, never
	// raise it past 2,000. (Raised for new commands' wiring only: trace,
	// clear --url with the gate it shares with clear, warm's --observe and
	// --min-coverage, bench's observer: 2286 -> 2537; --read-only's
	// switches and refusals, the audit trail and `cachectl audit`: -> 2807;
	// keys --biggest and the server's own key figures, the exporter: -> 2862;
	// bench --stampede, serve --hit-latency: -> 2869;
	// bench's named baselines, history and JUnit: -> 2879;
	// --max-impact on clear, keys, stats and top: -> 2891;
	// clear --plan/--apply, --old-versions, --no-ttl, --ttl-below: -> 3025;
	// top's sampled hit rate per group, --no-sample: -> 3044;
	// top's filter, drill-down, dry-run view and help: -> 3068;
	// clear passes its connection hooks to its own clients (read-only): -> 3070;
	// --plan allowed and --apply refused under read-only, --apply audited: -> 3074;
	// the exporter samples the hit ratio per group (--no-sample): -> 3082.
	// Lowered as code left: the global options' precedence, read-only's
	// switch, the password's sources and the --api check to internal/config,
	// the typed errors and exit codes to internal/cmdutil, the global flags'
	// declarations beside their resolution; clear's targets, option rules
	// and gate to internal/clearflow; trace's loop (observe.GetAll), keys'
	// groups (keyspace.Schema.Named), stats' error classes
	// (inspect.ReadError), top's feed (topfeed.Open), ping's reading
	// (inspect.Describe), clear --url's question (clearflow ConfirmURLs,
	// observe.LogicalKeys), top's db (redisconn KeysDB); bench's run to
	// bench.Job, warm's to warm.Job, check's own warm round, serve's clear
	// flags (redisconn.Config.Args) and the outputs to internal/render:
	// -> 2105; the loggers to internal/config and redisconn, the clear
	// lines' flags to internal/config, what clear, bench and serve would
	// write to clearflow, bench and catalog, bench's audit entry to
	// internal/audit, the tests' own constants to a test file: -> 1995;
	// the format check to internal/config, with clear --apply's progress
	// line in: -> 1990.)
	const maxLines, maxFunc, maxFlagsOnly = 1990, 60, 100
	lines := 0
	for _, f := range sources(t, "cmd/cachectl") {
		lines += strings.Count(string(f.src), "\n")
		for _, d := range f.ast.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			n := f.fset.Position(fn.End()).Line - f.fset.Position(fn.Pos()).Line + 1
			limit := maxFunc
			if strings.HasPrefix(fn.Name.Name, "new") && strings.HasSuffix(fn.Name.Name, "Cmd") {
				limit = maxFlagsOnly // a cobra constructor that declares flags
			}
			if n > limit {
				t.Errorf("%s: %s is %d lines (at most %d)", f.path, fn.Name.Name, n, limit)
			}
		}
	}
	if lines > maxLines {
		t.Errorf("cmd/cachectl has %d lines of non-test code (at most %d)", lines, maxLines)
	}
	t.Logf("cmd/cachectl: %d lines of non-test code", lines)
}

// Tests start the catalog server one way, internal/sandbox's StartAPI; the
// catalog package's own tests, which read its unexported state, and the
// sandbox itself are the exceptions.
func TestTestsStartTheCatalogThroughTheSandbox(t *testing.T) {
	base := root(t)
	for _, pkg := range allPackages(t) {
		if pkg == "catalog" || pkg == "internal/sandbox" || pkg == "internal/archtest" {
			continue
		}
		paths, err := filepath.Glob(filepath.Join(base, pkg, "*_test.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, call := range []string{"catalog.NewServer(", "catalog.Run("} {
				if strings.Contains(string(src), call) {
					rel, _ := filepath.Rel(base, p)
					t.Errorf("%s calls %s: start the catalog with sandbox.StartAPI or MustStartAPI", rel, call)
				}
			}
		}
	}
}
