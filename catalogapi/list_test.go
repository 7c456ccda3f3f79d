package catalogapi

import (
	"strings"
	"testing"
)

func TestReadListTellsAListFromWhatIsNot(t *testing.T) {
	for _, tc := range []struct {
		body, err string
		n         int
		next      string
		count     int64
		paginated bool
	}{
		{body: `[{"id":1},{"id":2}]`, n: 2, count: -1},
		{body: `{"count":28,"next":"http://api/c/?page=2","previous":null,"results":[{"id":1}]}`, n: 1, next: "http://api/c/?page=2", count: 28, paginated: true},
		{body: `{"next":null,"results":[]}`, count: -1, paginated: true},
		{body: `{"detail":"Not found."}`, err: `is not a list: want a JSON array or a page {count, next, previous, results}, got an object with the key "detail"`},
		{body: `"hello"`, err: "is not a list: want a JSON array or a page {count, next, previous, results}, got a string"},
		{body: `<!doctype html>`, err: "got HTML, not JSON"},
		{body: ``, err: "got an empty body"},
		{body: `[1,2]`, err: "is not a list of objects: item 1 is a number"},
		{body: `{"results":{"a":1}}`, err: "is not a list: its results are an object"},
		{body: `{"results":[],"next":3}`, err: "is not a list: its next is a number, not a link or null"},
	} {
		l, err := ReadList([]byte(tc.body))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ReadList(%s) error %v, want %q", tc.body, err, tc.err)
			}
		case err != nil:
			t.Errorf("ReadList(%s): %v", tc.body, err)
		default:
			count := int64(-1)
			if l.Count != nil {
				count = *l.Count
			}
			if len(l.Items) != tc.n || l.Next != tc.next || count != tc.count || l.Paginated != tc.paginated {
				t.Errorf("ReadList(%s) = %d items, next %q, count %d, paginated %v", tc.body, len(l.Items), l.Next, count, l.Paginated)
			}
		}
	}
}
