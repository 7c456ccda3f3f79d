package clearflow

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/keyspace"
)

// Targets are the flags that name what to clear.
type Targets struct {
	All bool
	// Flagged holds the flags of the registry's groups (--products, ...),
	// by group name.
	Flagged    map[string]*bool
	ProductIDs []string
	Groups     []string
	Patterns   []string
	Cascade    bool
	// OldVersions turns the targets into their keys under every other
	// version than the schema's.
	OldVersions bool
}

// TargetFlags are the ways to name a target: --all, a flag per group of
// the registry, --product-id N, --group NAME, --pattern GLOB, --url URL.
func TargetFlags() []string {
	flags := []string{"--all"}
	for _, g := range keyspace.Builtin() {
		flags = append(flags, "--"+g.Name)
	}
	return append(flags, "--product-id N", "--group NAME", "--pattern GLOB", "--url URL")
}

// Selects says whether the flag named name chooses the keys a clear acts
// on: a target flag, or one that narrows the targets. A plan records them.
func Selects(name string) bool {
	return slices.ContainsFunc(append(TargetFlags(), "--cascade", "--old-versions", "--no-ttl", "--ttl-below"),
		func(f string) bool { return flagName(f) == name })
}

// flagName is "product-id" for "--product-id N".
func flagName(f string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), " ")
	return name
}

// Select turns the target flags into one Selection (keyspace.Select):
// product ids, the registry's group flags and --group in that order,
// patterns, and --all last.
func (t Targets) Select(s keyspace.Schema) (keyspace.Selection, error) {
	if t.Cascade && len(t.ProductIDs) == 0 {
		return nil, option.Errorf("--cascade goes with --product-id")
	}
	req := keyspace.Request{Cascade: t.Cascade, Patterns: t.Patterns}
	for _, raw := range t.ProductIDs {
		id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--product-id %q: %w", raw, keyspace.ErrInvalidID)
		}
		req.ProductIDs = append(req.ProductIDs, id)
	}
	for _, g := range s.Groups() {
		if on := t.Flagged[g.Name]; on != nil && *on {
			req.Groups = append(req.Groups, g.Name)
		}
	}
	req.Groups = append(req.Groups, t.Groups...)
	if t.All {
		req.Groups = append(req.Groups, keyspace.GroupAll)
	}
	sel, err := s.Select(req)
	switch {
	case errors.Is(err, keyspace.ErrMatchAll):
		return nil, fmt.Errorf("--pattern %w", err) // only a pattern can match every key
	case err != nil:
		return nil, err
	case len(sel) == 0:
		flags := TargetFlags()
		return nil, option.Errorf("say what to clear: %s or %s", strings.Join(flags[:len(flags)-1], ", "), flags[len(flags)-1])
	case t.OldVersions:
		return s.OldVersions(sel), nil
	}
	return sel, nil
}
