package warm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/redact"
)

// ErrShape is matched (errors.Is) by every error about an API whose answers
// do not fit the plan: a list that is not a list, a step that no item
// matches. The plan cannot be carried out then.
var ErrShape = errors.New("the API's answers do not fit the plan")

// ShapeError says which answer did not fit the plan, and how.
type ShapeError struct{ Msg string }

func (e *ShapeError) Error() string        { return e.Msg }
func (e *ShapeError) Is(target error) bool { return target == ErrShape }

// Discover builds the plan spec describes from the API's answers. The
// requests made to read its lists, rank their items and choose an ordering
// are part of the plan, already done: Run reports them without sending them
// again. The plan's Warnings say where an assumption did not hold and what
// was done instead. The error is *ShapeError where the plan cannot be
// built, *UnreachableError when the API never answered, or ctx's.
func Discover(ctx context.Context, cfg Config, api *url.URL, spec Spec) (Plan, error) {
	cfg = withDefaults(cfg)
	cfg.Header = cfg.Header.Clone()
	if cfg.Header == nil {
		cfg.Header = http.Header{}
	}
	cfg.Header.Set("Accept", "application/json") // discovery reads JSON
	d := &discovery{ctx: ctx, cfg: cfg, api: api, index: map[string]int{}}
	if cfg.QPS > 0 {
		d.limiter = rate.NewLimiter(rate.Limit(cfg.QPS), 1)
	}
	for _, e := range spec.Entries {
		var err error
		switch {
		case len(e.Each) > 0:
			err = d.list(e)
		case len(e.Ordering) > 0:
			err = d.ordered(e)
		default:
			var u string
			if u, err = d.join(e.url.renderWith("")); err == nil {
				d.add(Request{URL: u, Key: e.Key, Collect: e.collect})
			}
		}
		if err != nil {
			return Plan{}, err
		}
	}
	source := "plan"
	if spec.builtin {
		source = "builtin"
	}
	return Plan{Source: source, Requests: d.reqs, Warnings: d.warnings}, nil
}

type discovery struct {
	ctx      context.Context
	cfg      Config
	api      *url.URL
	limiter  *rate.Limiter
	reqs     []Request
	index    map[string]int // URL -> position in reqs
	warnings []string
}

func (d *discovery) warnf(format string, a ...any) {
	d.warnings = append(d.warnings, fmt.Sprintf(format, a...))
}

// add puts a request into the plan, once per URL: a later one adds what it
// knows (its result, key, body) to the first.
func (d *discovery) add(r Request) int {
	i, ok := d.index[r.URL]
	if !ok {
		d.index[r.URL] = len(d.reqs)
		d.reqs = append(d.reqs, r)
		return len(d.reqs) - 1
	}
	old := &d.reqs[i]
	if old.Done == nil && r.Done != nil {
		old.Done, old.body = r.Done, r.body
	}
	old.Key = cmp.Or(old.Key, r.Key)
	if old.Done != nil {
		old.Done.Key = cmp.Or(old.Done.Key, old.Key)
	}
	old.Collect = old.Collect || r.Collect
	return i
}

// keep adds a request made during discovery to the plan, done.
func (d *discovery) keep(u string, res Result, body []byte, key string, collect bool) int {
	res.Key = cmp.Or(res.Key, key) // X-Cache-Key, when the server sends it, says best
	return d.add(Request{URL: u, Key: key, Done: &res, Collect: collect, body: body})
}

// getAll fetches the URLs now, -c at a time, with retries. The error is
// ctx's, or *UnreachableError when no request ever got an answer.
func (d *discovery) getAll(urls []string) ([]Result, [][]byte, error) {
	results := make([]Result, len(urls))
	bodies := make([][]byte, len(urls))
	var g errgroup.Group
	g.SetLimit(d.cfg.Concurrency)
	for i, u := range urls {
		g.Go(func() error {
			results[i], bodies[i] = fetch(d.ctx, d.cfg, d.limiter, Request{URL: u}, true)
			return nil
		})
	}
	_ = g.Wait()
	if err := d.ctx.Err(); err != nil {
		return nil, nil, err
	}
	if len(results) > 0 && allTransport(results) && !catalogapi.Answered(d.cfg.Client) {
		return nil, nil, &UnreachableError{URL: urls[0], Err: results[0].err}
	}
	return results, bodies, nil
}

func (d *discovery) get(u string) (Result, []byte, error) {
	res, bodies, err := d.getAll([]string{u})
	if err != nil {
		return Result{}, nil, err
	}
	return res[0], bodies[0], nil
}

// join makes a spec's URL absolute: a path is joined to the API's URL (its
// own path included), an absolute URL is taken as it is.
func (d *discovery) join(ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil || u.IsAbs() || u.Host != "" {
		return Resolve(d.api, ref)
	}
	if !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("%q: a path must start with /", redact.URL(ref))
	}
	j := d.api.JoinPath(u.EscapedPath())
	j.RawQuery = u.RawQuery
	return j.String(), nil
}

