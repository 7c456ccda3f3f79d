package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/iostreams"
)

// TestManWritesAPagePerCommand: release archives ship one man page per
// command, generated from the command tree, so a new command gets its page.
func TestManWritesAPagePerCommand(t *testing.T) {
	dir := t.TempDir()
	ios, _, _, errOut := iostreams.Test()
	if code := execute(context.Background(), ios, []string{"man", "--dir", dir}, func(string) string { return "" }); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	f := newFactory(ios, func(string) string { return "" })
	root := newRootCmd(f)
	want := []string{"cachectl.1", "cachectl-completion.1", "cachectl-completion-bash.1", "cachectl-completion-zsh.1"}
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() && !c.IsAdditionalHelpTopicCommand() {
			want = append(want, "cachectl-"+c.Name()+".1")
		}
	}
	for _, name := range want {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("no page %s: %v", name, err)
			continue
		}
		page := string(data)
		if !strings.Contains(page, ".SH NAME") || !strings.Contains(page, ".SH SYNOPSIS") {
			t.Errorf("%s is not a man page:\n%s", name, page)
		}
	}
	check, _ := os.ReadFile(filepath.Join(dir, "cachectl-check.1"))
	for _, s := range []string{"skip-clear", "test_redis_cache.sh", ".SH EXAMPLE"} {
		if !strings.Contains(string(check), s) {
			t.Errorf("cachectl-check.1 lacks %q", s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cachectl-man.1")); err == nil {
		t.Error("the hidden man command got a page")
	}

	if code := execute(context.Background(), ios, []string{"man"}, func(string) string { return "" }); code != exitUsage {
		t.Errorf("man without --dir: exit %d, want 2", code)
	}
}

// TestCompletionScripts: each shell's completion script comes out and names
// the program, so `source <(cachectl completion bash)` works.
func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "__start_cachectl",
		"zsh":        "#compdef cachectl",
		"fish":       "complete -c cachectl",
		"powershell": "Register-ArgumentCompleter -CommandName 'cachectl'",
	} {
		ios, _, out, errOut := iostreams.Test()
		if code := execute(context.Background(), ios, []string{"completion", shell}, func(string) string { return "" }); code != 0 {
			t.Fatalf("completion %s: exit %d: %s", shell, code, errOut)
		}
		if !strings.Contains(out.String(), marker) {
			t.Errorf("completion %s lacks %q", shell, marker)
		}
	}
	ios, _, _, _ := iostreams.Test()
	if code := execute(context.Background(), ios, []string{"completion", "tcsh"}, func(string) string { return "" }); code != exitUsage {
		t.Errorf("completion tcsh: exit %d, want 2", code)
	}
	// Completion knows the commands and their flags.
	ios, _, out, _ := iostreams.Test()
	execute(context.Background(), ios, []string{"__complete", "check", "--sk"}, func(string) string { return "" })
	if !strings.Contains(out.String(), "--skip-clear") {
		t.Errorf("completing 'check --sk' gave:\n%s", out)
	}
}
