package keyspace

import "strings"

// Named is the groups named, in the order given (`keys --group`); no name
// at all is every group of the schema (Selection).
func (s Schema) Named(names []string) (Selection, error) {
	if len(names) == 0 {
		return s.Selection(), nil
	}
	var sel Selection
	for _, n := range names {
		t, err := s.Group(strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		sel = append(sel, t)
	}
	return sel, nil
}