// list reads a list entry, every page of it, and builds its steps' pages.
func (d *discovery) list(e Entry) error {
	first, err := d.join(e.url.renderWith(""))
	if err != nil {
		return err
	}
	var items []map[string]json.RawMessage
	maxPages := cmp.Or(e.MaxPages, DefaultMaxPages)
	seen := map[string]bool{}
	u := first
	for page := 1; ; page++ {
		seen[u] = true
		res, body, err := d.get(u)
		if err != nil {
			return err
		}
		key := ""
		if page == 1 {
			key = e.Key
		}
		d.keep(u, res, body, key, e.collect)
		if !res.OK() {
			d.warnf("%s: not read (%s), so the pages built from its items are not warmed", redact.URL(u), res.Error)
			return nil
		}
		l, err := catalogapi.ReadList(body)
		if err != nil {
			return &ShapeError{Msg: fmt.Sprintf("%s %v", redact.URL(u), err)}
		}
		items = append(items, l.Items...)
		if l.Next == "" {
			break
		}
		next, err := catalogapi.NextPage(first, l.Next)
		if err == nil && seen[next] {
			err = fmt.Errorf("page %d links back to an earlier page", page)
		} else if err == nil && page >= maxPages {
			err = fmt.Errorf("read %d pages, the most max_pages allows", page)
		}
		if err != nil {
			d.warnf("%s: %v; the pages after page %d are not read", redact.URL(first), err, page)
			break
		}
		u = next
	}
	for _, st := range e.Each {
		if err := d.step(first, items, st); err != nil {
			return err
		}
	}
	return nil
}

// step builds the pages of one step from a list's items.
func (d *discovery) step(listURL string, items []map[string]json.RawMessage, st Step) error {
	label := cmp.Or(st.Name, st.URL)
	where, order := st.Where, st.Sort
	chosen, err := selectItems(label, listURL, items, where)
	if err != nil {
		return err
	}
	if fb := st.Fallback; fb != nil && order != nil && !order.Count && !anyHas(chosen, order.Field) {
		where, order = cmp.Or(fb.Where, where), fb.Sort
		var how []string
		if where != nil {
			how = append(how, "among the items where "+where.String())
		}
		if order != nil {
			how = append(how, "by "+describeOrder(order, st.URL))
		}
		d.warnf("%s: no item of %s has %s; chosen instead %s", label, redact.URL(listURL), st.Sort.Field, strings.Join(how, ", "))
		if chosen, err = selectItems(label, listURL, items, where); err != nil {
			return err
		}
	}
	if order != nil && !order.Count {
		if !anyHas(chosen, order.Field) {
			return &ShapeError{Msg: fmt.Sprintf("%s: no item of %s has %s to sort by", label, redact.URL(listURL), order.Field)}
		}
		sortItems(chosen, order)
	}
	pages, skipped := d.render(st, chosen)
	if skipped != nil {
		d.warnf("%s: %d items of %s cannot fill %s (no usable %s); they are left out", label, skipped.n, redact.URL(listURL), st.URL, skipped.field)
	}
	if order != nil && order.Count {
		return d.rankByCount(label, st, pages)
	}
	if st.Limit > 0 && len(pages) > st.Limit {
		pages = pages[:st.Limit]
	}
	for _, p := range pages {
		d.add(Request{URL: p.url, Key: p.key, Collect: st.collect})
	}
	return nil
}

func describeOrder(o *Order, url string) string {
	if o.Count {
		what := "most first"
		if !o.Desc {
			what = "fewest first"
		}
		return "the count of their " + url + " pages (" + what + ")"
	}
	return o.String()
}

// selectItems returns the items that match where (all of them without one).
// That none does, or that none has the field, is a ShapeError: the plan's
// assumption about the API does not hold.
func selectItems(label, listURL string, items []map[string]json.RawMessage, where *Condition) ([]map[string]json.RawMessage, error) {
	if len(items) == 0 {
		return nil, &ShapeError{Msg: fmt.Sprintf("%s: %s has no items", label, redact.URL(listURL))}
	}
	if where == nil {
		return slices.Clone(items), nil
	}
	var out []map[string]json.RawMessage
	has := 0
	for _, it := range items {
		h, ok := where.match(it)
		if h {
			has++
		}
		if ok {
			out = append(out, it)
		}
	}
	switch {
	case has == 0:
		return nil, &ShapeError{Msg: fmt.Sprintf("%s: no item of %s has %s (where %s)",
			label, redact.URL(listURL), strings.ReplaceAll(where.Field.String(), "|", " or "), where)}
	case len(out) == 0:
		return nil, &ShapeError{Msg: fmt.Sprintf("%s: none of the %d items of %s is one where %s", label, len(items), redact.URL(listURL), where)}
	}
	return out, nil
}

