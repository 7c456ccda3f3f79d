package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/internal/testwait"
)

// runCLI runs one command line against streams the test controls.
func runCLI(t *testing.T, ios *iostreams.IOStreams, args ...string) int {
	t.Helper()
	env := map[string]string{"HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir()}
	return execute(context.Background(), ios, args, func(k string) string { return env[k] })
}

func seedKeys(t *testing.T, c redis.UniversalClient, keys ...string) {
	t.Helper()
	p := c.Pipeline()
	for _, k := range keys {
		p.Set(context.Background(), k, "v", time.Hour)
	}
	if _, err := p.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// productKeys are the keys of products 0 to n-1 under the default schema.
func productKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("ecommerce:1:product:%d", i)
	}
	return keys
}

func exists(t *testing.T, c redis.UniversalClient, keys ...string) int64 {
	t.Helper()
	n, err := c.Exists(context.Background(), keys...).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestClearFlagsCombineIntoOneSelection(t *testing.T) {
	// Every target flag lands in one selection (one SCAN pass), in a stable
	// order and without duplicates; nonsense is a usage error before any I/O.
	cases := []struct {
		args []string
		want []string // target names; nil means exit 2
	}{
		{[]string{"--products", "--colors"}, []string{"products", "colors"}},
		{[]string{"--product-id", "1,2", "--product-id", "3", "--cascade"}, []string{"product:1", "product:2", "product:3"}},
		{[]string{"--group", "categories", "--categories", "--pattern", "products:list:*"}, []string{"categories", "pattern:products:list:*"}},
		{[]string{"--all"}, []string{"all"}},
		{[]string{"--all", "--products", "--product-id", "5"}, []string{"product:5", "products", "all"}},
		{[]string{"--group", "all", "--colors"}, []string{"colors", "all"}},
		{nil, nil},
		{[]string{"--cascade", "--products"}, nil},
		{[]string{"--product-id", "0"}, nil},
		{[]string{"--product-id", "1x"}, nil},
		{[]string{"--pattern", "*"}, nil},
		{[]string{"--pattern", "?*"}, nil},
		{[]string{"--group", "sessions"}, nil},
		{[]string{"--products", "--batch", "0"}, nil},
		{[]string{"--products", "--count", "0"}, nil},
		{[]string{"--products", "extra-arg"}, nil},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ios, _, _, errOut := iostreams.Test()
			f := newFactory(ios, func(string) string { return "" })
			var got []string
			root := newRootCmd(f)
			root.RemoveCommand(findCmd(root, "clear"))
			root.AddCommand(newClearCmd(f, func(_ context.Context, o *clearOptions) error {
				s, err := o.Schema()
				if err != nil {
					return err
				}
				sel, err := o.Select(s)
				for _, tg := range sel {
					got = append(got, tg.Name)
				}
				return err
			}))
			root.SetArgs(append([]string{"clear", "--redis", "redis://127.0.0.1:1/0"}, tc.args...))
			root.SetOut(ios.Out)
			root.SetErr(ios.ErrOut)
			err := root.ExecuteContext(context.Background())
			code := exitCode(context.Background(), err)
			if tc.want == nil {
				if code != exitUsage {
					t.Errorf("exit %d (%v), want 2", code, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("targets %q (err %v, %s), want %q", got, err, errOut, tc.want)
			}
		})
	}
}

func findCmd(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

func TestClearAsksOnATerminal(t *testing.T) {
	// On a terminal the user sees the redacted target, the groups and the
	// count, and only "y" deletes.
	srv := redistest.Start(t, redistest.Options{Password: "pw-never-shown"})
	c := srv.Client(t)
	url := "redis://:pw-never-shown@" + srv.Addr + "/0"
	for _, answer := range []string{"n\n", "\n", "yes please\n", "y\n"} {
		t.Run(strings.TrimSpace(answer), func(t *testing.T) {
			seedKeys(t, c, "ecommerce:1:product:1", "ecommerce:1:product:2", "ecommerce:1:product_colors:all")
			ios, in, out, errOut := iostreams.Test()
			ios.SetStdinTTY(true)
			ios.SetStderrTTY(true)
			ios.SetStdoutTTY(true)
			in.WriteString(answer)
			code := runCLI(t, ios, "clear", "--products", "--redis", url)
			prompt := errOut.String()
			for _, want := range []string{"about to delete 2 keys", `"ecommerce:1:"`, "redis://***@127.0.0.1:", "db 0", "products: 2", "[y/N]"} {
				if !strings.Contains(prompt, want) {
					t.Errorf("prompt lacks %q:\n%s", want, prompt)
				}
			}
			if strings.Contains(prompt+out.String(), "pw-never-shown") {
				t.Error("the password was printed")
			}
			if answer == "y\n" {
				if code != 0 || exists(t, c, "ecommerce:1:product:1", "ecommerce:1:product:2") != 0 {
					t.Fatalf("confirmed: exit %d, products left: %s", code, errOut)
				}
				if !strings.Contains(out.String(), "deleted 2 keys from redis://***@") {
					t.Errorf("terminal summary:\n%s", out)
				}
			} else if code != 1 || exists(t, c, "ecommerce:1:product:1", "ecommerce:1:product:2") != 2 {
				t.Fatalf("answer %q: exit %d, want 1 and nothing deleted", answer, code)
			}
			if exists(t, c, "ecommerce:1:product_colors:all") != 1 {
				t.Error("product_colors:all was deleted")
			}
		})
	}
}

func TestClearWithoutTerminalRefusesUnlessYes(t *testing.T) {
	// A cron job or pipe cannot answer: it must be told to pass --yes, and
	// learn how much would have gone, before anything is deleted.
	srv := redistest.Start(t)
	c := srv.Client(t)
	seedKeys(t, c, "ecommerce:1:product:1", "ecommerce:1:product:2:variants", "ecommerce:1:category:1")
	ios, _, out, errOut := iostreams.Test()
	if code := runCLI(t, ios, "clear", "--products", "--categories", "--redis", srv.URL()); code != exitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, want := range []string{"refusing to delete 3 keys", "products: 2", "categories: 1", "hint: add --yes"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if out.Len() != 0 || exists(t, c, "ecommerce:1:product:1", "ecommerce:1:product:2:variants", "ecommerce:1:category:1") != 3 {
		t.Fatalf("a refused clear printed %q or deleted keys", out)
	}

	ios, _, out, errOut = iostreams.Test()
	if code := runCLI(t, ios, "clear", "--products", "--categories", "--yes", "--redis", srv.URL()); code != 0 {
		t.Fatalf("--yes: exit %d: %s", code, errOut)
	}
	want := "group\tmatched\tdeleted\nproducts\t2\t2\ncategories\t1\t1\ntotal\t3\t3\n"
	if out.String() != want {
		t.Errorf("piped output:\n%q\nwant\n%q", out, want)
	}
	if errOut.Len() != 0 {
		t.Errorf("piped clear wrote to stderr: %q", errOut)
	}
}

func TestClearJSONContractWithBinaryKeys(t *testing.T) {
	// CI parses this object; keys with newlines or invalid UTF-8 must not break it.
	srv := redistest.Start(t)
	c := srv.Client(t)
	seedKeys(t, c, "ecommerce:1:product:1\n\"},", "ecommerce:1:product:\xff\xfe", "ecommerce:1:products:list: x", "ecommerce:1:session:1")
	ios, _, out, errOut := iostreams.Test()
	if code := runCLI(t, ios, "clear", "--products", "--pattern", "session:*", "--yes", "--json", "--redis", srv.URL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !json.Valid(out.Bytes()) || bytes.Count(out.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("not one line of valid JSON: %q", out)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"op": "clear", "target": srv.URL(), "matched": 4.0, "deleted": 4.0, "complete": true, "dry_run": false, "errors": 0.0, "passes": 1.0,
		"groups": map[string]any{
			"products":          map[string]any{"matched": 3.0, "deleted": 3.0},
			"pattern:session:*": map[string]any{"matched": 1.0, "deleted": 1.0},
		},
	}
	d, ok := got["duration_ms"].(float64)
	if !ok || d <= 0 {
		t.Errorf("duration_ms = %v", got["duration_ms"])
	}
	delete(got, "duration_ms")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("JSON\n%v\nwant\n%v", got, want)
	}
	if n := c.DBSize(context.Background()).Val(); n != 0 {
		t.Errorf("%d keys left", n)
	}
}

func TestClearDryRunAndMaxKeys(t *testing.T) {
	// --dry-run counts exactly and deletes nothing, with no terminal and no
	// --yes; --max-keys refuses a bigger clear before the first UNLINK.
	srv := redistest.Start(t)
	c := srv.Client(t)
	seedKeys(t, c, productKeys(250)...)

	ios, _, out, errOut := iostreams.Test()
	if code := runCLI(t, ios, "clear", "--products", "--dry-run", "--json", "--redis", srv.URL()); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errOut)
	}
	var res clearResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Matched != 250 || res.Deleted != 0 || !res.Complete {
		t.Errorf("dry run result %+v", res)
	}
	ios, _, _, errOut = iostreams.Test()
	if code := runCLI(t, ios, "clear", "--products", "--yes", "--max-keys", "249", "--redis", srv.URL()); code != exitUsage {
		t.Fatalf("--max-keys 249: exit %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "refusing to delete 250 keys") || !strings.Contains(errOut.String(), "--max-keys 249") {
		t.Errorf("stderr: %s", errOut)
	}
	if n := c.DBSize(context.Background()).Val(); n != 250 {
		t.Fatalf("%d keys left after dry run and refusal, want 250", n)
	}
	ios, _, _, errOut = iostreams.Test()
	if code := runCLI(t, ios, "clear", "--products", "--yes", "--max-keys", "250", "--redis", srv.URL()); code != 0 {
		t.Fatalf("--max-keys 250: exit %d: %s", code, errOut)
	}
	if n := c.DBSize(context.Background()).Val(); n != 0 {
		t.Errorf("%d keys left", n)
	}
}

func TestClearIncompleteExitsOneAndPrintsWhatItDid(t *testing.T) {
	// A user without UNLINK: the result still prints, says complete=false,
	// the exit code is 1 and the hint says a re-run finishes the job.
	srv := redistest.Start(t, redistest.Options{ACL: []string{"nounlink on >pw ~* +@all -unlink"}})
	c := srv.Client(t)
	seedKeys(t, c, "ecommerce:1:product:1", "ecommerce:1:product:2")
	ios, _, out, errOut := iostreams.Test()
	code := runCLI(t, ios, "clear", "--products", "--yes", "--json", "--redis", "redis://nounlink:pw@"+srv.Addr+"/0")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	var res clearResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if res.Complete || res.Deleted != 0 || res.Errors != 1 {
		t.Errorf("result %+v: want complete=false, deleted 0, errors 1", res)
	}
	for _, want := range []string{"NOPERM", "hint: this user may not run UNLINK: grant it (ACL SETUSER <user> +unlink"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestClearProgressOnlyOnATerminal(t *testing.T) {
	// A person watching sees the progress line, of a clear and of a plan's
	// apply (after its question, never under it); a log file does not fill
	// with it.
	srv := redistest.Start(t)
	c := srv.Client(t)
	plan := filepath.Join(t.TempDir(), "products.plan.json")
	for _, tty := range []bool{true, false} {
		for _, apply := range []bool{false, true} {
			seedKeys(t, c, "ecommerce:1:product:1", "ecommerce:1:product:2")
			args := []string{"clear", "--products", "--yes", "--redis", srv.URL()}
			ios, in, out, errOut := iostreams.Test()
			ios.SetStderrTTY(tty)
			if apply {
				pios, _, _, perr := iostreams.Test()
				if code := runCLI(t, pios, "clear", "--products", "--plan", plan, "--redis", srv.URL()); code != 0 {
					t.Fatalf("plan: exit %d: %s", code, perr)
				}
				args = []string{"clear", "--apply", plan, "--redis", srv.URL(), "--yes"}
				if tty { // asked on the terminal, answered yes
					args = args[:len(args)-1]
					ios.SetStdinTTY(true)
					in.WriteString("y\n")
				}
			}
			if code := runCLI(t, ios, args...); code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errOut)
			}
			e := errOut.String()
			shown := strings.Contains(e, "scanned ~") && strings.Contains(e, "keys/s")
			if shown != tty {
				t.Errorf("%v, stderr TTY %v: progress shown %v: %q", args, tty, shown, e)
			}
			if last := strings.LastIndex(e, "keys/s"); shown && !strings.Contains(e[last:], "\r\x1b[K") {
				t.Errorf("%v: the progress line is not erased before the result: %q", args, e)
			}
			if q := strings.Index(e, "[y/N]"); apply && tty && (q < 0 || strings.Index(e, "scanned ~") < q) {
				t.Errorf("%v: the progress line is not after the question: %q", args, e)
			}
			if n := c.Exists(context.Background(), "ecommerce:1:product:1", "ecommerce:1:product:2").Val(); n != 0 || !strings.Contains(out.String(), "products\t2\t2") {
				t.Errorf("%v: %d keys left; result %q", args, n, out)
			}
		}
	}
}

func TestClearOnACluster(t *testing.T) {
	// The command line on a cluster seed: every master, exact totals.
	cl := redistest.StartCluster(t, 3, 1)
	c := cl.Client(t)
	seedKeys(t, c, append(productKeys(900), "ecommerce:1:product_colors:all")...)
	ios, _, out, errOut := iostreams.Test()
	// Several seeds, the first of them dead: the clear starts from the next.
	seeds := "redis://127.0.0.1:1," + cl.Masters[1].Addr + "," + cl.Masters[2].Addr + "/0"
	if code := runCLI(t, ios, "clear", "--products", "--yes", "--json", "--redis", seeds); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res clearResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 900 || !res.Complete {
		t.Errorf("result %+v, want 900 deleted", res)
	}
	if exists(t, c, "ecommerce:1:product_colors:all") != 1 {
		t.Error("colors were deleted")
	}
}

// cmdRedis lets scripts set up and inspect Redis without redis-cli:
//
//	redis [-cluster] URL populate PATTERN N   set PATTERN (%d = 0..N-1), 1h TTL
//	redis [-cluster] URL COMMAND ARGS...      run one command, print its reply
func cmdRedis(ts *testscript.TestScript, neg bool, args []string) {
	cluster := len(args) > 0 && args[0] == "-cluster"
	if cluster {
		args = args[1:]
	}
	if len(args) < 2 {
		ts.Fatalf("usage: redis [-cluster] URL populate PATTERN N | redis [-cluster] URL COMMAND ARGS...")
	}
	opt, err := redis.ParseURL(args[0])
	ts.Check(err)
	var c redis.UniversalClient = redis.NewClient(opt)
	if cluster {
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{opt.Addr}})
	}
	defer c.Close()
	ctx := context.Background()
	if args[1] == "populate" && len(args) == 4 {
		n, err := strconv.Atoi(args[3])
		ts.Check(err)
		p := c.Pipeline()
		for i := range n {
			p.Set(ctx, fmt.Sprintf(args[2], i), "value", time.Hour)
		}
		_, err = p.Exec(ctx)
		ts.Check(err)
		return
	}
	cmdArgs := make([]any, len(args)-1)
	for i, a := range args[1:] {
		cmdArgs[i] = a
	}
	v, err := c.Do(ctx, cmdArgs...).Result()
	if neg {
		if err == nil {
			ts.Fatalf("redis %s succeeded", strings.Join(args[1:], " "))
		}
		return
	}
	if err != nil && err != redis.Nil {
		ts.Fatalf("redis %s: %v", strings.Join(args[1:], " "), err)
	}
	fmt.Fprintln(ts.Stdout(), v)
}

