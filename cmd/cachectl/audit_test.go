package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/audit"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
)

// auditEnv is an environment whose state directory is a temporary one.
func auditEnv(t *testing.T) (map[string]string, string) {
	dir := t.TempDir()
	return map[string]string{"HOME": dir, "XDG_CONFIG_HOME": dir, "XDG_STATE_HOME": dir}, filepath.Join(dir, "cachectl", "audit.jsonl")
}

func runEnv(ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	ios, _, out, errOut := iostreams.Test()
	code := execute(ctx, ios, args, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

// A clear leaves one line with its targets and counts, and none of the
// password of the URL it was given; a dry run leaves none; the team stream
// gets the same line and no clear can match it; `cachectl audit` shows them.
func TestClearWritesOneAuditLine(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Password: "s3cret-pw"})
	c := srv.Client(t)
	seedKeys(t, c, productKeys(30)...)
	seedKeys(t, c, "ecommerce:1:categories:all", "ecommerce:1:category:1", "ecommerce:1:category:2")
	env, path := auditEnv(t)
	url := "redis://:s3cret-pw@" + srv.Addr + "/0"
	ctx := context.Background()

	if code, _, stderr := runEnv(ctx, env, "clear", "--all", "--dry-run", "--redis", url); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a dry run wrote an audit line: it deleted nothing")
	}
	if code, _, stderr := runEnv(ctx, env, "clear", "--products", "--categories", "--yes", "--audit-stream", "--redis", url); code != 0 {
		t.Fatalf("clear: exit %d: %s", code, stderr)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "s3cret-pw") {
		t.Fatalf("the trail holds the password: %s", raw)
	}
	got, bad, err := audit.Read(path)
	if err != nil || bad != 0 || len(got) != 1 {
		t.Fatalf("trail %+v (%d bad, %v), want one line", got, bad, err)
	}
	e := got[0]
	if e.Command != "clear" || !slices.Equal(e.Targets, []string{"products", "categories"}) || !slices.Equal(e.Counts, []int64{30, 3}) ||
		e.Deleted != 33 || !e.Complete || e.User == "" || e.Host == "" || !strings.Contains(e.Redis, srv.Addr) || e.DurationMs <= 0 || e.Time.IsZero() {
		t.Errorf("entry %+v: want clear of products 30 and categories 3, complete, with user, host and server", e)
	}

	// The stream lives outside PREFIX:VERSION:, so clear --all keeps it.
	if code, _, stderr := runEnv(ctx, env, "clear", "--all", "--yes", "--redis", url); code != 0 {
		t.Fatalf("clear --all: exit %d: %s", code, stderr)
	}
	if n := c.XLen(ctx, audit.StreamKey("ecommerce")).Val(); n != 1 {
		t.Errorf("stream %s has %d entries after clear --all, want the 1 it was given", audit.StreamKey("ecommerce"), n)
	}

	for _, args := range [][]string{{"audit", "--json"}, {"audit", "--json", "--stream", "--redis", url}} {
		code, out, stderr := runEnv(ctx, env, args...)
		var entries []audit.Entry
		if err := json.Unmarshal([]byte(out), &entries); err != nil || code != 0 || len(entries) == 0 || entries[0].Deleted != 33 {
			t.Errorf("%s: exit %d, %v, %q %s: want the clear's line first", strings.Join(args, " "), code, err, out, stderr)
		}
	}
	code, out, _ := runEnv(ctx, env, "audit", "--limit", "1")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "\tclear\tall\t") {
		t.Errorf("audit --limit 1: exit %d, %q: want the header and the clear --all line", code, out)
	}
}

// An interrupted clear is on record as incomplete, with what it deleted,
// in the file and in the stream (written under a fresh context).
func TestInterruptedClearIsOnRecordAsIncomplete(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	seedKeys(t, c, productKeys(2000)...)
	env, path := auditEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Ctrl-C once deleting has begun
		testwait.For(ctx, func() bool { return c.DBSize(context.Background()).Val() != 2000 })
		cancel()
	}()
	code, _, stderr := runEnv(ctx, env, "clear", "--products", "--yes", "--batch", "10", "--pause", "10ms", "--audit-stream", "--redis", srv.URL())
	if code != exitInterrupted {
		t.Fatalf("exit %d, want 130: %s", code, stderr)
	}
	got, _, err := audit.Read(path)
	if err != nil || len(got) != 1 {
		t.Fatalf("trail %+v (%v), want one line", got, err)
	}
	left := c.DBSize(context.Background()).Val() - 1 // the stream
	if e := got[0]; e.Complete || e.Error == "" || e.Deleted == 0 || e.Deleted != 2000-left {
		t.Errorf("entry %+v with %d keys left: want complete=false, an error and the keys deleted", e, left)
	}
	if n := c.XLen(context.Background(), audit.StreamKey("ecommerce")).Val(); n != 1 {
		t.Errorf("stream has %d entries, want the interrupted clear's", n)
	}
}

