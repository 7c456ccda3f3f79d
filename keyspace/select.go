package keyspace

import (
	"fmt"
	"strings"
)

// Request names what one clear acts on.
type Request struct {
	ProductIDs []int64
	// Cascade adds the listings that may embed the products (Product).
	Cascade bool
	// Groups by name, built-in or from a config file; "all" among them is
	// the union of every group.
	Groups   []string
	Patterns []string
}

// Select turns a request into one Selection, without duplicates. A key
// counts in the first target it belongs to, so the narrowest come first:
// product ids, then groups and patterns, and "all" last, which then reports
// only what the others did not claim. An empty request selects nothing.
func (s Schema) Select(r Request) (Selection, error) {
	var sel Selection
	add := func(t Target, err error) error {
		if err == nil && !sel.has(t.Name) {
			sel = append(sel, t)
		}
		return err
	}
	for _, id := range r.ProductIDs {
		if err := add(s.Product(id, r.Cascade)); err != nil {
			return nil, err
		}
	}
	all := false
	for _, g := range r.Groups {
		if g = strings.TrimSpace(g); g == GroupAll {
			all = true
		} else if err := add(s.Group(g)); err != nil {
			return nil, err
		}
	}
	for _, p := range r.Patterns {
		if err := add(s.Pattern(p)); err != nil {
			return nil, err
		}
	}
	if all {
		if err := add(s.Group(GroupAll)); err != nil {
			return nil, err
		}
	}
	return sel, nil
}

func (sel Selection) has(name string) bool {
	for _, t := range sel {
		if t.Name == name {
			return true
		}
	}
	return false
}

// Names are the targets' names, in order.
func (sel Selection) Names() []string {
	names := make([]string, len(sel))
	for i, t := range sel {
		names[i] = t.Name
	}
	return names
}

// Summary names each target with its count: "products: 2, colors: 1".
func (sel Selection) Summary(counts []int64) string {
	parts := make([]string, len(sel))
	for i, t := range sel {
		parts[i] = fmt.Sprintf("%s: %d", t.Name, counts[i])
	}
	return strings.Join(parts, ", ")
}

// EmptyResult is the result of a clear of sel that found nothing to delete.
func EmptyResult(sel Selection) Result {
	res := Result{Complete: true, Targets: make([]TargetResult, len(sel))}
	for i, t := range sel {
		res.Targets[i].Name = t.Name
	}
	return res
}
