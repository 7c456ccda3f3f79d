// Package keyspace knows how a django-redis cache lays out its keys, which keys
// belong to which group, and how to find and delete them safely.
package keyspace

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Sentinel errors; callers check them with errors.Is.
var (
	// ErrMatchAll is returned for a pattern that would match every key (`*`, `?*`, empty).
	ErrMatchAll = errors.New("pattern matches every key")
	// ErrUnknownGroup is returned for a group name the schema does not define.
	ErrUnknownGroup = errors.New("unknown group")
	// ErrInvalidID is returned for a product id that is not a positive integer.
	ErrInvalidID = errors.New("invalid product id")
)

// Defaults of the django-redis deployment that cachectl was built for.
const (
	DefaultPrefix  = "ecommerce"
	DefaultVersion = 1
)

// Names of the built-in groups.
const (
	GroupProducts   = "products"
	GroupCategories = "categories"
	GroupColors     = "colors"
	GroupAll        = "all"
)

// Group is a named family of logical keys, given as Redis globs relative to the
// schema's namespace. A built-in group (registry.go) also says what of it
// the catalog invalidates.
type Group struct {
	Name     string
	Patterns []string
	// Families are the catalog's invalidation families of the group's keys;
	// a config file's groups have none.
	Families []Family
}

// Schema is the django-redis key layout PREFIX:VERSION:KEY plus the groups.
type Schema struct {
	Prefix  string
	Version int
	groups  []Group
}

// New returns the schema for prefix and version with the built-in groups
// (the registry, Builtin).
func New(prefix string, version int) Schema {
	return Schema{Prefix: prefix, Version: version, groups: Builtin()}
}

// WithGroups returns a copy of s that also has the given groups (from a config
// file). Their patterns are globs inside the namespace; a pattern that would
// match every key, or a name that clashes with a built-in, is refused.
func (s Schema) WithGroups(extra []Group) (Schema, error) {
	out := s
	out.groups = slices.Clone(s.groups)
	for _, g := range extra {
		if err := validGroup(g, out.groups); err != nil {
			return Schema{}, err
		}
		out.groups = append(out.groups, Group{Name: g.Name, Patterns: slices.Clone(g.Patterns)})
	}
	return out, nil
}

func validGroupName(name string) error {
	if name == "" {
		return errors.New("group name is empty")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("group name %q: use lower-case letters, digits, '-' and '_'", name)
		}
	}
	return nil
}

// Namespace is the literal start of every key of the schema: "PREFIX:VERSION:".
func (s Schema) Namespace() string {
	return s.Prefix + ":" + strconv.Itoa(s.Version) + ":"
}

// Key returns the Redis key of a logical key, as django-redis's default key function does.
func (s Schema) Key(logical string) string {
	return s.Namespace() + logical
}

// Logical strips the namespace from a Redis key; ok is false for keys outside it.
func (s Schema) Logical(key string) (logical string, ok bool) {
	return strings.CutPrefix(key, s.Namespace())
}

// Groups lists the groups, built-ins first, without "all".
func (s Schema) Groups() []Group {
	return slices.Clone(s.groups)
}

// GroupNames lists the names accepted by Group, "all" last.
func (s Schema) GroupNames() []string {
	names := make([]string, 0, len(s.groups)+1)
	for _, g := range s.groups {
		names = append(names, g.Name)
	}
	return append(names, GroupAll)
}

// Group returns the target for a named group. "all" is the union of every
// defined group: never the whole database, never other keys under the prefix.
func (s Schema) Group(name string) (Target, error) {
	if name == GroupAll {
		var globs []string
		for _, g := range s.groups {
			globs = append(globs, s.globs(g.Patterns)...)
		}
		return Target{Name: GroupAll, Globs: globs}, nil
	}
	for _, g := range s.groups {
		if g.Name == name {
			return Target{Name: g.Name, Globs: s.globs(g.Patterns)}, nil
		}
	}
	return Target{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownGroup, name, strings.Join(s.GroupNames(), ", "))
}

