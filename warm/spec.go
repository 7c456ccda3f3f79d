package warm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Spec describes a plan by the steps that discover it from the API: the
// pages to warm, in order. An entry with Each is a list (a JSON array, or a
// Django REST framework page whose next links are followed) whose items
// build more pages; an entry with Ordering takes the first ordering the API
// honours. The built-in plan is one (Builtin); --plan files hold others
// (ParseSpec).
type Spec struct {
	Entries []Entry
	builtin bool
}

// Entry is one page of a spec.
type Entry struct {
	Name string // for messages; optional
	// URL is a path, joined to the API's URL, or an absolute URL. With
	// Ordering it holds {ordering} as a whole query value.
	URL      string
	Key      string   // the logical key it fills, checked in Redis after the warm; optional
	Ordering []string // candidates for {ordering}: the first the API honours is warmed
	MaxPages int      // a list's pages read at most (0: DefaultMaxPages)
	Each     []Step   // the pages its items build; set, the entry is a list

	collect bool // --deep reads products from its page
	line    int  // in the plan file; 0 for the built-in plan
	url     template
}

// Step builds pages from a list's items: those that match Where, ordered by
// Sort, the first Limit of them, each through the URL template, whose
// {field} is the item's field.
type Step struct {
	Name  string
	Where *Condition
	Sort  *Order
	Limit int    // 0: every item
	URL   string // template
	Key   string // template of the logical key each page fills; optional
	// Fallback's Where and Sort replace the step's when no item has the
	// field Sort names (Limit, URL and Key stay).
	Fallback *Step

	collect  bool
	line     int
	url, key template
}

// DefaultMaxPages bounds how many pages of a paginated list are read.
const DefaultMaxPages = 100

// Bounds of a spec, so that a typo cannot ask for millions of requests.
const (
	maxEntries   = 1000
	maxSteps     = 100
	maxOrderings = 20
	maxPagesCap  = 10000
	maxLimit     = 100000
)

// Field names a value of a list's item: alternatives separated by "|", the
// first the item has wins, each a dotted path into nested objects
// ("parent|parent_id", "category.id").
type Field struct {
	text string
	alts [][]string
}

func (f Field) String() string { return f.text }

var fieldSegment = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ParseField reads "a|b.c".
func ParseField(s string) (Field, error) {
	s = strings.TrimSpace(s)
	f := Field{text: s}
	if s == "" {
		return f, fmt.Errorf("empty field name")
	}
	for _, alt := range strings.Split(s, "|") {
		path := strings.Split(strings.TrimSpace(alt), ".")
		for _, seg := range path {
			if !fieldSegment.MatchString(seg) {
				return f, fmt.Errorf("%q is not a field name (letters, digits, _ and -; . into an object, | between alternatives)", s)
			}
		}
		f.alts = append(f.alts, path)
	}
	return f, nil
}

// lookup returns the item's value of f (null included) and whether the item has it.
func (f Field) lookup(item map[string]json.RawMessage) (json.RawMessage, bool) {
	for _, path := range f.alts {
		obj, ok := item, true
		var v json.RawMessage
		for i, seg := range path {
			if v, ok = obj[seg]; !ok {
				break
			}
			if i < len(path)-1 {
				obj = nil
				if json.Unmarshal(v, &obj) != nil || obj == nil {
					ok = false
					break
				}
			}
		}
		if ok {
			return v, true
		}
	}
	return nil, false
}

// Condition is "FIELD = VALUE" or "FIELD != VALUE". VALUE is JSON (null,
// true, 3, "shoes") or a bare word, taken as a string. An item without the
// field does not match either way.
type Condition struct {
	Field Field
	Not   bool
	Value any // nil, bool, json.Number or string
	text  string
}

func (c *Condition) String() string { return c.text }

var conditionPattern = regexp.MustCompile(`^\s*([^=!\s]+)\s*(!=|==|=)\s*(.*?)\s*$`)

// ParseCondition reads "parent|parent_id = null".
func ParseCondition(s string) (*Condition, error) {
	m := conditionPattern.FindStringSubmatch(s)
	if m == nil || m[3] == "" {
		return nil, fmt.Errorf("where %q: want FIELD = VALUE or FIELD != VALUE", s)
	}
	f, err := ParseField(m[1])
	if err != nil {
		return nil, fmt.Errorf("where %q: %v", s, err)
	}
	c := &Condition{Field: f, Not: m[2] == "!=", text: strings.TrimSpace(s)}
	if v, ok := decodeJSON([]byte(m[3])); ok {
		switch v.(type) {
		case map[string]any, []any:
			return nil, fmt.Errorf("where %q: compare with null, true, false, a number or a string", s)
		}
		c.Value = v
	} else {
		c.Value = m[3]
	}
	return c, nil
}

