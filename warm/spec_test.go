package warm

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The built-in plan can be written as a plan file: testdata/builtin.yaml
// (which the README shows) says what Builtin says.
func TestBuiltinIsWhatItsPlanFileSays(t *testing.T) {
	data, err := os.ReadFile("testdata/builtin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := ParseSpec(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	builtin := Builtin()
	forget := func(s *Spec) {
		s.builtin = false
		for i := range s.Entries {
			e := &s.Entries[i]
			e.line, e.collect = 0, false
			for j := range e.Each {
				st := &e.Each[j]
				st.line, st.collect = 0, false
				if st.Fallback != nil {
					st.Fallback.line = 0
				}
			}
		}
	}
	forget(&fromFile)
	forget(&builtin)
	if !reflect.DeepEqual(fromFile, builtin) {
		t.Errorf("testdata/builtin.yaml says\n%+v\nBuiltin says\n%+v", fromFile, builtin)
	}
}

func TestParseSpecReadsEveryField(t *testing.T) {
	spec, err := ParseSpec(strings.NewReader(`
warm:
  - /api/colors/
  - url: /api/categories/
    key: categories:all
    max_pages: 3
    each:
      - name: featured
        where: category.slug != "shoes"
        sort: -price
        limit: 2
        url: /api/products/?category={id}
        key: category:{id}
  - url: https://cdn.example.test/api/products/?o={ordering}
    ordering: [-rating, name]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Entries) != 3 {
		t.Fatalf("%d entries", len(spec.Entries))
	}
	e := spec.Entries[1]
	st := e.Each[0]
	if e.URL != "/api/categories/" || e.Key != "categories:all" || e.MaxPages != 3 || len(e.Each) != 1 {
		t.Errorf("list entry %+v", e)
	}
	if st.Name != "featured" || st.Where.String() != `category.slug != "shoes"` || !st.Where.Not || st.Where.Value != "shoes" ||
		st.Sort.String() != "-price" || !st.Sort.Desc || st.Limit != 2 || st.Key != "category:{id}" {
		t.Errorf("step %+v", st)
	}
	if o := spec.Entries[2].Ordering; len(o) != 2 || o[0] != "-rating" || o[1] != "name" {
		t.Errorf("ordering %q", o)
	}
}

func TestParseSpecNamesTheBadLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty plan: want a mapping with warm: and a list of pages"},
		{"warm: [\n", "line 1: did not find expected node content"},
		{"warm: []\n", "line 1: warm: want 1 to 1000 pages, got 0"},
		{"- /a/\n", "line 1: the plan: want a mapping of warm, got a list"},
		{"pages:\n  - /a/\n", `line 1: the plan: unknown field "pages" (known: warm)`},
		{"warm:\n  - name: x\n", "line 2: a page needs a url"},
		{"warm:\n  - url: 3\n", `line 2: url: want a string, got "3"`},
		{"warm:\n  - url: /a/\n    url: /b/\n", "line 3: a page: url given twice"},
		{"warm:\n  - url: ftp://x/\n", `line 2: url: "ftp://x/": only http and https`},
		{"warm:\n  - url: a/b/\n", `line 2: url: "a/b/": a path must start with /`},
		{"warm:\n  - /api/products/{id}/\n", `line 2: url "/api/products/{id}/": {id} has nothing to fill it`},
		{"warm:\n  - url: /p/?ordering=-x\n    ordering: [-a]\n", "line 2: url \"/p/?ordering=-x\": with ordering, the url holds {ordering}"},
		{"warm:\n  - url: /p/?o={ordering}\n    ordering: [-a b]\n", `line 2: ordering "-a b": want a field name`},
		{"warm:\n  - url: /a/\n    max_pages: 5\n", "line 2: max_pages goes with each"},
		{"warm:\n  - url: /a/\n    each:\n      - url: /b/\n    max_pages: 0\n", "line 5: max_pages: want 1 to 10000, got 0"},
		{"warm:\n  - url: /a/\n    each: []\n", "line 3: each: want 1 to 100 steps, got 0"},
		{"warm:\n  - url: /a/\n    each:\n      - where: parent\n        url: /x/{id}\n", `line 4: where "parent": want FIELD = VALUE or FIELD != VALUE`},
		{"warm:\n  - url: /a/\n    each:\n      - where: 'a = {\"b\": 1}'\n        url: /x/{id}\n", `line 4: where "a = {\"b\": 1}": compare with null`},
		{"warm:\n  - url: /a/\n    each:\n      - sort: -a.b|\n        url: /x/\n", `line 4: sort "-a.b|": "a.b|" is not a field name`},
		{"warm:\n  - url: /a/\n    each:\n      - limit: five\n        url: /b/{id}\n", `line 4: limit: want a whole number, got "five"`},
		{"warm:\n  - url: /a/\n    each:\n      - url: /b/{id\n", "line 4: url: unmatched { in"},
		{"warm:\n  - url: /a/\n    each:\n      - url: /b/{id}\n        fallback: {where: a = 1}\n", "line 5: fallback goes with sort: FIELD"},
		{"warm:\n  - url: /a/\n    each:\n      - url: /b/{id}\n        sort: x\n        fallback: {limit: 3}\n", `line 6: fallback: unknown field "limit" (known: where, sort)`},
		{"warm:\n  - url: /a/\n    each:\n      - name: no url\n", "line 4: a step needs a url"},
		{"warm:\n  - &a /a/\n  - *a\n", "line 3: a page: aliases (*a) are not supported"},
		{"warm: [/a/]\n---\nwarm: [/b/]\n", "line 2: one YAML document only"},
	} {
		_, err := ParseSpec(strings.NewReader(tc.in))
		if !errors.Is(err, ErrInput) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ParseSpec(%q) = %v\nwant the prefix %q and ErrInput", tc.in, err, tc.want)
		}
	}
}

func TestConditionsFieldsAndTemplates(t *testing.T) {
	item := func(s string) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	main := item(`{"id": 1, "parent": null, "slug": "men & boys"}`)
	sub := item(`{"id": 7, "parent": {"id": 1, "name": "Men"}, "slug": "shirts"}`)
	renamed := item(`{"id": 8, "parent_id": 1, "slug": "shoes"}`)
	linked := item(`{"id": 9, "parent": "http://api/api/categories/1/", "slug": "hats"}`)
	for _, tc := range []struct {
		cond      string
		it        map[string]json.RawMessage
		has, want bool
	}{
		{"parent|parent_id = null", main, true, true},
		{"parent|parent_id = null", sub, true, false},
		{"parent|parent_id = null", renamed, true, false},
		{"parent|parent_id = null", linked, true, false},
		{"parent|parent_id != null", sub, true, true},
		{"parent_id = null", main, false, false},
		{"parent.id = 1", sub, true, true},
		{"parent.id = 1.0", sub, true, true},
		{"parent.id == 2", sub, true, false},
		{"parent.id = 1", main, false, false},
		{"slug = shirts", sub, true, true},
		{`slug = "men & boys"`, main, true, true},
		{"id = \"1\"", main, true, false},
	} {
		c, err := ParseCondition(tc.cond)
		if err != nil {
			t.Fatalf("%s: %v", tc.cond, err)
		}
		if has, ok := c.match(tc.it); has != tc.has || ok != tc.want {
			t.Errorf("%s on %v: has %v matches %v, want %v %v", tc.cond, tc.it, has, ok, tc.has, tc.want)
		}
	}

	tpl, err := parseTemplate("/api/{slug}/?category={parent.id|id}&s={slug}")
	if err != nil {
		t.Fatal(err)
	}
	if got, bad := tpl.render(main); bad != nil || got != "/api/men%20&%20boys/?category=1&s=men+%26+boys" {
		t.Errorf("render = %q, %v", got, bad)
	}
	if got, _ := tpl.render(sub); got != "/api/shirts/?category=1&s=shirts" {
		t.Errorf("render = %q", got)
	}
	if _, bad := tpl.render(item(`{"id": 3}`)); bad == nil || bad.String() != "slug" {
		t.Errorf("an item without slug: %v", bad)
	}
}

// FuzzParseSpec: whatever the file, ParseSpec returns a spec or an
// InputError, never panics, and what it accepts compiles again the same.
func FuzzParseSpec(f *testing.F) {
	if data, err := os.ReadFile("testdata/builtin.yaml"); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"warm:\n  - /api/colors/\n",
		"warm:\n  - url: /a/?o={ordering}\n    ordering: [-x, y]\n",
		"warm:\n  - url: /a/\n    max_pages: 2\n    each:\n      - {where: a.b|c != 3, sort: -d, limit: 1, url: '/b/{a.b}/?x={c}', key: 'k:{c}'}\n",
		"warm: [\n", "warm:\n  - &a /a/\n  - *a\n", "- x\n", "warm: {a: b}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseSpec(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInput) {
				t.Fatalf("error %v is not an InputError", err)
			}
			return
		}
		if len(spec.Entries) == 0 {
			t.Fatal("a spec without entries was accepted")
		}
		for _, e := range spec.Entries {
			if e.URL == "" {
				t.Fatalf("an entry without a url was accepted: %+v", e)
			}
		}
		if err := spec.compile(); err != nil {
			t.Fatalf("an accepted spec does not compile again: %v", err)
		}
	})
}
