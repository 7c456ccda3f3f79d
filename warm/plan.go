// Package warm fills a cache through the API that owns it: it builds a plan of
// requests (the built-in catalog plan, a URL list, a sitemap), runs it with
// bounded concurrency and a global rate limit, and can prove in Redis that
// the keys now exist.
package warm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/internal/redact"
)

// ErrInput is matched (errors.Is) by every error about a malformed URL list or sitemap.
var ErrInput = errors.New("malformed input")

// InputError is a malformed URL list or sitemap; its text names the line: "line 3: ...".
type InputError struct {
	Source string // file name or sitemap URL, when known
	Line   int    // 0 when the problem is not on one line
	Msg    string
}

func (e *InputError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(redact.URL(e.Source) + ": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *InputError) Is(target error) bool { return target == ErrInput }

func inputErr(line int, format string, a ...any) error {
	return &InputError{Line: line, Msg: fmt.Sprintf(format, a...)}
}

// Request is one GET of a plan.
type Request struct {
	URL string // absolute
	// Key is the logical cache key the request should leave behind, when the
	// plan knows it (the built-in plan's fixed keys); empty otherwise.
	Key string
	// Done holds the result of a request already made while building the plan
	// (the built-in plan reads the categories to discover the rest); Run reports
	// it without sending it again.
	Done *Result
	// Collect hands a successful response's body to Config.OnBody (the
	// built-in plan marks the product lists, whose products --deep warms).
	Collect bool

	body []byte // of a request already done
}

// Plan is what one warm round requests, in order.
type Plan struct {
	Source   string // "builtin", "plan" (a plan file), "urls", "sitemap", "deep"
	Requests []Request
	// Warnings say where the API did not answer as the plan assumed, and
	// what was done instead.
	Warnings []string
}

// Resolve makes ref absolute against the API's base URL. Only http and https are allowed.
func Resolve(base *url.URL, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", redact.URL(ref), errors.Unwrap(err))
	}
	if u.IsAbs() || u.Host != "" {
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", fmt.Errorf("%q: only http and https URLs can be warmed", redact.URL(ref))
		}
		if u.Host == "" {
			return "", fmt.Errorf("%q has no host", redact.URL(ref))
		}
		return u.String(), nil
	}
	if !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("%q: a path must start with /", redact.URL(ref))
	}
	return base.ResolveReference(u).String(), nil
}

// ParseURLList reads one URL or absolute path per line; blank lines and lines
// starting with # are skipped, as is anything after " #". Paths are resolved
// against base. Errors name the line: "line 3: ...".
func ParseURLList(r io.Reader, base *url.URL) ([]Request, error) {
	var reqs []Request
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if i := strings.Index(text, " #"); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if strings.ContainsAny(text, " \t\x00") {
			return nil, inputErr(line, "%q: one URL per line, without spaces", redact.URL(text))
		}
		u, err := Resolve(base, text)
		if err != nil {
			return nil, inputErr(line, "%v", err)
		}
		reqs = append(reqs, Request{URL: u})
	}
	if err := sc.Err(); err != nil {
		return nil, inputErr(line+1, "%v", err)
	}
	return reqs, nil
}

// URLs resolves args (URLs, or paths against api) and then the lines of
// file (one per line, as ParseURLList reads them; "-" reads stdin), for the
// commands that take URLs to request. Errors are option errors.
func URLs(api *url.URL, args []string, file string, stdin io.Reader) ([]string, error) {
	var urls []string
	for _, a := range args {
		u, err := Resolve(api, a)
		if err != nil {
			return nil, option.Errorf("%v", err)
		}
		urls = append(urls, u)
	}
	if file == "" {
		return urls, nil
	}
	r, err := option.OpenInput(file, stdin, "url-file")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	reqs, err := ParseURLList(r, api)
	if err != nil {
		return nil, option.Errorf("--url-file %s: %v", file, err)
	}
	for _, q := range reqs {
		urls = append(urls, q.URL)
	}
	return urls, nil
}
