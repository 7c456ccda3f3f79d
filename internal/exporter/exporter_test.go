package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/testwait"
	"github.com/cachectl/cachectl/keyspace"
)

// seed writes 120 products (100 with a 10 min TTL, 20 without), 7
// categories without TTL, and a session in no group.
func seed(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	p := c.Pipeline()
	for i := range 100 {
		p.Set(ctx, fmt.Sprintf("ecommerce:1:product:%d", i), strings.Repeat("x", 200), 10*time.Minute)
	}
	for i := range 20 {
		p.Set(ctx, fmt.Sprintf("ecommerce:1:products:list:%d", i), "l", 0)
	}
	for i := range 7 {
		p.Set(ctx, fmt.Sprintf("ecommerce:1:category:%d", i), "c", 0)
	}
	p.Set(ctx, "ecommerce:1:session:1", "s", 0)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

type ratios map[string]float64

func (r ratios) HitRatios(context.Context) (map[string]float64, error) { return r, nil }

// start serves an exporter of the default schema's groups on a free port.
func start(t *testing.T, c *redis.Client, refresh time.Duration, hit HitRatioSource) string {
	t.Helper()
	s := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	e := New(Config{Client: c, Selection: s.Selection(), Survey: keyspace.SurveyConfig{Samples: 1000}, Refresh: refresh, HitRatio: hit})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	url := "http://" + ln.Addr().String() + "/metrics"
	testwait.Until(t, 10*time.Second, "the first survey", func() error {
		if _, ok := scrape(t, url)["cachectl_group_keys"]; !ok {
			return fmt.Errorf("no cachectl_group_keys yet")
		}
		return nil
	})
	return url
}

// scrape reads the metrics with Prometheus's own text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return mf
}

// value is the gauge of family name whose labels include want.
func value(t *testing.T, mf map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	f, ok := mf[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		if m.GetGauge() != nil {
			return m.GetGauge().GetValue(), true
		}
		return m.GetCounter().GetValue(), true
	}
	return 0, false
}

func scans(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if rest, ok := strings.CutPrefix(line, "cmdstat_scan:calls="); ok {
			n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
			return n
		}
	}
	return 0
}

func TestMetricsEqualGroundTruth(t *testing.T) {
	// What Prometheus reads equals what is in Redis: 120 products (20 of
	// them without TTL, the rest at 10 min), 7 categories, 0 colors.
	srv := redistest.Start(t)
	c := srv.Client(t)
	seed(t, c)
	mf := scrape(t, start(t, c, time.Hour, nil))
	for group, want := range map[string]float64{"products": 120, "categories": 7, "colors": 0} {
		if v, ok := value(t, mf, "cachectl_group_keys", map[string]string{"group": group, "exact": "true"}); !ok || v != want {
			t.Errorf("cachectl_group_keys{group=%q} = %v (present %v), want %v", group, v, ok, want)
		}
	}
	if v, _ := value(t, mf, "cachectl_group_no_ttl_keys", map[string]string{"group": "products", "exact": "true"}); v != 20 {
		t.Errorf("products without TTL: %v, want 20", v)
	}
	if v, _ := value(t, mf, "cachectl_group_no_ttl_keys", map[string]string{"group": "categories"}); v != 7 {
		t.Errorf("categories without TTL: %v, want 7", v)
	}
	for _, q := range []string{"0.5", "0.9"} {
		if v, ok := value(t, mf, "cachectl_group_ttl_seconds", map[string]string{"group": "products", "quantile": q}); !ok || v < 590 || v > 600 {
			t.Errorf("products TTL quantile %s = %v, want about 600", q, v)
		}
	}
	if v, ok := value(t, mf, "cachectl_group_memory_bytes", map[string]string{"group": "products", "exact": "false"}); !ok || v < 120*200 || v > 120*400 {
		t.Errorf("products memory estimate %v for 100 values of 200 bytes and 20 tiny ones", v)
	}
	if _, ok := mf["cachectl_group_hit_ratio"]; ok {
		t.Error("without a hit-ratio source the gauge must not be exported")
	}
	if v, ok := value(t, mf, "cachectl_survey_age_seconds", nil); !ok || v < 0 || v > 60 {
		t.Errorf("survey age %v (present %v)", v, ok)
	}
	if _, ok := value(t, mf, "cachectl_survey_duration_seconds", nil); !ok {
		t.Error("no survey duration")
	}
}

func TestScrapesNeverScan(t *testing.T) {
	// Two scrapes within the refresh interval cost Redis nothing: SCAN's
	// call count does not move.
	srv := redistest.Start(t)
	c := srv.Client(t)
	seed(t, c)
	url := start(t, c, time.Hour, nil)
	before := scans(t, c)
	scrape(t, url)
	scrape(t, url)
	if after := scans(t, c); after != before {
		t.Errorf("two scrapes ran %d SCAN calls, want none", after-before)
	}
}

func TestRefreshOnScheduleAndHitRatioSeam(t *testing.T) {
	// The refresher picks up new keys on its own schedule, and a hit-ratio
	// source's figures appear as cachectl_group_hit_ratio.
	srv := redistest.Start(t)
	c := srv.Client(t)
	seed(t, c)
	url := start(t, c, time.Second, ratios{"products": 0.875})
	mf := scrape(t, url)
	if v, ok := value(t, mf, "cachectl_group_hit_ratio", map[string]string{"group": "products", "exact": "false"}); !ok || v != 0.875 {
		t.Errorf("hit ratio %v (present %v), want 0.875", v, ok)
	}
	c.Set(context.Background(), "ecommerce:1:product_colors:all", "[]", 0)
	testwait.Until(t, 10*time.Second, "the next refresh", func() error {
		if v, _ := value(t, scrape(t, url), "cachectl_group_keys", map[string]string{"group": "colors"}); v != 1 {
			return fmt.Errorf("colors = %v", v)
		}
		return nil
	})
}

func TestRefreshValidated(t *testing.T) {
	for _, d := range []time.Duration{0, 500 * time.Millisecond, 48 * time.Hour} {
		if err := (Config{Refresh: d}).Validate(); err == nil || !strings.Contains(err.Error(), "refresh") {
			t.Errorf("refresh %s: %v, want an error naming --refresh", d, err)
		}
	}
}

func TestGrafanaDashboardQueriesExportedMetrics(t *testing.T) {
	// The shipped dashboard is valid JSON and every metric it queries is one
	// the exporter describes: a renamed metric would leave a panel empty.
	raw, err := os.ReadFile("../../docs/grafana/cachectl.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana/cachectl.json: %v", err)
	}
	known := map[string]bool{}
	ch := make(chan *prometheus.Desc, 32)
	collector{New(Config{HitRatio: ratios{}})}.Describe(ch)
	close(ch)
	for d := range ch {
		known[regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(d.String())[1]] = true
	}
	if len(dash.Panels) < 5 {
		t.Fatalf("%d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, name := range regexp.MustCompile(`cachectl_[a-z_]+`).FindAllString(tg.Expr, -1) {
				if !known[name] {
					t.Errorf("panel %q queries %s, which the exporter does not export", p.Title, name)
				}
			}
		}
	}
	for _, want := range []string{"cachectl_group_keys", "cachectl_group_memory_bytes", "cachectl_group_ttl_seconds", "cachectl_group_hit_ratio"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the dashboard has no panel over %s", want)
		}
	}
}
