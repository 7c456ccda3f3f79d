package warm

import (
	"context"
	"errors"
	"io"
	"net/url"
	"regexp"

	"github.com/cachectl/cachectl/internal/option"
)

// Bounds of Config: beyond them a run is a typo, or a cost the API pays.
const (
	MaxConcurrency = 10_000
	MaxRetries     = 100
)

// Validate refuses settings no run should start with (an *option.Error
// naming the flag).
func (c Config) Validate() error {
	switch {
	case c.Concurrency < 1 || c.Concurrency > MaxConcurrency:
		return option.InRange("concurrency", c.Concurrency, 1, MaxConcurrency)
	case c.Retries > MaxRetries:
		return option.InRange("retries", c.Retries, 0, MaxRetries)
	case c.QPS < 0:
		return option.Errorf("--qps must not be negative")
	case c.Retries < 0:
		return option.Errorf("--retries must not be negative")
	case c.RequestTimeout <= 0:
		return option.Errorf("--request-timeout must be positive")
	case c.MaxFailures < 0:
		return option.Errorf("--max-failures must not be negative")
	}
	return nil
}

// Source is where a round's plan comes from instead of the built-in one: a
// URL list or a plan file (a file name, or "-" for In), or a sitemap. The
// zero Source is the built-in plan.
type Source struct {
	URLs, PlanFile, Sitemap string
	Limit                   int    // with Sitemap: at most this many pages (0: no limit)
	Exclude                 string // with Sitemap: skip pages whose URL matches this regular expression
	In                      io.Reader
}

// Builtin reports whether the Source names nothing: the built-in plan.
func (s Source) Builtin() bool { return s.URLs == "" && s.PlanFile == "" && s.Sitemap == "" }

// Validate refuses sources that do not go together (an *option.Error).
func (s Source) Validate() error {
	n := 0
	for _, v := range []string{s.URLs, s.PlanFile, s.Sitemap} {
		if v != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return option.Errorf("--urls, --sitemap and --plan cannot be used together")
	case (s.Limit != 0 || s.Exclude != "") && s.Sitemap == "":
		return option.Errorf("--limit and --exclude go with --sitemap")
	case s.Limit < 0:
		return option.Errorf("--limit must not be negative")
	}
	if s.Exclude != "" {
		if _, err := regexp.Compile(s.Exclude); err != nil {
			return option.Errorf("--exclude: %v", err)
		}
	}
	return nil
}

// Planner is RoundConfig.Plan for the Source: nil for the built-in plan,
// which Round discovers itself. Each round reads the files again and
// discovers a plan file's lists again.
func (s Source) Planner(api *url.URL) func(context.Context, Config) (Plan, error) {
	if s.Builtin() {
		return nil
	}
	return func(ctx context.Context, cfg Config) (Plan, error) { return s.plan(ctx, cfg, api) }
}

func (s Source) plan(ctx context.Context, cfg Config, api *url.URL) (Plan, error) {
	switch {
	case s.URLs != "":
		var reqs []Request
		err := s.read("urls", s.URLs, func(r io.Reader) (err error) {
			reqs, err = ParseURLList(r, api)
			return err
		})
		return Plan{Source: "urls", Requests: reqs}, err
	case s.PlanFile != "":
		var spec Spec
		err := s.read("plan", s.PlanFile, func(r io.Reader) (err error) {
			spec, err = ParseSpec(r)
			return err
		})
		if err != nil {
			return Plan{}, err
		}
		return Discover(ctx, cfg, api, spec)
	}
	u, err := Resolve(api, s.Sitemap)
	if err != nil {
		return Plan{}, option.Errorf("--sitemap: %v", err)
	}
	var exclude *regexp.Regexp
	if s.Exclude != "" {
		exclude = regexp.MustCompile(s.Exclude)
	}
	reqs, err := FetchSitemap(ctx, cfg.Client, u, SitemapOptions{Limit: s.Limit, Exclude: exclude, RequestTimeout: cfg.RequestTimeout})
	return Plan{Source: "sitemap", Requests: reqs}, err
}

// read hands parse the file, or In for "-"; an InputError it returns
// names the file.
func (s Source) read(flag, file string, parse func(io.Reader) error) error {
	r, err := option.OpenInput(file, s.In, flag)
	if err != nil {
		return err
	}
	defer r.Close()
	name := file
	if file == "-" {
		name = "stdin"
	}
	err = parse(r)
	var ie *InputError
	if errors.As(err, &ie) {
		ie.Source = name
	}
	return err
}
