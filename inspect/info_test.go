package inspect

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Variations seen from servers other than the installed one, written out by
// hand from their documented formats, plus malformed input.
const (
	// Redis 2.4 and older: no section headers at all.
	redis24 = "redis_version:2.4.17\r\nrole:master\r\nconnected_clients:3\r\nused_memory:1048576\r\n" +
		"keyspace_hits:10\r\nkeyspace_misses:5\r\ndb0:keys=7,expires=2\r\n"
	// Valkey 8: redis_version is a compatibility claim; server_name says who it is.
	valkey8 = "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\n" +
		"# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=1000,subexpiry=0\r\n"
	// Redis 6: cmdstat lines without rejected_calls and failed_calls.
	redis6Cmdstats = "# Commandstats\ncmdstat_get:calls=12,usec=30,usec_per_call=2.50\n" +
		"cmdstat_client|list:calls=1,usec=9,usec_per_call=9.00\n"
)

func TestParseInfoVariations(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		check func(t *testing.T, in Info)
	}{
		{"no sections (redis 2.4)", redis24, func(t *testing.T, in Info) {
			s := FromInfo(in)
			if s.Version != "2.4.17" || s.Clients != 3 || s.Hits != 10 || s.Misses != 5 {
				t.Errorf("snapshot %+v", s)
			}
			if db := s.DBs[0]; db.Keys != 7 || db.Expires != 2 || db.AvgTTLMs != 0 {
				t.Errorf("db0 %+v", db)
			}
			// Fields that server never sent are reported missing, not zero.
			for _, f := range []string{"evicted_keys", "maxmemory_policy", "total_net_input_bytes"} {
				if s.Has(f) {
					t.Errorf("%s reported as sent", f)
				}
			}
			if !s.Has("keyspace_hits") {
				t.Error("keyspace_hits reported missing")
			}
		}},
		{"valkey names itself", valkey8, func(t *testing.T, in Info) {
			if v, _ := in.Version(); v != "8.0.1" {
				t.Errorf("version %q, want valkey's own 8.0.1", v)
			}
			db := in.Keyspace()[0]
			if db.Keys != 3 || db.AvgTTLMs != 1000 || db.Other["subexpiry"] != "0" {
				t.Errorf("db0 %+v", db)
			}
		}},
		{"redis 6 cmdstats, LF only", redis6Cmdstats, func(t *testing.T, in Info) {
			cs := in.CommandStats()
			if cs["get"] != (CommandStat{Calls: 12, Usec: 30, UsecPerCall: 2.5}) {
				t.Errorf("get %+v", cs["get"])
			}
			if cs["client|list"].Calls != 1 {
				t.Errorf("subcommand %+v", cs["client|list"])
			}
		}},
		{"values with colons", "# Server\r\nexecutable:/opt/redis:7/bin/redis-server\r\nconfig_file:\r\n" +
			"# Replication\r\nrole:slave\r\nmaster_host:::1\r\nslave0:ip=::1,port=6380,state=online,offset=42,lag=1\r\n",
			func(t *testing.T, in Info) {
				if v, _ := in.Get("executable"); v != "/opt/redis:7/bin/redis-server" {
					t.Errorf("executable %q", v)
				}
				if v, ok := in.Get("config_file"); !ok || v != "" {
					t.Errorf("empty config_file: %q %v, want present and empty", v, ok)
				}
				if v, _ := in.Get("master_host"); v != "::1" {
					t.Errorf("master_host %q", v)
				}
				want := []Replica{{Addr: "[::1]:6380", State: "online", Offset: 42, Lag: 1}}
				if got := in.Replicas(); !reflect.DeepEqual(got, want) {
					t.Errorf("replicas %+v", got)
				}
			}},
		{"mixed line ends, blanks, header without space, garbage", "#SERVER\n\n  redis_version:7.4.0  \r\n" +
			"this line has no colon\r\n:value without a key\r\n#\r\n# Stats\nkeyspace_hits:12.0\rkeyspace_misses:x\r\n",
			func(t *testing.T, in Info) {
				if got := in.Sections(); !slices.Equal(got, []string{"server", "stats"}) {
					t.Errorf("sections %v", got)
				}
				if v, _ := in.Version(); v != "7.4.0" {
					t.Errorf("version %q", v)
				}
				// A lone \r is not a line end: the value holds it and is no number.
				if _, ok := in.Int("keyspace_hits"); ok {
					t.Error("keyspace_hits with an embedded \\r parsed as a number")
				}
			}},
		{"numbers as floats, bad numbers", "# Stats\r\nkeyspace_hits:12.0\r\nkeyspace_misses:NaN\r\nevicted_keys:1e3\r\nexpired_keys:2.5\r\n",
			func(t *testing.T, in Info) {
				if n, ok := in.Int("keyspace_hits"); !ok || n != 12 {
					t.Errorf("12.0 -> %d %v", n, ok)
				}
				if n, ok := in.Int("evicted_keys"); !ok || n != 1000 {
					t.Errorf("1e3 -> %d %v", n, ok)
				}
				for _, f := range []string{"keyspace_misses", "expired_keys"} {
					if _, ok := in.Int(f); ok {
						t.Errorf("%s read as an integer", f)
					}
				}
				if _, ok := in.Float("keyspace_misses"); ok {
					t.Error("NaN read as a number")
				}
			}},
		{"malformed keyspace lines", "# Keyspace\r\ndb0:garbage\r\ndb1:keys=x,expires=1\r\ndbx:keys=1\r\ndb2:expires=1,keys=4,,=,junk\r\ndb_3:keys=1\r\n",
			func(t *testing.T, in Info) {
				ks := in.Keyspace()
				if len(ks) != 1 || ks[2].Keys != 4 || ks[2].Expires != 1 {
					t.Errorf("keyspace %+v, want only db2 with 4 keys", ks)
				}
			}},
		{"unknown section and field", "# Keysizes\r\ndb0_distrib_strings_sizes:1=3\r\n# Server\r\nfuture_field:yes\r\n",
			func(t *testing.T, in Info) {
				if len(in.Keyspace()) != 0 {
					t.Errorf("keysizes read as keyspace: %+v", in.Keyspace())
				}
				if v, _ := in.Get("future_field"); v != "yes" {
					t.Errorf("future_field %q", v)
				}
				if in.Section("keysizes")["db0_distrib_strings_sizes"] != "1=3" {
					t.Errorf("keysizes %v", in.Section("keysizes"))
				}
			}},
		{"empty", "", func(t *testing.T, in Info) {
			s := FromInfo(in)
			if s.Version != "" || len(s.DBs) != 0 || !slices.Contains(s.Missing, "redis_version") {
				t.Errorf("snapshot of nothing %+v", s)
			}
			if _, ok := s.HitRate(); ok {
				t.Error("a hit rate without lookups")
			}
		}},
		{"error reply text", "NOPERM User noinfo has no permissions to run the 'info' command", func(t *testing.T, in Info) {
			if len(in.Sections()) != 1 || in.Section(DefaultSection)["NOPERM User noinfo has no permissions to run the 'info' command"] != "" {
				// Any text parses; nothing in it looks like a known field.
				t.Logf("sections %v", in.Sections())
			}
			if _, ok := in.Version(); ok {
				t.Error("a version found in an error reply")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, ParseInfo(tt.text))
		})
	}
}

