package observe

import (
	"slices"
	"testing"
	"time"
)

func TestParseLine(t *testing.T) {
	cases := []struct {
		in     string
		db     int
		client string
		args   []string
	}{
		{`1700000000.123456 [1 127.0.0.1:54321] "SET" "ecommerce:1:product:1" "v" "PX" "900000"`, 1, "127.0.0.1:54321",
			[]string{"SET", "ecommerce:1:product:1", "v", "PX", "900000"}},
		{`1700000000.1 [0 lua] "GET" "k"`, 0, "lua", []string{"GET", "k"}},
		{`1700000000.1 [0 unix:/run/redis.sock] "PING"`, 0, "unix:/run/redis.sock", []string{"PING"}},
		{`1700000000.1 [0 [::1]:6000] "GET" "a\"b\\c"`, 0, "[::1]:6000", []string{"GET", `a"b\c`}},
		{`1700000000.1 [3 10.0.0.1:1] "SET" "k" "\x80\x03}q\x00\n" "EX" "60"`, 3, "10.0.0.1:1",
			[]string{"SET", "k", "\x80\x03}q\x00\n", "EX", "60"}},
	}
	for _, c := range cases {
		l, err := parseLine(c.in)
		if err != nil || l.DB != c.db || l.Client != c.client || !slices.Equal(l.Args, c.args) {
			t.Errorf("parseLine(%s) = %+v, %v; want db %d client %s args %q", c.in, l, err, c.db, c.client, c.args)
		}
	}
	for _, bad := range []string{"OK", `17 [x 1.2.3.4:5] "GET"`, `17 [0 1.2.3.4:5] "GET`, `17 [0 1.2.3.4:5] "GET" "\x8"`} {
		if _, err := parseLine(bad); err == nil {
			t.Errorf("parseLine(%s) accepted a broken line", bad)
		}
	}
}

func TestOpsReadTheTTLArguments(t *testing.T) {
	cases := []struct {
		args []string
		kind Kind
		keys int
		ttl  time.Duration
	}{
		{[]string{"set", prefix + "a", "v", "px", "900000"}, Write, 1, 15 * time.Minute},
		{[]string{"SET", prefix + "a", "v", "NX", "EX", "60"}, Write, 1, time.Minute},
		{[]string{"SET", prefix + "a", "v"}, Write, 1, -1},
		{[]string{"SET", prefix + "a", "v", "KEEPTTL"}, Write, 1, 0},
		{[]string{"SETEX", prefix + "a", "30", "v"}, Write, 1, 30 * time.Second},
		{[]string{"MSET", prefix + "a", "1", "other:b", "2", prefix + "c", "3"}, Write, 2, -1},
		{[]string{"MGET", prefix + "a", prefix + "b", "session:x"}, Read, 2, 0},
		{[]string{"UNLINK", prefix + "a"}, Delete, 1, 0},
		{[]string{"GET", "ecommerce:2:a"}, Read, 0, 0},
		{[]string{"SCAN", "0", "MATCH", prefix + "*"}, Read, 0, 0},
	}
	for _, c := range cases {
		got := ops(c.args, prefix)
		if len(got) != c.keys {
			t.Errorf("%q: %d keys, want %d", c.args, len(got), c.keys)
			continue
		}
		for _, o := range got {
			if o.Kind != c.kind || o.TTL != c.ttl {
				t.Errorf("%q: %+v, want kind %d ttl %v", c.args, o, c.kind, c.ttl)
			}
		}
	}
}

// An X-Cache-Key is taken for elsewhere only when MONITOR saw the request
// use this server's cache, on other keys: a request that made no lookup
// here (a replica served it) proves nothing.
func TestUsedAnotherKey(t *testing.T) {
	const key = "ecommerce:1:product_colors:all"
	read := []KeyOp{{Key: key}}
	for _, tt := range []struct {
		name string
		tr   Trace
		want bool
	}{
		{"read the key", Trace{Mechanism: Monitor, Reads: read, Hits: 1}, false},
		{"lookups on other keys", Trace{Mechanism: Monitor, Hits: 1}, true},
		{"keys in another db", Trace{Mechanism: Monitor, OtherDBs: []int{0}}, true},
		{"no lookup here", Trace{Mechanism: Monitor}, false},
		{"the key among the noise", Trace{Mechanism: Monitor, Misses: 2, Noise: Noise{Keys: []string{key}}}, false},
		{"tracking sees no reads", Trace{Mechanism: Tracking, Hits: 1}, false},
	} {
		if got := tt.tr.UsedAnotherKey(key); got != tt.want {
			t.Errorf("%s: UsedAnotherKey = %v, want %v", tt.name, got, tt.want)
		}
	}
}
