// Package clearflow is `cachectl clear` between its flags and keyspace: the
// targets the flags name, the settings that go together, and the gate that
// counts, refuses or asks before the first UNLINK. It prints nothing: the
// question is asked through a function the caller gives, and refusals are
// errors that carry their hint.
package clearflow

import (
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/keyspace"
)

// With --pause, the SCAN COUNT and UNLINK batch unless given: each command
// then costs Redis about a tenth of a millisecond.
const (
	GentleCount = 100
	GentleBatch = 100
)

// Options are clear's settings as its flags give them.
type Options struct {
	Targets
	// ClearConfig holds --count, --batch, --pause, --max-impact, --dry-run,
	// and --no-ttl and --ttl-below in its Conditions.
	keyspace.ClearConfig
	Yes     bool
	MaxKeys int64

	// Plan and Apply are the files of --plan and --apply.
	Plan, Apply string
	AllowDrift  int64
	// Asked are the selection's flags as given (--products=true), for the
	// plan file; Selects says which flags they are.
	Asked []string

	URLs    []string
	URLFile string
	Rewarm  bool
}

// ByURL says whether the keys to clear are those URLs use (--url, --url-file).
func (o *Options) ByURL() bool { return len(o.URLs) > 0 || o.URLFile != "" }

// CountsOnly says whether this clear deletes nothing: --dry-run, and
// --plan, which writes a plan file only.
func (o *Options) CountsOnly() bool { return o.DryRun || o.Plan != "" }

// Writes says what this clear would write, for --read-only's refusal; ""
// when it deletes nothing.
func (o *Options) Writes() string {
	switch {
	case o.CountsOnly():
		return ""
	case o.ByURL():
		return "clear --url deletes the keys the URLs use; --dry-run only lists them"
	case o.Apply != "":
		return "clear --apply deletes the plan's keys; --plan only writes a plan"
	}
	return "clear deletes keys; --dry-run only counts"
}

// Check refuses the settings that do not go together, and with --pause
// takes the gentle SCAN COUNT and UNLINK batch unless they were given.
// changed says whether a flag was given on the command line.
func (o *Options) Check(changed func(flag string) bool) error {
	if err := o.checkURL(changed); err != nil {
		return err
	}
	if err := o.checkPlan(changed); err != nil {
		return err
	}
	return o.bound(changed)
}

// checkURL refuses --url beside another target flag, and --rewarm without it.
func (o *Options) checkURL(changed func(flag string) bool) error {
	if !o.ByURL() {
		if o.Rewarm {
			return option.Errorf("--rewarm goes with --url or --url-file")
		}
		return nil
	}
	for _, f := range append(TargetFlags(), "--cascade") {
		if name := flagName(f); name != "url" && changed(name) {
			return option.Errorf("--url combines with no other target flag: drop %s", f)
		}
	}
	// A URL's keys are unlinked by name: there is no SCAN to tune or bound.
	for _, name := range []string{"max-keys", "count", "batch", "pause", "max-impact"} {
		if changed(name) {
			return option.Errorf("--%s tunes a SCAN, which --url does not run: drop it", name)
		}
	}
	if o.Rewarm && changed("dry-run") {
		return option.Errorf("--rewarm requests the URLs again after deleting, which --dry-run does not do")
	}
	return nil
}

// checkPlan refuses what --plan and --apply do not combine with.
func (o *Options) checkPlan(changed func(flag string) bool) error {
	switch {
	case o.AllowDrift < 0:
		return option.Errorf("--allow-drift must not be negative")
	case changed("allow-drift") && o.Apply == "":
		return option.Errorf("--allow-drift goes with --apply")
	case o.Plan != "" && o.Apply != "":
		return option.Errorf("--plan and --apply exclude each other: make the plan first, then apply it")
	case o.ByURL() && (o.Plan != "" || o.OldVersions || o.Conditions.Active()):
		return option.Errorf("--url deletes a URL's keys by name: --plan, --old-versions, --no-ttl and --ttl-below go with the SCAN targets")
	case o.Apply == "":
		return nil
	case len(o.Asked) > 0:
		return option.Errorf("--apply takes its targets from the plan: drop %s", strings.SplitN(o.Asked[0], "=", 2)[0])
	case changed("dry-run"):
		return option.Errorf("--apply deletes; the plan was the dry run (make a new one with --plan to see the keys now)")
	}
	return nil
}

// bound checks the sizes and, with --pause, takes the gentle SCAN COUNT
// and UNLINK batch unless they were given.
func (o *Options) bound(changed func(flag string) bool) error {
	cfg := o.ClearConfig
	cfg.Limit = o.MaxKeys
	if err := option.First(keyspace.CheckMaxImpact(o.MaxImpact, changed("max-impact")), cfg.Validate()); err != nil {
		return err
	}
	if o.Pause > 0 {
		// Gentle mode: pausing only helps other clients if no single
		// command holds Redis for long, so SCAN and UNLINK take small
		// bites unless told otherwise.
		if !changed("count") {
			o.Count = GentleCount
		}
		if !changed("batch") {
			o.Batch = GentleBatch
		}
	}
	return nil
}

// Clearing is the settings of the clear itself, on connections wrapped by
// wrap: --max-keys holds during a real clear even for keys written since the count.
func (o *Options) Clearing(wrap func(*redis.Client)) keyspace.ClearConfig {
	cfg := o.ClearConfig
	cfg.Wrap = wrap
	if !o.DryRun {
		cfg.Limit = o.MaxKeys
	}
	return cfg
}

// Counting is the settings of the gate's count.
func (o *Options) Counting() keyspace.CountConfig {
	return keyspace.CountConfig{Count: o.Count, MaxImpact: o.MaxImpact, Conditions: o.Conditions}
}
