package warm

import (
	"cmp"
	"errors"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxSpecBytes bounds a plan file.
const maxSpecBytes = 1 << 20

// ParseSpec reads a plan file (YAML):
//
//	warm:
//	  - /api/colors/
//	  - url: /api/categories/
//	    each:
//	      - where: parent = null
//	        url: /api/products/filters/?category={id}
//
// Errors name the line ("line 3: ...") and match ErrInput.
func ParseSpec(r io.Reader) (Spec, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSpecBytes+1))
	if err != nil {
		return Spec{}, inputErr(0, "%v", err)
	}
	if len(data) > maxSpecBytes {
		return Spec{}, inputErr(0, "larger than %d bytes", maxSpecBytes)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Spec{}, inputErr(0, "empty plan: want a mapping with warm: and a list of pages")
		}
		return Spec{}, yamlInputErr(err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			return Spec{}, yamlInputErr(err)
		}
		return Spec{}, inputErr(more.Line, "one YAML document only")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	top, err := mappingOf(root, "the plan", "warm")
	if err != nil {
		return Spec{}, err
	}
	list := top["warm"]
	if list == nil {
		return Spec{}, inputErr(root.Line, "no warm: list of pages")
	}
	if err := kindOf(list, yaml.SequenceNode, "warm", "a list of pages"); err != nil {
		return Spec{}, err
	}
	if len(list.Content) == 0 || len(list.Content) > maxEntries {
		return Spec{}, inputErr(list.Line, "warm: want 1 to %d pages, got %d", maxEntries, len(list.Content))
	}
	var spec Spec
	for _, n := range list.Content {
		e, err := parseEntry(n)
		if err != nil {
			return Spec{}, err
		}
		spec.Entries = append(spec.Entries, e)
	}
	if err := spec.compile(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlInputErr turns a YAML syntax error into an InputError naming its line.
func yamlInputErr(err error) error {
	msg := strings.TrimPrefix(firstLineOf(err.Error()), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return inputErr(n, "%s", m[2])
	}
	return inputErr(0, "%s", msg)
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func parseEntry(n *yaml.Node) (Entry, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := str(n, "a page")
		return Entry{URL: s, line: n.Line}, err
	}
	m, err := mappingOf(n, "a page", "name", "url", "key", "ordering", "max_pages", "each")
	if err != nil {
		return Entry{}, err
	}
	e := Entry{line: n.Line}
	if err := optStrs(m, strField{"name", &e.Name}, strField{"url", &e.URL}, strField{"key", &e.Key}); err != nil {
		return e, err
	}
	if o := m["ordering"]; o != nil {
		if err := kindOf(o, yaml.SequenceNode, "ordering", "a list of orderings, such as [-popularity, -sales_count]"); err != nil {
			return e, err
		}
		for _, c := range o.Content {
			s, err := str(c, "an ordering")
			if err != nil {
				return e, err
			}
			e.Ordering = append(e.Ordering, s)
		}
	}
	if e.MaxPages, err = optInt(m, "max_pages", 1, maxPagesCap); err != nil {
		return e, err
	}
	if each := m["each"]; each != nil {
		if err := kindOf(each, yaml.SequenceNode, "each", "a list of steps"); err != nil {
			return e, err
		}
		if len(each.Content) == 0 || len(each.Content) > maxSteps {
			return e, inputErr(each.Line, "each: want 1 to %d steps, got %d", maxSteps, len(each.Content))
		}
		for _, sn := range each.Content {
			s, err := parseStep(sn, false)
			if err != nil {
				return e, err
			}
			e.Each = append(e.Each, s)
		}
	}
	return e, nil
}

func parseStep(n *yaml.Node, fallback bool) (Step, error) {
	known := []string{"name", "where", "sort", "limit", "url", "key", "fallback"}
	what := "a step"
	if fallback {
		known, what = []string{"where", "sort"}, "fallback"
	}
	m, err := mappingOf(n, what, known...)
	if err != nil {
		return Step{}, err
	}
	s := Step{line: n.Line}
	var where, sort string
	err = optStrs(m, strField{"name", &s.Name}, strField{"url", &s.URL}, strField{"key", &s.Key},
		strField{"where", &where}, strField{"sort", &sort})
	if err != nil {
		return s, err
	}
	if where != "" {
		if s.Where, err = ParseCondition(where); err != nil {
			return s, inputErr(m["where"].Line, "%v", err)
		}
	}
	if sort != "" {
		if s.Sort, err = ParseOrder(sort); err != nil {
			return s, inputErr(m["sort"].Line, "%v", err)
		}
	}
	if s.Limit, err = optInt(m, "limit", 1, maxLimit); err != nil {
		return s, err
	}
	if fb := m["fallback"]; fb != nil {
		f, err := parseStep(fb, true)
		if err != nil {
			return s, err
		}
		s.Fallback = &f
	}
	return s, nil
}

// mappingOf checks that n is a mapping of known keys, each once, and
// returns its values by key.
func mappingOf(n *yaml.Node, what string, known ...string) (map[string]*yaml.Node, error) {
	if err := kindOf(n, yaml.MappingNode, what, "a mapping of "+strings.Join(known, ", ")); err != nil {
		return nil, err
	}
	m := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, inputErr(k.Line, "%s: a key must be a name", what)
		}
		if !slices.Contains(known, k.Value) {
			return nil, inputErr(k.Line, "%s: unknown field %q (known: %s)", what, k.Value, strings.Join(known, ", "))
		}
		if m[k.Value] != nil {
			return nil, inputErr(k.Line, "%s: %s given twice", what, k.Value)
		}
		m[k.Value] = v
	}
	return m, nil
}

