package inspect

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/redistest"
)

// Watch hands over readings whose rates are against the previous one, and
// ends with the context.
func TestWatchReadsEveryInterval(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []Reading
	err := Watch(ctx, c, WatchConfig{Interval: 10 * time.Millisecond}, func(r Reading) {
		got = append(got, r)
		if len(got) == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(got) != 3 {
		t.Fatalf("%d readings, want 3", len(got))
	}
	if !got[0].Rate.SinceStart || got[1].Rate.SinceStart || got[1].Err != nil || got[1].Snapshot.Addr != srv.Addr {
		t.Errorf("readings %+v", got)
	}
}

// While Redis is away each turn says so, and the next try is no later than
// RetryEvery whatever the interval.
func TestWatchRetriesWhileAway(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var at []time.Time
	err := Watch(ctx, c, WatchConfig{Interval: time.Hour}, func(r Reading) {
		if r.Err == nil {
			t.Errorf("a reading without an error from a stopped server: %+v", r)
		}
		at = append(at, r.At)
		if len(at) == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || len(at) != 2 {
		t.Fatalf("err = %v after %d readings", err, len(at))
	}
	if gap := at[1].Sub(at[0]); gap > RetryEvery+time.Second {
		t.Errorf("retried after %s, want at most %s", gap, RetryEvery)
	}
}

// A user that may not run INFO ends the watch: retrying will not help.
func TestWatchStopsWhenNotPermitted(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{ACL: []string{"noinfo on >pw ~* +@all -info"}})
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: "noinfo", Password: "pw", DisableIdentity: true})
	defer c.Close()
	err := Watch(context.Background(), c, WatchConfig{}, func(r Reading) { t.Errorf("reading %+v", r) })
	if !NotPermitted(err) {
		t.Fatalf("err = %v, want NOPERM", err)
	}
}

// Read counts the groups only when asked, and names the command that failed.
func TestRead(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := client(t, srv)
	fill(t, c, map[string]int{"ecommerce:1:product:%d": 3})
	rep, err := Read(ctx, c, nil, 100)
	if err != nil || rep.Groups != nil || rep.GroupsEmpty() || rep.Snapshot.Keys(0) != 3 {
		t.Fatalf("without groups: %+v, %v", rep, err)
	}
	rep, err = Read(ctx, c, groupsSelection(t), 100)
	if err != nil || len(rep.Groups) != 3 || rep.Groups[0].Keys != 3 || rep.GroupsEmpty() {
		t.Fatalf("with groups: %+v, %v", rep.Groups, err)
	}
	srv.Stop()
	_, err = Read(ctx, c, nil, 100)
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Command != "INFO" {
		t.Errorf("err = %v, want a CommandError for INFO", err)
	}
}