func TestClearInterruptedExits130AndReRunFinishes(t *testing.T) {
	// Ctrl-C mid-clear: the partial result is printed, complete=false, exit
	// 130, the user is told a re-run finishes, and it does.
	srv := redistest.Start(t)
	c := srv.Client(t)
	seedKeys(t, c, productKeys(2000)...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Ctrl-C once deleting has begun; the clear below takes about 2s
		testwait.For(ctx, func() bool { return c.DBSize(context.Background()).Val() != 2000 })
		cancel()
	}()
	ios, _, out, errOut := iostreams.Test()
	env := map[string]string{"HOME": t.TempDir()}
	code := execute(ctx, ios, []string{"clear", "--products", "--yes", "--json", "--batch", "10", "--pause", "10ms", "--redis", srv.URL()},
		func(k string) string { return env[k] })
	if code != exitInterrupted {
		t.Fatalf("exit %d, want 130: %s", code, errOut)
	}
	var res clearResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	left := c.DBSize(context.Background()).Val()
	if res.Complete || left == 0 || res.Deleted > 2000-left {
		t.Errorf("interrupted result %+v with %d keys left: want complete=false and no over-count", res, left)
	}
	if !strings.Contains(errOut.String(), "run the same command again to finish the job") {
		t.Errorf("stderr: %s", errOut)
	}
	ios, _, _, errOut = iostreams.Test()
	if code := runCLI(t, ios, "clear", "--products", "--yes", "--redis", srv.URL()); code != 0 {
		t.Fatalf("re-run: exit %d: %s", code, errOut)
	}
	if n := c.DBSize(context.Background()).Val(); n != 0 {
		t.Errorf("%d keys left after the re-run", n)
	}
}

