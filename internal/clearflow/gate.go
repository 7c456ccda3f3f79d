package clearflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

var (
	// ErrNothingToClear ends a clear whose count found no key: nothing to
	// confirm, nothing touched.
	ErrNothingToClear = errors.New("nothing to clear")
	// ErrNotConfirmed is a question answered with anything but yes.
	ErrNotConfirmed = errors.New("not confirmed: nothing deleted")
)

// Refusal is a clear refused before it deleted anything: an *option.Error
// (a usage error, exit 2) with a hint that says how to proceed.
type Refusal struct {
	Err    error
	Advice string
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }
func (r *Refusal) Hint() string  { return r.Advice }

// Gate stands between a selection and its first UNLINK: --yes passes, a
// terminal asks, and without one it refuses; --max-keys refuses a larger
// count either way. A dry run deletes nothing, so it always passes.
type Gate struct {
	DryRun, Yes bool
	MaxKeys     int64
	// CanPrompt says there is a terminal to ask on.
	CanPrompt bool
	// Addr is the redacted server address, Where the target as refusals
	// name it (the address and db, or the cluster).
	Addr, Where string
	// NoTerminalHint is the refusal's hint without a terminal; "" for the
	// usual "add --yes to delete them, or --dry-run to only count".
	NoTerminalHint string
}

// NeedsCount says whether the gate must count before the clear: to show
// the counts, to refuse without a terminal, or to hold --max-keys.
func (g Gate) NeedsCount() bool {
	return !g.DryRun && (!g.Yes || g.MaxKeys > 0)
}

// Pass counts sel when the gate needs it, then refuses or asks: ask shows
// the counts and returns the answer. nil means go ahead; ErrNothingToClear
// means nothing matched.
func (g Gate) Pass(ctx context.Context, c redis.UniversalClient, sel keyspace.Selection, count keyspace.CountConfig,
	ask func(counts []int64, total int64) (bool, error)) error {
	if !g.NeedsCount() {
		return nil
	}
	counts, _, err := keyspace.CountPaced(ctx, c, sel, count)
	if err != nil {
		return fmt.Errorf("count keys on %s: %w", g.Addr, err)
	}
	return g.Counted(sel, counts, ask)
}

// Counted is Pass once the counts of sel are known.
func (g Gate) Counted(sel keyspace.Selection, counts []int64, ask func(counts []int64, total int64) (bool, error)) error {
	var total int64
	for _, n := range counts {
		total += n
	}
	switch {
	case total == 0:
		return ErrNothingToClear
	case g.MaxKeys > 0 && total > g.MaxKeys:
		return &Refusal{option.Errorf("refusing to delete %d keys (%s) from %s: more than --max-keys %d", total, sel.Summary(counts), g.Where, g.MaxKeys),
			"narrow the selection, or raise --max-keys if that many is expected"}
	}
	return g.Confirm(func() (bool, error) { return ask(counts, total) }, total, sel.Summary(counts))
}

// Confirm is the last step before deleting n keys (summary): --yes passes,
// a terminal asks, and without one it refuses.
func (g Gate) Confirm(ask func() (bool, error), n int64, summary string) error {
	switch {
	case g.Yes:
		return nil
	case g.CanPrompt:
		ok, err := ask()
		if err == nil && !ok {
			err = ErrNotConfirmed
		}
		return err
	}
	hint := g.NoTerminalHint
	if hint == "" {
		hint = "add --yes to delete them, or --dry-run to only count"
	}
	return &Refusal{option.Errorf("refusing to delete %d keys (%s) from %s without confirmation: no terminal to ask on", n, summary, g.Where), hint}
}

// ConfirmApply is keyspace.ApplyConfig's Confirm behind the gate: ask
// shows the plan and its drift; a plan with no key left passes, and one of
// more keys than --max-keys is refused, as any clear is.
func (g Gate) ConfirmApply(ask func(keyspace.Drift) (bool, error)) func(int64, keyspace.Drift) error {
	g.NoTerminalHint = "add --yes to delete them"
	return func(n int64, d keyspace.Drift) error {
		switch {
		case n == 0:
			return nil
		case g.MaxKeys > 0 && n > g.MaxKeys:
			return &Refusal{option.Errorf("refusing to delete %d keys (the plan's keys) from %s: more than --max-keys %d", n, g.Where, g.MaxKeys),
				"make a smaller plan, or raise --max-keys if that many is expected"}
		}
		return g.Confirm(func() (bool, error) { return ask(d) }, n, "the plan's keys")
	}
}

// ConfirmURLs is observe.URLClear's Confirm behind the gate: ask shows the
// distinct keys learned, by their logical names under prefix.
func (g Gate) ConfirmURLs(prefix string, ask func(keys []string) (bool, error)) func([]observe.URLKeys) (bool, error) {
	return func(us []observe.URLKeys) (bool, error) {
		keys := observe.LogicalKeys(us, prefix)
		err := g.Confirm(func() (bool, error) { return ask(keys) }, int64(len(keys)), strings.Join(keys, ", "))
		return err == nil, err
	}
}
