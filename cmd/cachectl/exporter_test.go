package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
)

func TestExporterServesMetricsAndStopsCleanly(t *testing.T) {
	// `cachectl exporter` says where it serves, serves the groups' figures
	// at /metrics, and exits 0 when interrupted.
	srv := redistest.Start(t)
	seedKeys(t, srv.Client(t), "ecommerce:1:product:1", "ecommerce:1:product:2", "ecommerce:1:categories:all")
	url, errOut, stop := startExporter(t, srv)
	if !strings.Contains(errOut.String(), "3 groups surveyed every 1m0s") {
		t.Errorf("banner %q: want the default refresh of 1m0s", errOut)
	}
	scrapeHas(t, url, "the first survey's figures", `cachectl_group_keys{exact="true",group="products"} 2`, `cachectl_group_keys{exact="true",group="categories"} 1`)
	if c := stop(); c != 0 {
		t.Errorf("interrupted exporter exit %d, want 0: %s", c, errOut)
	}
}

// Without an API's counters, the exporter samples Redis's commands for
// each group's hit ratio, as top does: products always found, categories
// never, so their gauges read 1 and 0.
func TestExporterSamplesTheHitRatioPerGroup(t *testing.T) {
	srv := redistest.Start(t)
	seedKeys(t, srv.Client(t), productKeys(20)...)
	runApp(t, srv.Client(t))
	url, _, _ := startExporter(t, srv, "--refresh", "1s")
	scrapeHas(t, url, "sampled hit ratios", `cachectl_group_hit_ratio{exact="false",group="products"} 1`, `cachectl_group_hit_ratio{exact="false",group="categories"} 0`)
}

// startExporter runs `cachectl exporter` with args against srv until the
// test ends, and returns its /metrics URL, from the banner, and its stderr.
func startExporter(t *testing.T, srv *redistest.Server, args ...string) (url string, errOut *testwait.Buffer, stop func() int) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	errOut = &testwait.Buffer{}
	ios.ErrOut = errOut
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		env := map[string]string{"HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir()}
		code <- execute(ctx, ios, append([]string{"exporter", "--listen", "127.0.0.1:0", "--redis", srv.URL()}, args...), func(k string) string { return env[k] })
	}()
	stopped, exit := false, 0
	stop = func() int {
		if !stopped {
			cancel()
			stopped, exit = true, <-code
		}
		return exit
	}
	t.Cleanup(func() { stop() })
	banner := regexp.MustCompile(`serving metrics on (http://127\.0\.0\.1:\d+/metrics) \(redis redis://127\.0\.0\.1:\d+/0, 3 groups surveyed every [^;]+; scrapes never scan\)`)
	testwait.Until(t, 10*time.Second, "the listening banner", func() error {
		m := banner.FindStringSubmatch(errOut.String())
		if m == nil {
			return fmt.Errorf("stderr: %q", errOut.String())
		}
		url = m[1]
		return nil
	})
	return url, errOut, stop
}

// scrapeHas waits until a scrape of url holds every one of want.
func scrapeHas(t *testing.T, url, what string, want ...string) {
	t.Helper()
	testwait.Until(t, 20*time.Second, what, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				return fmt.Errorf("no %s in:\n%s", w, body)
			}
		}
		return nil
	})
}
