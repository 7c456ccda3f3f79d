package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/internal/testwait"
)

// startTop runs `cachectl top ARGS` in the background until the test cancels
// it; the returned function cancels and returns the exit code and stderr.
func startTop(t *testing.T, ios *iostreams.IOStreams, errOut *bytes.Buffer, args ...string) (stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	env := map[string]string{"HOME": t.TempDir()}
	go func() {
		done <- execute(ctx, ios, append([]string{"top"}, args...), func(k string) string { return env[k] })
	}()
	stopped := false
	stop = func() (int, string) {
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code, errOut.String()
		case <-time.After(10 * time.Second):
			t.Fatal("top did not stop within 10s of being interrupted")
			return 0, ""
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	return stop
}

// waitForLines polls stdout until cond holds, for at most limit.
// startSeeded is a Redis holding the catalog's keys, and streams whose
// stdout the test reads while top writes to it.
func startSeeded(t *testing.T) (*redistest.Server, *iostreams.IOStreams, *testwait.Buffer, *bytes.Buffer) {
	srv := redistest.Start(t)
	seedCatalog(t, srv.Client(t))
	ios, _, _, errOut := iostreams.Test()
	out := &testwait.Buffer{}
	ios.Out = out
	return srv, ios, out, errOut
}

func waitForLines(t *testing.T, out *testwait.Buffer, limit time.Duration, what string, cond func([]string) bool) []string {
	t.Helper()
	var lines []string
	testwait.Until(t, limit, what, func() error {
		if lines = out.Lines(); cond(lines) {
			return nil
		}
		return fmt.Errorf("stdout:\n%s", strings.Join(lines, "\n"))
	})
	return lines
}

var (
	topDataLine = regexp.MustCompile(`^\d\d:\d\d:\d\d +[0-9.]+ +(-|[0-9.]+%?) +[0-9.]+ +[0-9.]+ +[0-9.]+[BKMG]? +\d+ +\d+ +[0-9.]+ +[0-9.]+$`)
	topDownLine = regexp.MustCompile(`^\d\d:\d\d:\d\d +disconnected, retrying: 127\.0\.0\.1:\d+: `)
)

func countMatching(lines []string, re *regexp.Regexp) int {
	n := 0
	for _, l := range lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// Piped, top prints a header and one line per interval; when Redis goes
// away it says so and retries at least every 2 s even with a longer
// interval; when Redis is back it recovers by itself, without negative rates
// from the reset counters; Ctrl-C exits 130.
func TestTopLinesSurviveARestart(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	seedCatalog(t, c)

	ios, _, _, errOut := iostreams.Test()
	out := &testwait.Buffer{}
	ios.Out = out
	stop := startTop(t, ios, errOut, "--interval", "3s", "--redis", srv.URL())

	lines := waitForLines(t, out, 5*time.Second, "the header and a first line", func(l []string) bool { return countMatching(l, topDataLine) >= 1 })
	header := regexp.MustCompile(`^time +ops/s +hit_rate +hits/s +misses/s +used_memory +keys +clients +evicted/s +expired/s$`)
	if !header.MatchString(lines[0]) {
		t.Errorf("header %q", lines[0])
	}
	ctx := context.Background()
	for range 30 {
		c.Get(ctx, "ecommerce:1:product:1")
	}
	for range 10 {
		c.Get(ctx, "ecommerce:1:product:999")
	}
	lines = waitForLines(t, out, 5*time.Second, "a second line", func(l []string) bool { return countMatching(l, topDataLine) >= 2 })
	f := strings.Fields(lines[2])
	// The interval saw exactly the 30 hits and 10 misses; keys = DBSIZE;
	// the clients are top and this test.
	if f[2] != "0.750" || f[6] != "25" || f[7] != "2" {
		t.Errorf("second line %q: hit_rate %s keys %s clients %s, want 0.750 25 2", lines[2], f[2], f[6], f[7])
	}

	srv.Stop()
	var seen []time.Time
	waitForLines(t, out, 8*time.Second, "two disconnected lines", func(l []string) bool {
		if n := countMatching(l, topDownLine); n > len(seen) {
			seen = append(seen, time.Now())
		}
		return len(seen) >= 2
	})
	if gap := seen[1].Sub(seen[0]); gap > 2500*time.Millisecond {
		t.Errorf("retried after %s with a 3s interval, want at most 2s", gap)
	}

	srv.Restart(t)
	lines = waitForLines(t, out, 5*time.Second, "a line after Redis came back", func(l []string) bool {
		return len(l) > 0 && topDataLine.MatchString(l[len(l)-1])
	})
	last := strings.Fields(lines[len(lines)-1])
	if last[6] != "0" {
		t.Errorf("after a restart without persistence, keys %s, want 0: %q", last[6], lines[len(lines)-1])
	}
	for _, l := range lines {
		if strings.Contains(l, " -") && !strings.Contains(l, " - ") || strings.Contains(l, "NaN") || strings.Contains(l, "Inf") {
			t.Errorf("a negative or undefined figure: %q", l)
		}
	}

	code, stderr := stop()
	if code != exitInterrupted || stderr != "cachectl: interrupted\n" {
		t.Errorf("exit %d, stderr %q; want 130 and one line", code, stderr)
	}
}

// On a terminal, top runs the dashboard: q ends it with exit 0, and the
// logs of the run are held until the screen is given back.
func TestTopOnATerminalRunsTheDashboard(t *testing.T) {
	srv, ios, out, errOut := startSeeded(t)
	ios.SetStdoutTTY(true)
	// q arrives after the first screen has been drawn.
	pr, pw := io.Pipe()
	ios.In = pr
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		testwait.For(ctx, func() bool { return strings.Contains(ansi.Strip(out.String()), "keyspace by group") })
		pw.Write([]byte("q"))
	}()
	code := runCachectl(t, ios, "top", "--interval", "100ms", "--api", "http://127.0.0.1:1", "--redis", srv.URL())
	pw.Close()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	screen := ansi.Strip(out.String())
	for _, want := range []string{"cachectl top", "hit rate", "ops/s", "memory", "keyspace by group"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	if strings.Contains(screen, "app hit rate") {
		t.Error("an app panel without an application")
	}
}

// --json makes each line one JSON object; an interval without lookups has
// a null hit rate rather than a made-up 0.
func TestTopJSONLines(t *testing.T) {
	srv, ios, out, errOut := startSeeded(t)
	stop := startTop(t, ios, errOut, "--json", "--interval", "50ms", "--redis", srv.URL())
	lines := waitForLines(t, out, 5*time.Second, "three JSON lines", func(l []string) bool { return len(l) >= 3 })
	stop()
	var first, later map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("%v: %s", err, lines[0])
	}
	if err := json.Unmarshal([]byte(lines[2]), &later); err != nil {
		t.Fatalf("%v: %s", err, lines[2])
	}
	if first["op"] != "top" || first["since_start"] != true || first["lifetime_hit_rate"] != 0.7 || first["keys"] != 25.0 {
		t.Errorf("first line %s", lines[0])
	}
	if later["hit_rate"] != nil || later["since_start"] != nil || later["interval_ms"].(float64) <= 0 {
		t.Errorf("idle interval %s, want hit_rate null", lines[2])
	}
}

func TestTopOnceIsStats(t *testing.T) {
	srv := redistest.Start(t)
	seedCatalog(t, srv.Client(t))
	ios, _, out, errOut := iostreams.Test()
	if code := runCachectl(t, ios, "top", "--once", "--json", "--redis", srv.URL()); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res render.StatsResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Op != "stats" || res.KeyspaceHits != 7 || res.DBs["db0"].Keys != 25 || res.Groups["products"].Keys != 21 {
		t.Errorf("top --once %s", out)
	}
}

func TestTopUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"top", "--interval", "0s"}, "cachectl: --interval must be from 10ms to 1h0m0s, not 0s\n"},
		{[]string{"top", "--format", "markdown"}, "cachectl: this command does not support --format markdown\n"},
		{[]string{"stats", "extra"}, `cachectl: unknown command "extra" for "cachectl stats"` + "\n"},
	} {
		ios, _, _, errOut := iostreams.Test()
		if code := runCachectl(t, ios, tt.args...); code != exitUsage || !strings.HasPrefix(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestTopMetricsClientKeepsAPICredentialsOutOfTheURL(t *testing.T) {
	// The dashboard reads /metrics with the API's credentials in the
	// client's transport; the URL it holds (and may print) has none.
	var gotUser, gotPass string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, _ = r.BasicAuth()
	}))
	defer api.Close()
	withCreds := strings.Replace(api.URL, "http://", "http://alice:S3cret@", 1)
	_, f, code, stderr := runRoot(t, map[string]string{envAPI: withCreds}, "capture")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	u, client, err := f.MetricsClient()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u.String(), "S3cret") || u.User != nil {
		t.Errorf("metrics URL %q carries the credentials", u)
	}
	resp, err := client.Get(u.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if gotUser != "alice" || gotPass != "S3cret" {
		t.Errorf("the API got basic auth %q:%q, want alice:S3cret", gotUser, gotPass)
	}
}