func TestCapturedSnapshot(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", fixtureStandalone))
	if err != nil {
		t.Fatal(err)
	}
	in := ParseInfo(string(data))
	s := FromInfo(in)
	// The fixture's own numbers, read by eye from testdata/standalone.txt.
	for field, got := range map[string]int64{
		"used_memory": s.Memory.Used, "used_memory_peak": s.Memory.Peak, "maxmemory": s.Memory.Max,
		"connected_clients": s.Clients, "uptime_in_seconds": s.UptimeS, "total_commands_processed": s.Commands,
		"total_net_input_bytes": s.NetInBytes, "total_net_output_bytes": s.NetOutBytes,
	} {
		if want, _ := in.Int(field); got != want {
			t.Errorf("%s = %d, want %d", field, got, want)
		}
	}
	if s.Memory.Policy != "noeviction" || s.RunID == "" || s.Version != "7.0.15" {
		t.Errorf("policy %q run_id %q version %q", s.Memory.Policy, s.RunID, s.Version)
	}
	if got := in.Section("Server")["redis_mode"]; got != "standalone" {
		t.Errorf("Section is not case-insensitive: redis_mode %q", got)
	}
}

// FuzzParseInfo checks that any text parses without panicking, that parsing
// is stable (rendering and parsing again gives the same Info), and that the
// typed accessors never report what is not there.
func FuzzParseInfo(f *testing.F) {
	for _, name := range []string{fixtureStandalone, fixtureReplica, fixtureClusterNode} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	for _, s := range []string{redis24, valkey8, redis6Cmdstats, "", "#", "# \r\n:", "a:b:c\n# X\nslave0:ip=,port=\n",
		"db0:keys=-1,expires=9223372036854775808", "cmdstat_:calls=1", "keyspace_hits:1e400\n", "\xff# S\xfe\nk\xfd:v\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		in := ParseInfo(text)
		again := ParseInfo(in.String())
		if !reflect.DeepEqual(in, again) {
			t.Fatalf("not stable:\n%q\n->\n%q\n->\n%q", text, in.String(), again.String())
		}
		for _, sec := range in.Sections() {
			for k, v := range in.Section(sec) {
				if k == "" || strings.ContainsAny(k, ":\n") || strings.Contains(v, "\n") {
					t.Fatalf("field %q=%q in %s", k, v, sec)
				}
				if _, ok := in.Get(k); !ok {
					t.Fatalf("Get(%q) misses a field of section %s", k, sec)
				}
			}
		}
		for i, db := range in.Keyspace() {
			if i != db.Index || i < 0 {
				t.Fatalf("db %d indexed %d", db.Index, i)
			}
		}
		_ = in.CommandStats()
		_ = in.ErrorStats()
		_ = in.Replicas()
		s := FromInfo(in)
		if r, ok := s.HitRate(); ok && (r < 0 || r > 1) && s.Hits >= 0 && s.Misses >= 0 {
			t.Fatalf("hit rate %v from hits %d misses %d", r, s.Hits, s.Misses)
		}
		_ = fmt.Sprint(s)
	})
}
