package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redact"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/observe"
)

// DefaultPath is $XDG_STATE_HOME/cachectl/audit.jsonl, else
// $HOME/.local/state/cachectl/audit.jsonl; "" when neither is set.
func DefaultPath(getenv func(string) string) string {
	if dir := getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "cachectl", "audit.jsonl")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "state", "cachectl", "audit.jsonl")
	}
	return ""
}

// Path is the trail's file: file (--audit-file) when set, else DefaultPath.
func Path(file string, getenv func(string) string) string {
	if file != "" {
		return file
	}
	return DefaultPath(getenv)
}

// StreamKey is the team stream of the trail: PREFIX:cachectl:audit. It
// lies outside PREFIX:VERSION:, where the app's keys and every group and
// pattern of cachectl live, so no clear can match it.
func StreamKey(prefix string) string { return prefix + ":cachectl:audit" }

// Who is the user and the host an entry names.
func Who() (name, host string) {
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ = os.Hostname()
	return name, host
}

// Trail is where the lines of destructive actions go.
type Trail struct {
	Path   string                // the file; "" when no state directory is known
	Stream string                // the team stream; "" for none
	Redis  redis.UniversalClient // where Stream lives
}

// recordTimeout bounds the writing of a line whose action was interrupted.
const recordTimeout = 2 * time.Second

// Record appends e to the file and, with a stream, adds it there, filling
// in the user and the host. When ctx is cancelled (the action was
// interrupted) the stream is written under a fresh short context: the line
// of an interrupted action is the one that matters most.
func (t Trail) Record(ctx context.Context, e Entry) error {
	if e.User == "" && e.Host == "" {
		e.User, e.Host = Who()
	}
	var errs []error
	if t.Path == "" {
		errs = append(errs, errors.New("audit: no state directory (set XDG_STATE_HOME or --audit-file)"))
	} else if err := Append(t.Path, e); err != nil {
		errs = append(errs, err)
	}
	if t.Stream != "" && t.Redis != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		errs = append(errs, Publish(sctx, t.Redis, t.Stream, e))
	}
	return errors.Join(errs...)
}

// ReadStream returns the entries of the stream key on c, oldest first; an
// entry that does not parse is counted in bad.
func ReadStream(ctx context.Context, c redis.UniversalClient, stream string) (entries []Entry, bad int, err error) {
	msgs, err := c.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("audit: xrange %s: %w", stream, err)
	}
	for _, m := range msgs {
		var e Entry
		s, _ := m.Values["entry"].(string)
		if json.Unmarshal([]byte(s), &e) != nil {
			bad++
			continue
		}
		entries = append(entries, e)
	}
	return entries, bad, nil
}

// Last returns the entries at or after since (all when zero), at most the
// last limit of them (all when limit <= 0), oldest first.
func Last(entries []Entry, since time.Time, limit int) []Entry {
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if since.IsZero() || !e.Time.Before(since) {
			out = append(out, e)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}

// Deletes counts the keys that UNLINK and DEL remove through the clients
// it hooks (redisconn.Config.Hooks): the deleted count of a job, such as
// bench's cold phase, that does not report one.
type Deletes struct{ n atomic.Int64 }

// Count is the keys deleted so far.
func (d *Deletes) Count() int64 { return d.n.Load() }

func (d *Deletes) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (d *Deletes) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		d.add(cmd)
		return err
	}
}

func (d *Deletes) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			d.add(cmd)
		}
		return err
	}
}

func (d *Deletes) add(cmd redis.Cmder) {
	ic, ok := cmd.(*redis.IntCmd)
	if !ok || ic.Err() != nil || len(cmd.Args()) == 0 {
		return
	}
	if name := strings.ToLower(fmt.Sprint(cmd.Args()[0])); name == "unlink" || name == "del" {
		d.n.Add(ic.Val())
	}
}

// New is the entry of command, started at start and ended now: its targets
// and the keys deleted from each, in the same order. It is complete only
// when complete is and err is nil.
func New(command string, start time.Time, targets []string, counts []int64, complete bool, err error) Entry {
	e := Entry{Time: start.UTC(), Command: command, Targets: targets, Counts: counts,
		Complete: complete && err == nil, DurationMs: float64(time.Since(start).Microseconds()) / 1000}
	if e.Targets == nil {
		e.Targets = []string{}
	}
	if e.Counts == nil {
		e.Counts = []int64{}
	}
	for _, n := range counts {
		e.Deleted += n
	}
	if err != nil {
		e.Error, _, _ = strings.Cut(err.Error(), "\n")
	}
	return e
}

// OfClear is the entry of a keyspace clear: one target per selection target.
func OfClear(command string, res keyspace.Result, err error) Entry {
	var targets []string
	var counts []int64
	for _, t := range res.Targets {
		targets, counts = append(targets, t.Name), append(counts, t.Deleted)
	}
	e := New(command, time.Now().Add(-res.Duration), targets, counts, res.Complete, err)
	e.Deleted = res.Deleted // a key in two targets counts once
	return e
}

// OfURLClear is the entry of a clear --url: one target per URL, with the
// keys deleted for it.
func OfURLClear(res observe.URLClearResult, err error) Entry {
	var urls []string
	var counts []int64
	for _, u := range res.URLs {
		n := int64(0)
		for _, k := range u.Keys {
			if k.Deleted {
				n++
			}
		}
		urls, counts = append(urls, redact.URL(u.URL)), append(counts, n)
	}
	return New("clear --url", time.Now().Add(-res.Duration), urls, counts, res.Complete, err)
}

// OfBench is the entry of a bench run whose cold phase cleared the keys of
// the endpoints cold; deleted counts the keys the run's connection deleted
// (nil: none counted).
func OfBench(start time.Time, cold []string, complete bool, err error, deleted func() int64) Entry {
	e := New("bench", start, cold, nil, complete, err)
	if deleted != nil {
		e.Deleted = deleted()
	}
	return e
}
