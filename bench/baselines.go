package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/option"
)

// Baselines is a directory of named baselines, NAME.json each: reports of
// earlier runs kept by --save-baseline and read back by --baseline NAME.
// The history of runs (HistoryFile) lives beside them.
type Baselines struct {
	Dir string
}

// HistoryFile is the name of the history kept in a baselines directory.
const HistoryFile = "history.jsonl"

// History is the history file beside the baselines.
func (b Baselines) History() string { return filepath.Join(b.Dir, HistoryFile) }

var baselineName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// IsBaselineFile says whether a --baseline value names a file rather than
// a baseline: it has a path separator or ends in .json.
func IsBaselineFile(ref string) bool {
	return strings.ContainsRune(ref, '/') || strings.ContainsRune(ref, filepath.Separator) ||
		strings.HasSuffix(strings.ToLower(ref), ".json")
}

// ValidBaselineName refuses a name that is not a baseline's (an
// *option.Error naming flag): letters, digits, '-', '_' and '.', not first.
func ValidBaselineName(flag, name string) error {
	switch {
	case strings.HasSuffix(strings.ToLower(name), ".json"):
		return option.Errorf("--%s %q: name the baseline without .json (a value ending in .json is a file)", flag, name)
	case !baselineName.MatchString(name):
		return option.Errorf("--%s %q: a baseline name is letters, digits, '-', '_' and '.' (not first)", flag, name)
	}
	return nil
}

// Names lists the baselines saved, sorted; none when the directory does
// not exist yet.
func (b Baselines) Names() ([]string, error) {
	entries, err := os.ReadDir(b.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("baselines: %w", err)
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && e.Type().IsRegular() && baselineName.MatchString(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// Open reads what a --baseline value names: a file (IsBaselineFile), or
// a baseline of b (Load). Errors are *option.Error.
func (b Baselines) Open(ref string) (*Report, error) {
	if !IsBaselineFile(ref) {
		return b.Load(ref)
	}
	fh, err := os.Open(ref)
	if err != nil {
		return nil, option.Errorf("--baseline: %w", err)
	}
	defer fh.Close()
	rep, err := ReadBaseline(fh)
	if err != nil {
		return nil, option.Errorf("--baseline %s: %w", ref, err)
	}
	return rep, nil
}

// Load reads baseline name. One that is not saved is an *option.Error
// that lists those that are.
func (b Baselines) Load(name string) (*Report, error) {
	if err := ValidBaselineName("baseline", name); err != nil {
		return nil, err
	}
	fh, err := os.Open(filepath.Join(b.Dir, name+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		have, _ := b.Names()
		saved := "none is saved there yet: --save-baseline " + name + " saves one"
		if len(have) > 0 {
			saved = "saved: " + strings.Join(have, ", ")
		}
		return nil, option.Errorf("--baseline %s: no baseline %q in %s (%s)", name, name, b.Dir, saved)
	}
	if err != nil {
		return nil, fmt.Errorf("--baseline %s: %w", name, err)
	}
	defer fh.Close()
	rep, err := ReadBaseline(fh)
	if err != nil {
		return nil, option.Errorf("--baseline %s (%s): %w", name, fh.Name(), err)
	}
	return rep, nil
}

// Save writes rep as baseline name, atomically: a reader, or a run that
// reads the baseline at the same moment, sees the old report or the new
// one, never half of one. The directory is made if needed.
func (b Baselines) Save(name string, rep Report) error {
	if err := ValidBaselineName("save-baseline", name); err != nil {
		return err
	}
	var data bytes.Buffer
	enc := json.NewEncoder(&data)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return fmt.Errorf("save baseline %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(b.Dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("save baseline %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing left to remove
	_, err = tmp.Write(data.Bytes())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(b.Dir, name+".json"))
	}
	if err != nil {
		return fmt.Errorf("save baseline %s: %w", name, err)
	}
	return nil
}

// Keeper keeps what a run leaves besides its report: the run saved as a
// named baseline, and a line in a history file.
type Keeper struct {
	Baselines Baselines
	SaveAs    string // --save-baseline NAME; "" saves none
	Baseline  string // --baseline's value (a name or a file); "" for none
	// History is the history file to append to. "" is the baselines'
	// History when the run is saved as, or compared with, a named baseline,
	// and no history otherwise.
	History string
}

// Keep saves rep as SaveAs when it passed (a run that failed, or was
// interrupted, never replaces a baseline) and appends its history line,
// stamped now. saved says whether rep was saved.
func (k Keeper) Keep(rep Report, now time.Time) (saved bool, err error) {
	if k.SaveAs != "" && rep.Passed && rep.Complete {
		if err := k.Baselines.Save(k.SaveAs, rep); err != nil {
			return false, err
		}
		saved = true
	}
	savedAs := ""
	if saved {
		savedAs = k.SaveAs
	}
	entry := NewHistoryEntry(rep, now, k.Baseline, savedAs)
	switch {
	case k.History != "":
		return saved, AppendHistory(k.History, entry)
	case k.SaveAs != "" || (k.Baseline != "" && !IsBaselineFile(k.Baseline)):
		if err := os.MkdirAll(k.Baselines.Dir, 0o755); err != nil {
			return saved, fmt.Errorf("history: %w", err)
		}
		return saved, AppendHistory(k.Baselines.History(), entry)
	}
	return saved, nil
}