func anyHas(items []map[string]json.RawMessage, f Field) bool {
	for _, it := range items {
		if _, ok := sortValue(it, f); ok {
			return true
		}
	}
	return false
}

// sortValue is an item's value of f for sorting: a number (a JSON number or
// a numeric string, as DRF writes decimals) or a string.
func sortValue(item map[string]json.RawMessage, f Field) (any, bool) {
	raw, ok := f.lookup(item)
	if !ok {
		return nil, false
	}
	switch v, _ := decodeJSON(raw); v := v.(type) {
	case json.Number:
		n, err := v.Float64()
		return n, err == nil
	case string:
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return n, true
		}
		return v, true
	}
	return nil, false
}

// sortItems orders items by o, stably (ties keep the API's order); items
// without the field go last.
func sortItems(items []map[string]json.RawMessage, o *Order) {
	slices.SortStableFunc(items, func(a, b map[string]json.RawMessage) int {
		va, oka := sortValue(a, o.Field)
		vb, okb := sortValue(b, o.Field)
		if !oka || !okb {
			return compareBool(oka, okb)
		}
		c := compareValues(va, vb)
		if o.Desc {
			c = -c
		}
		return c
	})
}

// compareBool puts true first.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func compareValues(a, b any) int {
	fa, aNum := a.(float64)
	fb, bNum := b.(float64)
	switch {
	case aNum && bNum:
		return cmp.Compare(fa, fb)
	case aNum != bNum:
		return compareBool(aNum, bNum) // numbers before strings
	}
	return strings.Compare(a.(string), b.(string))
}

type builtPage struct{ url, key string }

type skippedItems struct {
	n     int
	field *Field
}

// render builds each item's page; items a template cannot be filled from are left out.
func (d *discovery) render(st Step, items []map[string]json.RawMessage) ([]builtPage, *skippedItems) {
	var pages []builtPage
	var skipped *skippedItems
	for _, it := range items {
		ref, bad := st.url.render(it)
		var key string
		if bad == nil {
			key, bad = st.key.render(it)
		}
		var u string
		if bad == nil {
			var err error
			if u, err = d.join(ref); err != nil {
				bad = &Field{text: "usable value"}
			}
		}
		if bad != nil {
			if skipped == nil {
				skipped = &skippedItems{field: bad}
			}
			skipped.n++
			continue
		}
		pages = append(pages, builtPage{url: u, key: key})
	}
	return pages, skipped
}

// rankByCount requests every page, ranks them by the count each says it
// has, and keeps them all in the plan (done), the first Limit in rank order.
func (d *discovery) rankByCount(label string, st Step, pages []builtPage) error {
	urls := make([]string, len(pages))
	for i, p := range pages {
		urls[i] = p.url
	}
	results, bodies, err := d.getAll(urls)
	if err != nil {
		return err
	}
	counts := make([]int64, len(pages))
	unknown := 0
	for i := range pages {
		counts[i] = -1
		if !results[i].OK() {
			unknown++
			continue
		}
		l, err := catalogapi.ReadList(bodies[i])
		switch {
		case err != nil:
			unknown++
		case l.Count != nil:
			counts[i] = *l.Count
		case l.Paginated:
			unknown++ // a page that does not say its count (a cursor page)
		default:
			counts[i] = int64(len(l.Items))
		}
	}
	order := make([]int, len(pages))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if (counts[a] < 0) != (counts[b] < 0) {
			return compareBool(counts[a] >= 0, counts[b] >= 0)
		}
		if st.Sort.Desc {
			return cmp.Compare(counts[b], counts[a])
		}
		return cmp.Compare(counts[a], counts[b])
	})
	if unknown > 0 {
		d.warnf("%s: %d of %d pages did not say their count; they rank last", label, unknown, len(pages))
	}
	limit := len(order)
	if st.Limit > 0 {
		limit = min(st.Limit, limit)
	}
	if extra := len(order) - limit; extra > 0 {
		d.warnf("%s: %d more pages were requested to rank them, and are warmed too", label, extra)
	}
	for rank, i := range order {
		d.keep(pages[i].url, results[i], bodies[i], pages[i].key, st.collect && rank < limit)
	}
	return nil
}