// Selection is one target per group of the schema, in order, without "all"
// (their union): what keys, stats and top count.
func (s Schema) Selection() Selection {
	sel := make(Selection, len(s.groups))
	for i, g := range s.groups {
		sel[i] = Target{Name: g.Name, Globs: s.globs(g.Patterns)}
	}
	return sel
}

// Product returns the target for one product: exactly `product:ID` and
// `product:ID:*`; cascade adds every `products:*` listing, which may embed it.
func (s Schema) Product(id int64, cascade bool) (Target, error) {
	if id <= 0 {
		return Target{}, fmt.Errorf("%w: %d (ids are positive integers)", ErrInvalidID, id)
	}
	logical := ProductKey(id)
	t := Target{
		Name:  logical,
		Globs: []string{s.literal(logical), s.literal(logical+":") + "*"},
	}
	if cascade {
		t.Globs = append(t.Globs, s.literal(productsPrefix)+"*")
	}
	return t, nil
}

// Pattern returns a target for a user's glob, applied inside the namespace.
func (s Schema) Pattern(glob string) (Target, error) {
	if err := checkPattern(glob); err != nil {
		return Target{}, fmt.Errorf("%q: %w", glob, err)
	}
	return Target{Name: "pattern:" + glob, Globs: s.globs([]string{glob})}, nil
}

func (s Schema) literal(logical string) string {
	return EscapeGlob(s.Namespace() + logical)
}

func (s Schema) globs(patterns []string) []string {
	ns := EscapeGlob(s.Namespace())
	out := make([]string, len(patterns))
	for i, p := range patterns {
		out[i] = ns + p
	}
	return out
}

// checkPattern refuses globs that would match every key: empty, or made only of
// `*` and `?` with at least one `*` (`*`, `**`, `?*`, `*?*`...), or any other
// spelling that accepts every one of a spread of unlike keys (`[^]*`, `*[^]`).
func checkPattern(glob string) error {
	if glob == "" {
		return ErrMatchAll
	}
	if strings.Trim(glob, "*?") == "" && strings.Contains(glob, "*") {
		return ErrMatchAll
	}
	for _, k := range unlikeKeys {
		if !Match(glob, k) {
			return nil
		}
	}
	return ErrMatchAll
}

// unlikeKeys share no character and no length: a pattern that matches all of
// them is as good as `*`.
var unlikeKeys = []string{"a", "Z9", ":", "session:abc", "product:1:variants", "\xff\x00", "x y", "[", "\\", "categories:all", "0123456789abcdef0123456789abcdef0123456789"}

// Target is a set of keys to act on, as full Redis glob patterns whose
// namespace part is escaped.
type Target struct {
	Name  string   `json:"name"`
	Globs []string `json:"globs"`
	// Old, when set, makes the target the keys of other versions than the
	// current one (OldVersions); Globs then only guide SCAN.
	Old *OldVersions `json:"old_versions,omitempty"`
}

// Match reports whether key belongs to the target.
func (t Target) Match(key string) bool {
	if t.Old != nil {
		return t.Old.match(key)
	}
	for _, g := range t.Globs {
		if Match(g, key) {
			return true
		}
	}
	return false
}

// Selection is what one command acts on: one or more targets, found in one SCAN pass.
type Selection []Target

// ScanMatch is the MATCH pattern for one SCAN pass that covers every target:
// the longest literal prefix they share, escaped, then `*`. Each key SCAN
// returns must still be checked with Classify. A selection without a literal
// prefix (empty, or built by hand without a namespace) is refused with ErrMatchAll.
func (sel Selection) ScanMatch() (string, error) {
	first := true
	var common string
	for _, t := range sel {
		for _, g := range t.Globs {
			lit, _ := LiteralPrefix(g)
			if first {
				common, first = lit, false
				continue
			}
			common = commonPrefix(common, lit)
		}
	}
	if common == "" {
		return "", ErrMatchAll
	}
	return EscapeGlob(common) + "*", nil
}

// Classify returns the index of the first target key belongs to, or -1.
func (sel Selection) Classify(key string) int {
	for i, t := range sel {
		if t.Match(key) {
			return i
		}
	}
	return -1
}

func commonPrefix(a, b string) string {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return a[:i]
		}
	}
	return a[:n]
}
