package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The demo tests run the built binary as a newcomer would, then make sure it
// left nothing behind: no process on its Redis port, no temporary files.

var (
	demoRedisURL = regexp.MustCompile(`redis://127\.0\.0\.1:(\d+)/0`)
	demoAPIURL   = regexp.MustCompile(`the reference catalog on (http://127\.0\.0\.1:\d+)`)
)

// demoCmd prepares `cachectl demo args...` with a private TMPDIR and no
// config or environment of the machine; path is its PATH.
func demoCmd(t *testing.T, ctx context.Context, path string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	bin, err := exec.LookPath("cachectl") // the test binary, installed on PATH by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	if path == "" {
		path = os.Getenv("PATH")
	}
	tmp := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, append([]string{"demo", "-n", "50", "--cold-samples", "1", "--seed-products", "60"}, args...)...)
	cmd.Env = []string{"PATH=" + path, "TMPDIR=" + tmp, "HOME=" + tmp, "XDG_CONFIG_HOME=" + filepath.Join(tmp, ".config")}
	return cmd, tmp
}

// assertNothingLeft checks that nothing answers on the demo's Redis port, no
// process names it, and the demo's temporary directory is gone.
func assertNothingLeft(t *testing.T, port, tmp string) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		c.Close()
		t.Errorf("something still listens on the demo's redis port %s", port)
	}
	if out, err := exec.Command("pgrep", "-af", "127.0.0.1:"+port).Output(); err == nil {
		t.Errorf("processes left behind:\n%s", out)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != ".config" {
			t.Errorf("left in TMPDIR: %s", e.Name())
		}
	}
}

func runDemoBinary(t *testing.T, path string, args ...string) (stdout, stderr, port, tmp string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, tmp := demoCmd(t, ctx, path, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("cachectl demo: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	m := demoRedisURL.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no redis address in the output:\n%s", out.String())
	}
	return out.String(), errOut.String(), m[1], tmp
}

// assertDemoRan checks the parts of the tour a newcomer reads.
func assertDemoRan(t *testing.T, stdout string) {
	t.Helper()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^api:    the reference catalog on http://127\.0\.0\.1:\d+ \(60 products, in memory\)$`),
		regexp.MustCompile(`(?m)^ok\twarm\t`),
		regexp.MustCompile(`(?m)^ok\tendpoint product_detail\t[\d.]+\tMISS .* → HIT `),
		regexp.MustCompile(`(?m)^ok\tinvalidation\t[\d.]+\tPATCH product \d+ price .* price put back$`),
		regexp.MustCompile(`(?m)^ENDPOINT\tCOLD P50\tWARM P50\tSPEEDUP\tLOAD RPS\tHIT RATIO\tDB Q COLD→WARM$`),
		regexp.MustCompile(`(?m)^product_detail\t[\d.]+ms\t[\d.]+ms\t[\d.]+x\t\d+\t\S+\t2\.0→0\.0$`),
		regexp.MustCompile(`(?m)^  cachectl top --redis redis://127\.0\.0\.1:\d+/0 --password-file \S+/redis-password --api http://127\.0\.0\.1:\d+$`),
		regexp.MustCompile(`(?m)^  cachectl clear --products --dry-run --redis redis://127\.0\.0\.1:\d+/0 --password-file \S+/redis-password$`),
	} {
		if !want.MatchString(stdout) {
			t.Errorf("output lacks %s:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "FAIL\t") {
		t.Errorf("a check step failed:\n%s", stdout)
	}
	// The admin token is a secret: the demo points at a private file, never prints it.
	if !regexp.MustCompile(`(?m)^  CACHECTL_ADMIN_TOKEN=\$\(cat \S+/admin-token\) cachectl check `).MatchString(stdout) ||
		regexp.MustCompile(`TOKEN=[0-9a-f]|Bearer [0-9a-f]`).MatchString(stdout) {
		t.Errorf("the admin token is printed, or its file is not named:\n%s", stdout)
	}
}

func TestDemoStartsAPrivateRedisServer(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is needed on PATH for this test")
	}
	stdout, _, port, tmp := runDemoBinary(t, "")
	if !regexp.MustCompile(`(?m)^redis:  a private redis-server on redis://127\.0\.0\.1:` + port + `/0 \(data in .*cachectl-demo-redis-\d+, removed on exit\)$`).MatchString(stdout) {
		t.Errorf("the demo does not say it started a private redis-server:\n%s", stdout)
	}
	assertDemoRan(t, stdout)
	if !regexp.MustCompile(`(?m)^ok\tstats\t[\d.]+\thit rate [\d.]+% `).MatchString(stdout) {
		t.Errorf("a real redis-server shows a hit rate:\n%s", stdout)
	}
	assertNothingLeft(t, port, tmp)
}