var kindNames = map[yaml.Kind]string{
	yaml.ScalarNode: "a value", yaml.SequenceNode: "a list", yaml.MappingNode: "a mapping",
}

func kindOf(n *yaml.Node, kind yaml.Kind, what, want string) error {
	if n.Kind == yaml.AliasNode {
		return inputErr(n.Line, "%s: aliases (*%s) are not supported", what, n.Value)
	}
	if n.Kind != kind {
		got := kindNames[n.Kind]
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			got = "nothing"
		}
		return inputErr(n.Line, "%s: want %s, got %s", what, want, cmp.Or(got, "something else"))
	}
	return nil
}

// str reads a string scalar.
func str(n *yaml.Node, what string) (string, error) {
	if err := kindOf(n, yaml.ScalarNode, what, "a string"); err != nil {
		return "", err
	}
	if n.Tag != "!!str" {
		return "", inputErr(n.Line, "%s: want a string, got %q", what, n.Value)
	}
	return strings.TrimSpace(n.Value), nil
}

type strField struct {
	name string
	dst  *string
}

// optStrs reads optional string fields, none of which may be empty when given.
func optStrs(m map[string]*yaml.Node, fields ...strField) error {
	for _, f := range fields {
		n := m[f.name]
		if n == nil {
			continue
		}
		s, err := str(n, f.name)
		if err == nil && s == "" {
			err = inputErr(n.Line, "%s is empty", f.name)
		}
		if err != nil {
			return err
		}
		*f.dst = s
	}
	return nil
}

func optInt(m map[string]*yaml.Node, name string, lo, hi int) (int, error) {
	n := m[name]
	if n == nil {
		return 0, nil
	}
	if err := kindOf(n, yaml.ScalarNode, name, "a whole number"); err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(n.Value)
	if n.Tag != "!!int" || err != nil {
		return 0, inputErr(n.Line, "%s: want a whole number, got %q", name, n.Value)
	}
	if v < lo || v > hi {
		return 0, inputErr(n.Line, "%s: want %d to %d, got %d", name, lo, hi, v)
	}
	return v, nil
}

// placeholderBase only checks the shape of a spec's URLs.
var placeholderBase = &url.URL{Scheme: "http", Host: "api.invalid"}

// compile parses the templates and checks what a spec's entries and steps
// may say together. Errors name the line of the entry or step.
func (s *Spec) compile() error {
	for i := range s.Entries {
		e := &s.Entries[i]
		if err := e.compile(); err != nil {
			return err
		}
		for j := range e.Each {
			if err := e.Each[j].compile(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Entry) compile() error {
	fail := func(format string, a ...any) error { return inputErr(e.line, format, a...) }
	if e.URL == "" {
		return fail("a page needs a url")
	}
	t, err := parseTemplate(e.URL)
	if err != nil {
		return fail("url: %v", err)
	}
	e.url = t
	fields := t.fields()
	switch {
	case len(e.Ordering) > 0 && len(e.Each) > 0:
		return fail("ordering and each cannot be used together")
	case len(e.Ordering) > maxOrderings:
		return fail("ordering: at most %d candidates", maxOrderings)
	case len(e.Ordering) > 0 && !wholeQueryValue(e.URL, "{ordering}"):
		return fail("url %q: with ordering, the url holds {ordering} as a whole query value, as in ?ordering={ordering}", e.URL)
	case len(e.Ordering) > 0 && len(fields) != 1:
		return fail("url %q: {ordering} is the only placeholder of a page with ordering", e.URL)
	case len(e.Ordering) == 0 && len(fields) > 0:
		return fail("url %q: {%s} has nothing to fill it: placeholders belong to each steps (or {ordering}, with ordering)", e.URL, fields[0])
	case e.MaxPages > 0 && len(e.Each) == 0:
		return fail("max_pages goes with each: it bounds the pages of a list")
	}
	for _, o := range e.Ordering {
		if o == "" || strings.ContainsAny(o, " \t&?#") {
			return fail("ordering %q: want a field name, with - for descending", o)
		}
	}
	if _, err := Resolve(placeholderBase, t.renderWith("x")); err != nil {
		return fail("url: %v", err)
	}
	return nil
}

func (st *Step) compile() error {
	fail := func(format string, a ...any) error { return inputErr(st.line, format, a...) }
	if st.URL == "" {
		return fail("a step needs a url, such as /api/products/?category={id}")
	}
	var err error
	if st.url, err = parseTemplate(st.URL); err != nil {
		return fail("url: %v", err)
	}
	if st.key, err = parseTemplate(st.Key); err != nil {
		return fail("key: %v", err)
	}
	if _, err := Resolve(placeholderBase, st.url.renderWith("x")); err != nil {
		return fail("url: %v", err)
	}
	if fb := st.Fallback; fb != nil {
		switch {
		case st.Sort == nil || st.Sort.Count:
			return inputErr(fb.line, "fallback goes with sort: FIELD: it is used when no item has that field")
		case fb.Where == nil && fb.Sort == nil:
			return inputErr(fb.line, "fallback: say where or sort")
		}
	}
	return nil
}

// wholeQueryValue reports whether the URL's query has a parameter whose whole value is v.
func wholeQueryValue(u, v string) bool {
	_, q, ok := strings.Cut(u, "?")
	if !ok {
		return false
	}
	for _, kv := range strings.Split(q, "&") {
		if _, val, ok := strings.Cut(kv, "="); ok && val == v {
			return true
		}
	}
	return false
}