// A trail that cannot be written is a warning; the clear's result stands.
func TestAuditFailureIsAWarning(t *testing.T) {
	srv := redistest.Start(t)
	seedKeys(t, srv.Client(t), productKeys(3)...)
	env, _ := auditEnv(t)
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o600)
	code, out, stderr := runEnv(context.Background(), env, "clear", "--products", "--yes", "--audit-file", filepath.Join(blocker, "audit.jsonl"), "--redis", srv.URL())
	if code != 0 || !strings.Contains(out, "products\t3\t3") || !strings.Contains(stderr, "warning: the audit trail did not get this action's line") {
		t.Errorf("exit %d, stdout %q, stderr %q: want the clear done and a warning", code, out, stderr)
	}
}

// clear --apply is on record with the keys it deleted; a refused apply,
// which deletes nothing, is not.
func TestClearApplyWritesOneAuditLine(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	seedKeys(t, c, productKeys(12)...)
	env, path := auditEnv(t)
	ctx := context.Background()
	plan := filepath.Join(t.TempDir(), "products.plan.json")
	if code, _, stderr := runEnv(ctx, env, "clear", "--products", "--plan", plan, "--redis", srv.URL()); code != 0 {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	seedKeys(t, c, "ecommerce:1:product:900") // drift: one added
	if code, _, _ := runEnv(ctx, env, "clear", "--apply", plan, "--yes", "--redis", srv.URL()); code != 2 {
		t.Fatalf("apply with drift: exit %d, want 2 (refused)", code)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a refused apply wrote an audit line: it deleted nothing")
	}
	if code, _, stderr := runEnv(ctx, env, "clear", "--apply", plan, "--allow-drift", "1", "--yes", "--redis", srv.URL()); code != 0 {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	got, bad, err := audit.Read(path)
	if err != nil || bad != 0 || len(got) != 1 {
		t.Fatalf("trail %+v (%d bad, %v), want one line", got, bad, err)
	}
	if e := got[0]; e.Command != "clear --apply" || e.Deleted != 12 || !e.Complete {
		t.Errorf("entry %+v: want clear --apply, 12 deleted, complete", e)
	}
}

// bench's cold phase deletes each endpoint's keys: the run is on record
// with its endpoints and the keys it deleted; a warm-only run is not.
func TestBenchColdPhaseWritesOneAuditLine(t *testing.T) {
	fx := startReadOnlyFixture(t)
	env, path := auditEnv(t)
	env[envRedisURL], env[envAPI] = fx.redis.URL(), fx.api
	ctx := context.Background()
	warmOnly := filepath.Join(t.TempDir(), "warm.yaml")
	os.WriteFile(warmOnly, []byte("- {name: colors, url: /api/colors/, cold: false}\n"), 0o600)
	if code, _, stderr := runEnv(ctx, env, "bench", "--endpoints", warmOnly, "-n", "5"); code != 0 {
		t.Fatalf("warm-only bench: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a warm-only bench wrote an audit line: it deleted nothing")
	}
	cold := filepath.Join(t.TempDir(), "cold.yaml")
	os.WriteFile(cold, []byte("- {name: colors, url: /api/colors/}\n"), 0o600)
	if code, _, stderr := runEnv(ctx, env, "bench", "--endpoints", cold, "-n", "5", "--cold-samples", "2"); code != 0 {
		t.Fatalf("bench: exit %d: %s", code, stderr)
	}
	got, bad, err := audit.Read(path)
	if err != nil || bad != 0 || len(got) != 1 {
		t.Fatalf("trail %+v (%d bad, %v), want one line", got, bad, err)
	}
	if e := got[0]; e.Command != "bench" || !slices.Contains(e.Targets, "colors") || e.Deleted < 2 {
		t.Errorf("entry %+v: want bench naming colors, with at least the 2 cold samples' deletions", e)
	}
}

// check's clear step deletes the groups' keys: the run is on record with
// what it deleted; with --skip-clear it deletes nothing and writes no line.
func TestCheckClearWritesAnAuditLine(t *testing.T) {
	fx := startReadOnlyFixture(t)
	env, path := auditEnv(t)
	env[envRedisURL], env[envAPI], env[envAdminToken] = fx.redis.URL(), fx.api, fx.token
	ctx := context.Background()
	code, out, stderr := runEnv(ctx, env, "check", "--skip-clear")
	if _, err := os.Stat(path); err == nil {
		t.Fatalf("check --skip-clear (exit %d) wrote an audit line:\n%s%s", code, out, stderr)
	}
	code, out, stderr = runEnv(ctx, env, "check", "--yes")
	got, bad, err := audit.Read(path)
	if err != nil || bad != 0 || len(got) == 0 {
		t.Fatalf("check --yes (exit %d): trail %+v (%d bad, %v), want its clear on record\n%s%s", code, got, bad, err, out, stderr)
	}
	var cleared int64
	for _, e := range got {
		if !strings.HasPrefix(e.Command, "check") {
			t.Errorf("entry %+v: want check's", e)
		}
		cleared += e.Deleted
	}
	if cleared < 20 {
		t.Errorf("check's lines %+v delete %d keys, want at least the 20 seeded products", got, cleared)
	}
}
