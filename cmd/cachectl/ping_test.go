package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
)

func TestPingOnATerminal(t *testing.T) {
	srv := redistest.Start(t)
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(true)
	env := map[string]string{"HOME": t.TempDir()}
	code := execute(context.Background(), ios, []string{"ping", "--redis", srv.URL()}, func(k string) string { return env[k] })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := regexp.MustCompile(`^PONG from redis://127\.0\.0\.1:\d+/0 in \d+\.\d\d ms
version  \d+\.\d+\.\d+
role     master
mode     standalone
db       0
$`)
	if !want.MatchString(out.String()) {
		t.Errorf("terminal output:\n%s", out)
	}
}