func TestClearHintsAfterPermanentErrors(t *testing.T) {
	// A refusal the server will repeat must not be answered with "run the
	// same command again to finish the job".
	renamed := redistest.Start(t, redistest.Options{Args: []string{"--rename-command", "UNLINK", ""}})
	seedKeys(t, renamed.Client(t), "ecommerce:1:product:1", "ecommerce:1:product:2")

	cl := redistest.StartCluster(t, 3, 0)
	seedKeys(t, cl.Client(t), productKeys(300)...)
	for _, m := range cl.Masters {
		// A user that may not ask INFO or CLUSTER INFO, nor EXISTS of
		// keys in two slots, so that the cluster cannot be detected; and
		// one that may run EXISTS, which tells.
		for _, u := range [][]any{{"blind", "-exists"}, {"nocluster", "+exists"}} {
			if err := m.Client(t).Do(context.Background(), "ACL", "SETUSER", u[0], "on", ">pw", "~*", "+@all", "-info", "-cluster", u[1]).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}

	for _, c := range []struct {
		name, url, want string
	}{
		{"no UNLINK", renamed.URL(), "hint: this server has no such command (UNLINK needs Redis 4.0"},
		{"an undetected cluster", "redis://blind:pw@" + cl.Masters[0].Addr + "/0", "add --cluster"},
		{"a cluster without CLUSTER", "redis://nocluster:pw@" + cl.Masters[0].Addr + "/0", "is a cluster node, but this user may not run the CLUSTER commands"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ios, _, _, errOut := iostreams.Test()
			if code := runCLI(t, ios, "clear", "--products", "--yes", "--redis", c.url); code != exitFailed {
				t.Fatalf("exit %d, want 1: %s", code, errOut)
			}
			if !strings.Contains(errOut.String(), c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, errOut)
			}
			if strings.Contains(errOut.String(), "finish the job") {
				t.Errorf("the hint promises that running again finishes the job:\n%s", errOut)
			}
		})
	}
}

