package topfeed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/keyspace"
	"github.com/cachectl/cachectl/tui"
)

// Against a real Redis: the details of a group find its planted biggest
// key first, its keys without a TTL and its TTL spread; the dry-run count
// is the count clear --dry-run makes; neither deletes anything.
func TestDetailAndCount(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	for i := range 12 {
		c.Set(ctx, fmt.Sprintf("ecommerce:1:product:%d", i+1), "v", 10*time.Minute)
	}
	c.Set(ctx, "ecommerce:1:products:top_sellers", strings.Repeat("x", 50<<10), 0)
	c.Set(ctx, "ecommerce:1:product_colors:all", "v", 0) // colors, not products
	schema := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion)
	r := Redis{Client: c, Selection: schema.Selection()}

	d, err := r.Detail(ctx, keyspace.GroupProducts)
	if err != nil {
		t.Fatal(err)
	}
	if d.Keys != 13 || d.Sampled != 13 || d.NoTTL != 1 || !d.TTLExact {
		t.Errorf("keys %d, sampled %d, no ttl %d, exact %v; want 13, 13, 1, true", d.Keys, d.Sampled, d.NoTTL, d.TTLExact)
	}
	if len(d.Biggest) == 0 || d.Biggest[0].Key != "ecommerce:1:products:top_sellers" || d.Biggest[0].Bytes < 50<<10 {
		t.Errorf("biggest %+v, want the 50K top sellers first", d.Biggest)
	}
	if !d.TTLKnown || d.TTLP50 <= 9*time.Minute || d.TTLP50 > 10*time.Minute {
		t.Errorf("ttl p50 %s (known %v), want about 10m", d.TTLP50, d.TTLKnown)
	}
	var noTTL, upTo15m int64
	for _, b := range d.Histogram {
		switch {
		case b.Upper < 0:
			noTTL += b.Count
		case b.Upper == 15*time.Minute:
			upTo15m += b.Count
		case b.Upper == tui.TTLOver && b.Count > 0:
			t.Errorf("keys beyond the last bound: %+v", b)
		}
	}
	if noTTL != 1 || upTo15m != 12 {
		t.Errorf("histogram %+v: %d without TTL and %d up to 15m, want 1 and 12", d.Histogram, noTTL, upTo15m)
	}

	n, err := r.Count(ctx, keyspace.GroupProducts)
	if err != nil || n != 13 {
		t.Errorf("count %d (%v), want 13", n, err)
	}
	if size := c.DBSize(ctx).Val(); size != 14 {
		t.Errorf("%d keys after details and dry run, want the 14 seeded", size)
	}
	if _, err := r.Count(ctx, "sessions"); !errors.Is(err, keyspace.ErrUnknownGroup) {
		t.Errorf("count of an unknown group: %v, want ErrUnknownGroup", err)
	}
}
