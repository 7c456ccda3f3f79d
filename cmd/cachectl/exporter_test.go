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
	ios, _, _, _ := iostreams.Test()
	errOut := &testwait.Buffer{}
	ios.ErrOut = errOut
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		env := map[string]string{"HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir()}
		code <- execute(ctx, ios, []string{"exporter", "--listen", "127.0.0.1:0", "--redis", srv.URL()}, func(k string) string { return env[k] })
	}()
	defer cancel()
	banner := regexp.MustCompile(`serving metrics on (http://127\.0\.0\.1:\d+/metrics) \(redis redis://127\.0\.0\.1:\d+/0, 3 groups surveyed every 1m0s; scrapes never scan\)`)
	var url string
	testwait.Until(t, 10*time.Second, "the listening banner", func() error {
		m := banner.FindStringSubmatch(errOut.String())
		if m == nil {
			return fmt.Errorf("stderr: %q", errOut.String())
		}
		url = m[1]
		return nil
	})
	testwait.Until(t, 10*time.Second, "the first survey's figures", func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, want := range []string{`cachectl_group_keys{exact="true",group="products"} 2`, `cachectl_group_keys{exact="true",group="categories"} 1`} {
			if !strings.Contains(string(body), want) {
				return fmt.Errorf("no %s in:\n%s", want, body)
			}
		}
		return nil
	})
	cancel()
	if c := <-code; c != 0 {
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
	ios, _, _, _ := iostreams.Test()
	errOut := &testwait.Buffer{}
	ios.ErrOut = errOut
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		env := map[string]string{"HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir()}
		code <- execute(ctx, ios, []string{"exporter", "--listen", "127.0.0.1:0", "--refresh", "1s", "--redis", srv.URL()}, func(k string) string { return env[k] })
	}()
	defer func() { cancel(); <-code }()
	banner := regexp.MustCompile(`serving metrics on (http://127\.0\.0\.1:\d+/metrics)`)
	var url string
	testwait.Until(t, 10*time.Second, "the listening banner", func() error {
		m := banner.FindStringSubmatch(errOut.String())
		if m == nil {
			return fmt.Errorf("stderr: %q", errOut.String())
		}
		url = m[1]
		return nil
	})
	testwait.Until(t, 20*time.Second, "sampled hit ratios", func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, want := range []string{`cachectl_group_hit_ratio{exact="false",group="products"} 1`, `cachectl_group_hit_ratio{exact="false",group="categories"} 0`} {
			if !strings.Contains(string(body), want) {
				return fmt.Errorf("no %s in:\n%s", want, body)
			}
		}
		return nil
	})
}