func TestClearFlagBounds(t *testing.T) {
	// Sizes that would allocate gigabytes or block Redis are refused with
	// the range, before anything connects.
	for _, args := range [][]string{
		{"clear", "--products", "--batch", "2000000000"},
		{"clear", "--products", "--batch", "100000000"},
		{"clear", "--products", "--count", "0"},
		{"clear", "--products", "--count", "10000000"},
		{"clear", "--products", "--pause", "2h"},
		{"keys", "--samples", "1000000"},
		{"stats", "--count", "100000000"},
		{"ping", "--count", "100000000"},
		{"bench", "-n", "2000000000"},
		{"bench", "-c", "1000000"},
		{"warm", "-c", "1000000"},
		{"warm", "--retries", "1000"},
		{"demo", "--seed-products", "100000000"},
	} {
		ios, _, _, errOut := iostreams.Test()
		code := runCLI(t, ios, append(args, "--redis", "redis://127.0.0.1:1/0")...)
		if code != exitUsage || !strings.Contains(errOut.String(), "must be from") || strings.Contains(errOut.String(), "goroutine") {
			t.Errorf("%v: exit %d, want 2 with the range: %s", args, code, errOut)
		}
	}
}

// clearResult is the JSON of `cachectl clear`, as the tests decode it.
type clearResult = render.ClearReport
