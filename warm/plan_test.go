package warm

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/url"
	"strings"
	"testing"
)

var api, _ = url.Parse("http://127.0.0.1:8000")

func TestParseURLList(t *testing.T) {
	in := `# warm the catalog
/api/categories/
   /api/colors/   # trailing comment

https://cdn.example.test/api/products/?page=2
`
	reqs, err := ParseURLList(strings.NewReader(in), api)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://127.0.0.1:8000/api/categories/", "http://127.0.0.1:8000/api/colors/", "https://cdn.example.test/api/products/?page=2"}
	if len(reqs) != len(want) {
		t.Fatalf("got %d requests: %+v", len(reqs), reqs)
	}
	for i, w := range want {
		if reqs[i].URL != w {
			t.Errorf("request %d = %q, want %q", i, reqs[i].URL, w)
		}
	}
}

func TestParseURLListNamesTheBadLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/ok/\n\n/has space/\n", "line 3: "},
		{"/ok/\nftp://x/y\n", "line 2: \"ftp://x/y\": only http and https"},
		{"relative/path\n", "line 1: \"relative/path\": a path must start with /"},
		{"/ok/\nhttp://[::1\n", "line 2: "},
		{"http:///nohost\n", "line 1: "},
	}
	refuses(t, "ParseURLList", func(in string) error {
		_, err := ParseURLList(strings.NewReader(in), api)
		return err
	}, tests)
}

// refuses checks that parse fails on each input with an ErrInput whose
// message starts with the wanted text.
func refuses(t *testing.T, name string, parse func(string) error, tests []struct{ in, want string }) {
	t.Helper()
	for _, tt := range tests {
		err := parse(tt.in)
		if !errors.Is(err, ErrInput) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s(%q) error = %v, want prefix %q and ErrInput", name, tt.in, err, tt.want)
		}
	}
}

const urlset = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://127.0.0.1:8000/api/categories/</loc><priority>1.0</priority></url>
  <url><loc> http://127.0.0.1:8000/api/colors/ </loc></url>
</urlset>`

func TestParseSitemap(t *testing.T) {
	sm, err := ParseSitemap(strings.NewReader(urlset))
	if err != nil {
		t.Fatal(err)
	}
	if len(sm.Pages) != 2 || sm.Pages[1] != "http://127.0.0.1:8000/api/colors/" || len(sm.Sitemaps) != 0 {
		t.Errorf("sitemap = %+v", sm)
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`<sitemapindex><sitemap><loc>/a.xml</loc></sitemap><sitemap><loc>/b.xml.gz</loc></sitemap></sitemapindex>`))
	zw.Close()
	sm, err = ParseSitemap(&gz)
	if err != nil {
		t.Fatal(err)
	}
	if len(sm.Sitemaps) != 2 || sm.Sitemaps[1] != "/b.xml.gz" || len(sm.Pages) != 0 {
		t.Errorf("gzip sitemap index = %+v", sm)
	}
}

func TestParseSitemapNamesTheBadLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<urlset>\n<url><loc>x</loc></url>\n<url><loc>y</url>\n</urlset>", "line 3: XML syntax error"},
		{"<html>\n</html>", "line 1: <html> is not a sitemap"},
		{"", "line 1: empty document"},
		{"<urlset>\n<url><loc> </loc></url></urlset>", "line 2: empty <loc>"},
	}
	refuses(t, "ParseSitemap", func(in string) error {
		_, err := ParseSitemap(strings.NewReader(in))
		return err
	}, tests)
}

func FuzzParseURLList(f *testing.F) {
	f.Add("/api/categories/\n# c\nhttp://h/x?y=1\n")
	f.Add("ftp://x\n")
	f.Add("\x00\n/ok\n")
	f.Fuzz(func(t *testing.T, in string) {
		reqs, err := ParseURLList(strings.NewReader(in), api)
		if err != nil {
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "line ") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, r := range reqs {
			u, err := url.Parse(r.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("accepted %q", r.URL)
			}
		}
	})
}

func FuzzParseSitemap(f *testing.F) {
	f.Add(urlset)
	f.Add("<sitemapindex><sitemap><loc>/a.xml</loc></sitemap></sitemapindex>")
	f.Add("<urlset><url><loc>")
	f.Fuzz(func(t *testing.T, in string) {
		sm, err := ParseSitemap(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrInput) {
				t.Fatalf("error is not ErrInput: %v", err)
			}
			return
		}
		for _, p := range append(sm.Pages, sm.Sitemaps...) {
			if strings.TrimSpace(p) == "" || p != strings.TrimSpace(p) {
				t.Fatalf("untrimmed or empty location %q", p)
			}
		}
	})
}
