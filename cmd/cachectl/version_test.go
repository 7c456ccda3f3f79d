package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestVersionFromLdflags builds the binary as a release does and runs it.
func TestVersionFromLdflags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cachectl")
	const pkg = "github.com/cachectl/cachectl/internal/build"
	ldflags := "-X " + pkg + ".Version=v9.8.7 -X " + pkg + ".Commit=0123456789abcdef0123 -X " + pkg + ".Date=2026-01-02T03:04:05Z"
	build := exec.Command("go", "build", "-o", bin, "-ldflags", ldflags, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "cachectl v9.8.7 (0123456789ab, 2026-01-02T03:04:05Z) " + runtime.Version() + "\n"
	if string(out) != want {
		t.Errorf("version = %q, want %q", out, want)
	}
	out, err = exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]string
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("version --json: %v: %s", err, out)
	}
	if info["version"] != "v9.8.7" || info["commit"] != "0123456789abcdef0123" || !strings.HasPrefix(info["go"], "go1.") {
		t.Errorf("version --json = %v", info)
	}
}
