// Package audit keeps the trail of what cachectl deleted: one JSON line per
// destructive action, appended to a file (by default in the XDG state
// directory) and, for teams, optionally to a Redis stream. A line is written
// whether the action completed or not, so that an interrupted clear is on
// record too. Lines never carry a secret: targets arrive redacted.
package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
)

// Entry is one destructive action.
type Entry struct {
	Time       time.Time `json:"time"`
	User       string    `json:"user"`
	Host       string    `json:"host"`
	Command    string    `json:"command"`           // "clear", "clear --url", "bench --cold", …
	Redis      string    `json:"redis"`             // the server, redacted
	Targets    []string  `json:"targets"`           // what was asked for: groups, patterns, URLs
	Counts     []int64   `json:"counts"`            // keys deleted per target, in Targets' order
	Deleted    int64     `json:"deleted"`           // all keys deleted
	Complete   bool      `json:"complete"`          // every target was cleared to the end
	DurationMs float64   `json:"duration_ms"`       // wall time of the action
	Error      string    `json:"error,omitempty"`   // why it did not complete
	DryRun     bool      `json:"dry_run,omitempty"` // nothing was deleted
}

// StreamMaxLen bounds the optional Redis stream (XADD MAXLEN ~).
const StreamMaxLen = 10000

// Append adds e to the file at path as one line, creating the file (0600)
// and its directory (0700) when needed. The line is written with one write
// call on a file opened for appending, so concurrent cachectl processes do
// not interleave their lines.
func Append(path string, e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("audit: write %s: %w", path, err)
	}
	return f.Close()
}

// Publish adds e to the stream key on c, capped near StreamMaxLen entries.
func Publish(ctx context.Context, c redis.UniversalClient, stream string, e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	err = c.XAdd(ctx, &redis.XAddArgs{Stream: stream, MaxLen: StreamMaxLen, Approx: true,
		Values: []any{"entry", string(b)}}).Err()
	if err != nil {
		return fmt.Errorf("audit: xadd %s: %w", stream, err)
	}
	return nil
}

// Read returns the entries of the file at path, oldest first; a missing
// file is an empty trail. A line that is not an entry (a torn last line
// after a crash) is skipped and counted in bad.
func Read(path string) (entries []Entry, bad int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	return read(f)
}

func read(r io.Reader) (entries []Entry, bad int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			bad++
			continue
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return entries, bad, fmt.Errorf("audit: read: %w", err)
	}
	return entries, bad, nil
}
