package warm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/option"
)

// maxSitemapBytes bounds one (decompressed) sitemap document; the protocol allows 50 MB.
const maxSitemapBytes = 50 << 20

// Sitemap is a parsed sitemap document: a urlset (Pages) or a sitemap index (Sitemaps).
type Sitemap struct {
	Pages    []string
	Sitemaps []string
}

// ParseSitemap reads a sitemap or a sitemap index, gzip-compressed or not.
// Errors name the line of the document where the parser stopped.
func ParseSitemap(r io.Reader) (Sitemap, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Sitemap{}, inputErr(0, "gzip: %v", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	data, err := io.ReadAll(io.LimitReader(br, maxSitemapBytes+1))
	if err != nil {
		return Sitemap{}, inputErr(0, "%v", err)
	}
	if len(data) > maxSitemapBytes {
		return Sitemap{}, inputErr(0, "sitemap larger than %d MB", maxSitemapBytes>>20)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var sm Sitemap
	var root string
	var inLoc bool
	var parent string
	var loc strings.Builder
	var stack []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			return Sitemap{}, inputErr(line, "%s", trimXMLErr(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = t.Name.Local
				if root != "urlset" && root != "sitemapindex" {
					line, _ := dec.InputPos()
					return Sitemap{}, inputErr(line, "<%s> is not a sitemap (want <urlset> or <sitemapindex>)", root)
				}
			}
			if t.Name.Local == "loc" && len(stack) > 0 {
				inLoc, parent = true, stack[len(stack)-1]
				loc.Reset()
			}
			stack = append(stack, t.Name.Local)
		case xml.CharData:
			if inLoc {
				loc.Write(t)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if t.Name.Local != "loc" || !inLoc {
				continue
			}
			inLoc = false
			u := strings.TrimSpace(loc.String())
			line, _ := dec.InputPos()
			if u == "" {
				return Sitemap{}, inputErr(line, "empty <loc>")
			}
			switch {
			case root == "urlset" && parent == "url":
				sm.Pages = append(sm.Pages, u)
			case root == "sitemapindex" && parent == "sitemap":
				sm.Sitemaps = append(sm.Sitemaps, u)
			}
		}
	}
	if root == "" {
		return Sitemap{}, inputErr(1, "empty document, not a sitemap")
	}
	return sm, nil
}

func trimXMLErr(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return "XML syntax error: " + se.Msg
	}
	return err.Error()
}

// SitemapOptions bound what FetchSitemap follows.
type SitemapOptions struct {
	Limit   int            // at most this many pages (0: no limit)
	Exclude *regexp.Regexp // skip pages whose URL matches
	// MaxDepth bounds nested sitemap indexes (default 3) so a loop cannot run forever.
	MaxDepth int
	// RequestTimeout bounds each sitemap download (default 10s).
	RequestTimeout time.Duration
}

// FetchSitemap downloads a sitemap (following sitemap indexes) and returns its
// pages as requests. Relative locations are resolved against the document's URL.
func FetchSitemap(ctx context.Context, client *http.Client, sitemapURL string, opts SitemapOptions) ([]Request, error) {
	option.Default(&opts.MaxDepth, 3)
	option.Default(&opts.RequestTimeout, 10*time.Second)
	seen := map[string]bool{}
	var reqs []Request
	var walk func(u string, depth int) error
	walk = func(u string, depth int) error {
		if seen[u] {
			return nil
		}
		seen[u] = true
		if depth > opts.MaxDepth {
			return &InputError{Source: u, Msg: fmt.Sprintf("sitemap indexes nested deeper than %d", opts.MaxDepth)}
		}
		sm, err := getSitemap(ctx, client, u, opts.RequestTimeout)
		if err != nil {
			return err
		}
		base, _ := url.Parse(u)
		// The pages, then the nested sitemaps.
		for i, loc := range slices.Concat(sm.Pages, sm.Sitemaps) {
			if opts.Limit > 0 && len(reqs) >= opts.Limit {
				return nil
			}
			abs, err := Resolve(base, loc)
			if err != nil {
				return &InputError{Source: u, Msg: err.Error()}
			}
			if i >= len(sm.Pages) {
				if err := walk(abs, depth+1); err != nil {
					return err
				}
			} else if opts.Exclude == nil || !opts.Exclude.MatchString(abs) {
				reqs = append(reqs, Request{URL: abs})
			}
		}
		return nil
	}
	if err := walk(sitemapURL, 1); err != nil {
		return nil, err
	}
	return reqs, nil
}

func getSitemap(ctx context.Context, client *http.Client, u string, timeout time.Duration) (Sitemap, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Sitemap{}, &InputError{Source: u, Msg: err.Error()}
	}
	resp, err := Do(client, req)
	if err != nil {
		return Sitemap{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sitemap{}, &InputError{Source: u, Msg: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	}
	// Read it whole first: a download cut short is a failed request, not a malformed sitemap.
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSitemapBytes+1))
	if err != nil {
		return Sitemap{}, &RequestError{Method: req.Method, URL: u, Status: resp.StatusCode, Err: err}
	}
	sm, err := ParseSitemap(bytes.NewReader(data))
	var ie *InputError
	if errors.As(err, &ie) {
		ie.Source = u
	}
	if err != nil {
		return Sitemap{}, err
	}
	return sm, nil
}