func TestDemoFallsBackToEmbeddedRedisWithoutRedisServer(t *testing.T) {
	bin, err := exec.LookPath("cachectl")
	if err != nil {
		t.Fatal(err)
	}
	// PATH holds cachectl and nothing else: no redis-server to find.
	stdout, _, port, tmp := runDemoBinary(t, filepath.Dir(bin))
	for _, want := range []string{
		"redis:  an embedded in-process Redis on redis://127.0.0.1:" + port + "/0 (no redis-server on PATH)\n",
		"it keeps no INFO statistics: hit rate, memory, evictions and ops/s stay\n",
		"skip\tstats\t",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	assertDemoRan(t, stdout)
	assertNothingLeft(t, port, tmp)
}

func TestDemoKeepRunsUntilCtrlCThenExitsZero(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, tmp := demoCmd(t, ctx, "", "--keep")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		if sc.Text() == "running until Ctrl-C" {
			break
		}
	}
	text := all.String()
	rm, am := demoRedisURL.FindStringSubmatch(text), demoAPIURL.FindStringSubmatch(text)
	if rm == nil || am == nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no addresses before 'running until Ctrl-C':\n%s\nstderr:\n%s", text, errOut.String())
	}
	// While kept, what the demo printed works from elsewhere.
	resp, err := http.Get(am[1] + "/api/products/1/")
	if err != nil {
		t.Fatalf("the kept API does not answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Cache") == "" {
		t.Errorf("kept API: HTTP %d, X-Cache %q", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
	password := assertKeptRedisNeedsPassword(t, text, cmd.Process.Pid, "127.0.0.1:"+rm[1])

	cmd.Process.Signal(syscall.SIGINT)
	rest := make(chan string)
	go func() { // drain the rest
		var b strings.Builder
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		rest <- b.String()
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo --keep after Ctrl-C: %v (want exit 0)\nstderr:\n%s", err, errOut.String())
	}
	if all := text + <-rest + errOut.String(); password != "" && strings.Contains(all, password) {
		t.Errorf("the demo printed its Redis password:\n%s", all)
	}
	assertNothingLeft(t, rm[1], tmp)
}

var demoPasswordFile = regexp.MustCompile(`(?m)^  (cachectl keys --redis redis://127\.0\.0\.1:\d+/0 --password-file (\S+))$`)

// assertKeptRedisNeedsPassword checks that the demo's Redis refuses a client
// without its password and serves one that reads it from the private file
// the demo names, and that the password is in no argv. It returns the password.
func assertKeptRedisNeedsPassword(t *testing.T, stdout string, demoPid int, addr string) string {
	t.Helper()
	ctx := t.Context()
	anon := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer anon.Close()
	if err := anon.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("the kept redis answers without a password: %v", err)
	}
	m := demoPasswordFile.FindStringSubmatch(stdout)
	if m == nil {
		t.Errorf("the next steps do not pass --password-file:\n%s", stdout)
		return ""
	}
	if fi, err := os.Stat(m[2]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("password file %s: %v, want mode 0600", m[2], err)
	}
	data, err := os.ReadFile(m[2])
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(data))
	c := redis.NewClient(&redis.Options{Addr: addr, Password: password, MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("the kept redis with the password from %s: %v", m[2], err)
	}
	// The command the demo suggests works as printed.
	args := strings.Fields(m[1])
	if out, err := cachectlCmd(t, args[1:]...).CombinedOutput(); err != nil || !strings.Contains(string(out), "products") {
		t.Errorf("%s: %v\n%s", m[1], err, out)
	}
	children, err := exec.Command("pgrep", "-P", strconv.Itoa(demoPid), "-x", "redis-server").Output()
	if err != nil {
		t.Fatalf("no redis-server child of the demo: %v", err)
	}
	for _, pid := range append(strings.Fields(string(children)), strconv.Itoa(demoPid)) {
		cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(cmdline), password) {
			t.Errorf("the password is in the argv of process %s: %q", pid, cmdline)
		}
	}
	return password
}