// ordered requests an entry's page with each ordering in turn and keeps the
// first the API honours. The pages of orderings it ignored were cached all
// the same, so they stay in the plan; a refused ordering (4xx) does not.
func (d *discovery) ordered(e Entry) error {
	label := cmp.Or(e.Name, e.URL)
	unorderedURL, err := d.join(withoutParam(e.URL, "{ordering}"))
	if err != nil {
		return err
	}
	var unordered *catalogapi.List
	var ignored, refused []string
	var firstRefused *Result
	firstIgnored := -1
	chosen := ""
	for _, cand := range e.Ordering {
		u, err := d.join(e.url.renderWith(cand))
		if err != nil {
			return err
		}
		res, body, err := d.get(u)
		if err != nil {
			return err
		}
		if !res.OK() {
			if res.Status >= 400 && res.Status < 500 {
				refused = append(refused, fmt.Sprintf("ordering=%s was refused (%s)", cand, res.Error))
				if firstRefused == nil {
					firstRefused = &res
				}
				continue
			}
			d.keep(u, res, body, e.Key, e.collect) // a failed request: the report names it
			return nil
		}
		honoured, err := d.honours(label, cand, body, unorderedURL, &unordered)
		if err != nil {
			return err
		}
		if honoured {
			d.keep(u, res, body, e.Key, e.collect)
			chosen = cand
			break
		}
		if i := d.keep(u, res, body, "", false); firstIgnored < 0 {
			firstIgnored = i
		}
		ignored = append(ignored, "ordering="+cand)
	}
	var said []string
	if len(ignored) > 0 {
		said = append(said, "the API ignored "+strings.Join(ignored, " and ")+" (the page is the unordered one)")
	}
	said = append(said, refused...)
	switch {
	case chosen != "" && len(said) > 0:
		d.warnf("%s: %s; warmed ordering=%s instead", label, strings.Join(said, "; "), chosen)
	case chosen == "" && firstIgnored >= 0:
		d.add(Request{URL: d.reqs[firstIgnored].URL, Key: e.Key, Collect: e.collect})
		d.warnf("%s: %s: the page warmed is in the API's default order", label, strings.Join(said, "; "))
	case chosen == "":
		// Every ordering was refused: the first refusal is a failed request.
		u, _ := d.join(e.url.renderWith(e.Ordering[0]))
		d.keep(u, *firstRefused, nil, e.Key, false)
		d.warnf("%s: %s", label, strings.Join(said, "; "))
	}
	return nil
}

// honours says whether a page requested with ordering cand is in that
// order: its items are sorted by the field where they carry it as a number,
// else it differs from the unordered page (requested once, and warmed too).
func (d *discovery) honours(label, cand string, body []byte, unorderedURL string, unordered **catalogapi.List) (bool, error) {
	l, err := catalogapi.ReadList(body)
	if err != nil {
		d.warnf("%s: ordering=%s: the page %v; took the ordering as honoured", label, cand, err)
		return true, nil
	}
	field, _, _ := strings.Cut(cand, ",")
	desc := strings.HasPrefix(field, "-")
	if sortedBy(l.Items, strings.TrimPrefix(field, "-"), desc) {
		return true, nil
	}
	if *unordered == nil {
		res, ubody, err := d.get(unorderedURL)
		if err != nil {
			return false, err
		}
		if !res.OK() {
			d.warnf("%s: the unordered page %s could not be read (%s) to check ordering=%s; took it as honoured", label, redact.URL(unorderedURL), res.Error, cand)
			return true, nil
		}
		d.keep(unorderedURL, res, ubody, "", false)
		ul, err := catalogapi.ReadList(ubody)
		if err != nil {
			return false, &ShapeError{Msg: fmt.Sprintf("%s %v", redact.URL(unorderedURL), err)}
		}
		*unordered = &ul
	}
	return !sameItems(l.Raw, (*unordered).Raw), nil
}

// sortedBy reports whether every item carries field as a number and the
// items are in its order.
func sortedBy(items []map[string]json.RawMessage, field string, desc bool) bool {
	f, err := ParseField(field)
	if err != nil || len(items) == 0 {
		return false
	}
	prev := 0.0
	for i, it := range items {
		v, ok := sortValue(it, f)
		n, num := v.(float64)
		if !ok || !num {
			return false
		}
		if i > 0 && ((desc && n > prev) || (!desc && n < prev)) {
			return false
		}
		prev = n
	}
	return true
}

func sameItems(a, b []json.RawMessage) bool {
	return slices.EqualFunc(a, b, func(x, y json.RawMessage) bool {
		var cx, cy bytes.Buffer
		return json.Compact(&cx, x) == nil && json.Compact(&cy, y) == nil && bytes.Equal(cx.Bytes(), cy.Bytes())
	})
}

// withoutParam drops the query parameter whose whole value is v.
func withoutParam(u, v string) string {
	path, q, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	var keep []string
	for _, kv := range strings.Split(q, "&") {
		if _, val, _ := strings.Cut(kv, "="); val != v {
			keep = append(keep, kv)
		}
	}
	if len(keep) == 0 {
		return path
	}
	return path + "?" + strings.Join(keep, "&")
}
