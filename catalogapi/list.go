package catalogapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/internal/redact"
)

// NextPage resolves a page's next link, which must stay on the list's
// scheme, host and port.
func NextPage(list, next string) (string, error) {
	base, _ := url.Parse(list)
	ref, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("next %q is not a link", redact.URL(next))
	}
	u := base.ResolveReference(ref)
	if origin(u) != origin(base) || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("next %s leads away from %s", redact.URL(u.String()), origin(base))
	}
	return u.String(), nil
}

// List is a list response: a JSON array, or a Django REST framework page.
type List struct {
	Raw       []json.RawMessage
	Items     []map[string]json.RawMessage // Raw, decoded
	Paginated bool                         // a page {count, next, previous, results}
	Next      string                       // the next page's link, "" on the last
	Count     *int64                       // the page's count, nil when it says none
}

const listShapes = "a JSON array or a page {count, next, previous, results}"

// ReadList reads a list response. Its items must be objects.
func ReadList(body []byte) (List, error) {
	var l List
	b := bytes.TrimSpace(body)
	switch {
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &l.Raw); err != nil {
			return l, fmt.Errorf("is not a list: %v", err)
		}
	case len(b) > 0 && b[0] == '{':
		var page map[string]json.RawMessage
		if err := json.Unmarshal(b, &page); err != nil {
			return l, fmt.Errorf("is not a list: %v", err)
		}
		results, ok := page["results"]
		if !ok {
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range page {
					if !yield(k) {
						return
					}
				}
			})
			return l, fmt.Errorf("is not a list: want %s, got an object with %s", listShapes, describeKeys(keys))
		}
		if json.Unmarshal(results, &l.Raw) != nil || l.Raw == nil {
			return l, fmt.Errorf("is not a list: its results are %s", DescribeJSON(results))
		}
		l.Paginated = true
		if n, ok := page["next"]; ok {
			var next *string
			if json.Unmarshal(n, &next) != nil {
				return l, fmt.Errorf("is not a list: its next is %s, not a link or null", DescribeJSON(n))
			}
			if next != nil {
				l.Next = *next
			}
		}
		if c, ok := page["count"]; ok {
			var n int64
			if json.Unmarshal(c, &n) == nil && n >= 0 {
				l.Count = &n
			}
		}
	default:
		return l, fmt.Errorf("is not a list: want %s, got %s", listShapes, DescribeJSON(b))
	}
	for i, r := range l.Raw {
		var m map[string]json.RawMessage
		if json.Unmarshal(r, &m) != nil || m == nil {
			return l, fmt.Errorf("is not a list of objects: item %d is %s", i+1, DescribeJSON(r))
		}
		l.Items = append(l.Items, m)
	}
	return l, nil
}

func describeKeys(keys []string) string {
	switch len(keys) {
	case 0:
		return "no keys"
	case 1:
		return "the key " + strconv.Quote(keys[0])
	}
	if len(keys) > 6 {
		keys = append(keys[:6:6], "…")
	}
	return "the keys " + strings.Join(keys, ", ")
}

// DescribeJSON names the kind of a JSON value, for messages.
func DescribeJSON(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "an empty body"
	}
	switch c := b[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "a list"
	case c == '"':
		return "a string"
	case c == 'n':
		return "null"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	case c == '<':
		return "HTML, not JSON"
	}
	return "not JSON"
}
