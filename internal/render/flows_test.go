package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/check"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/warm"
)

func TestServeBannerOfNamesTheTokenVariableOnlyWithoutAToken(t *testing.T) {
	cfg := catalog.RunConfig{Config: catalog.Config{Schema: keyspace.New("shop", 1), NoCache: true}}
	b := ServeBannerOf(cfg, "127.0.0.1:8000", "redis://h:6379/0", "TOKEN_VAR")
	if b.Addr != "127.0.0.1:8000" || b.Redis != "redis://h:6379/0" || b.Namespace != "shop:1:" || !b.NoCache || b.TokenEnv != "TOKEN_VAR" {
		t.Errorf("banner = %+v", b)
	}
	cfg.AdminToken = "secret"
	if b := ServeBannerOf(cfg, "a:1", "r", "TOKEN_VAR"); b.TokenEnv != "" {
		t.Errorf("banner with a token names %q", b.TokenEnv)
	}
}

func TestCheckPrinterEndWritesJSONOrNothingPiped(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	rep := check.Report{Op: "check", Steps: []check.Step{{Name: "connect", OK: true}}, Passed: true}
	if err := NewCheckPrinter(ios, false).End(true, rep); err != nil || !strings.HasPrefix(out.String(), `{"op":"check"`) {
		t.Errorf("End(json) = %v, stdout %q", err, out)
	}
	out.Reset()
	if err := NewCheckPrinter(ios, true).End(false, rep); err != nil || out.Len() != 0 {
		t.Errorf("End(table) piped = %v, stdout %q: the verdict is for a terminal", err, out)
	}
}

func TestWarmRoundsOneLinePerRound(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	WarmRounds(ios, true)(1, &warm.RoundReport{}, nil)
	WarmRounds(ios, true)(2, nil, errors.New("api down\nmore"))
	if got := out.String(); strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, " round 2: api down\n") {
		t.Errorf("stdout %q: want only round 2's error, its first line", got)
	}
}