// match reports whether the item has the field (has) and matches (ok).
func (c *Condition) match(item map[string]json.RawMessage) (has, ok bool) {
	raw, has := c.Field.lookup(item)
	if !has {
		return false, false
	}
	v, _ := decodeJSON(raw)
	return true, equalJSON(v, c.Value) != c.Not
}

// Order is "[-]FIELD" (descending with "-"), or "[-]count()": the count of
// the page the step's URL gives for the item, which costs one request per item.
type Order struct {
	Field Field
	Desc  bool
	Count bool
	text  string
}

func (o *Order) String() string { return o.text }

// ParseOrder reads "-product_count" or "-count()".
func ParseOrder(s string) (*Order, error) {
	o := &Order{text: strings.TrimSpace(s)}
	name := o.text
	if rest, ok := strings.CutPrefix(name, "-"); ok {
		o.Desc, name = true, rest
	}
	if name == "count()" {
		o.Count = true
		return o, nil
	}
	f, err := ParseField(name)
	if err != nil {
		return nil, fmt.Errorf("sort %q: %v", s, err)
	}
	o.Field = f
	return o, nil
}

// template is a URL or key with {field} placeholders, parsed.
type template struct {
	parts []tmplPart
}

type tmplPart struct {
	lit     string
	field   *Field
	inQuery bool // after the first '?': values are query-escaped, else path-escaped
}

func parseTemplate(s string) (template, error) {
	var t template
	inQuery := false
	for s != "" {
		i := strings.IndexAny(s, "{}")
		if i < 0 {
			t.parts = append(t.parts, tmplPart{lit: s})
			break
		}
		if s[i] == '}' {
			return t, fmt.Errorf("unmatched } in %q", s)
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: s[:i]})
			inQuery = inQuery || strings.Contains(s[:i], "?")
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return t, fmt.Errorf("unmatched { in %q", s)
		}
		f, err := ParseField(s[i+1 : i+j])
		if err != nil {
			return t, fmt.Errorf("{%s}: %v", s[i+1:i+j], err)
		}
		t.parts = append(t.parts, tmplPart{field: &f, inQuery: inQuery})
		s = s[i+j+1:]
	}
	return t, nil
}

func (t template) fields() []Field {
	var out []Field
	for _, p := range t.parts {
		if p.field != nil {
			out = append(out, *p.field)
		}
	}
	return out
}

// render fills the placeholders from item. A value that is not a string,
// number or boolean (absent, null, an object) cannot fill one: render then
// names that field.
func (t template) render(item map[string]json.RawMessage) (string, *Field) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.field == nil {
			b.WriteString(p.lit)
			continue
		}
		raw, ok := p.field.lookup(item)
		if !ok {
			return "", p.field
		}
		var text string
		switch v, _ := decodeJSON(raw); v := v.(type) {
		case string:
			text = v
		case json.Number:
			text = v.String()
		case bool:
			text = fmt.Sprint(v)
		default:
			return "", p.field
		}
		if p.inQuery {
			b.WriteString(url.QueryEscape(text))
		} else {
			b.WriteString(url.PathEscape(text))
		}
	}
	return b.String(), nil
}

// renderWith fills every placeholder with one value (an ordering candidate).
func (t template) renderWith(value string) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch {
		case p.field == nil:
			b.WriteString(p.lit)
		case p.inQuery:
			b.WriteString(url.QueryEscape(value))
		default:
			b.WriteString(url.PathEscape(value))
		}
	}
	return b.String()
}

// decodeJSON decodes one JSON value with numbers kept as json.Number.
func decodeJSON(raw []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil, false
	}
	return v, true
}

// equalJSON compares two decoded scalars; numbers by value.
func equalJSON(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		af, err1 := an.Float64()
		bf, err2 := bn.Float64()
		return err1 == nil && err2 == nil && af == bf
	}
	switch a.(type) {
	case nil, bool, string:
		return a == b
	}
	return false
}
