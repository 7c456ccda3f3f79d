package redisconn

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/redistest"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"redis://:s3cret@db:6379/0", "redis://***@db:6379/0"},
		{"redis://alice:s3cret@db:6379/0", "redis://alice:***@db:6379/0"},
		{"rediss://alice:p%40ss@db:6380/1", "rediss://alice:***@db:6380/1"},
		{"redis://s3cret@db:6379", "redis://***@db:6379"},
		{"unix:///run/redis.sock?db=2", "unix:///run/redis.sock?db=2"},
		{"redis://bad:pa ss@db:6379/%zz", "redis://bad:***@db:6379/%zz"},
		// Malformed on purpose or by accident: still nothing before the @ leaks.
		{"user:s3cret@127.0.0.1:6611", "user:***@127.0.0.1:6611"},
		{"redis:s3cret@127.0.0.1:6611", "redis:***@127.0.0.1:6611"},
		{"redis://:1234/s3cret@host/0", "redis://***@host/0"},
		{"redis://:1234?s3cret@host/0", "redis://***@host/0"},
		{"redis://alice:1234#s3cret@host/0", "redis://alice:***@host/0"},
		{"http://u:apis3cret@api.internal:8000", "http://u:***@api.internal:8000"},
	}
	for _, tt := range tests {
		got := Redact(tt.in)
		if got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "pa ss") || strings.Contains(got, "p%40ss") || strings.Contains(got, "1234") {
			t.Errorf("Redact(%q) = %q leaks the password", tt.in, got)
		}
	}
}

func TestOptions(t *testing.T) {
	opt, err := Options(Config{URL: "redis://alice:pw@db:6380/3", Password: "override", Timeout: 750 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if opt.Addr != "db:6380" || opt.DB != 3 || opt.Username != "alice" || opt.Password != "override" ||
		opt.DialTimeout != 750*time.Millisecond || opt.ReadTimeout != 750*time.Millisecond || opt.TLSConfig != nil {
		t.Errorf("options = %+v", opt)
	}
	opt, err = Options(Config{URL: "rediss://db:6380/0", TLS: TLS{ServerName: "cache.internal"}})
	if err != nil {
		t.Fatal(err)
	}
	if opt.TLSConfig == nil || opt.TLSConfig.ServerName != "cache.internal" || opt.TLSConfig.InsecureSkipVerify {
		t.Errorf("rediss:// must verify certificates: %+v", opt.TLSConfig)
	}
	opt, err = Options(Config{URL: "unix:///run/redis.sock?db=2"})
	if err != nil || opt.Network != "unix" || opt.Addr != "/run/redis.sock" || opt.DB != 2 {
		t.Errorf("unix: %+v %v", opt, err)
	}
	// Typos go-redis would read as localhost:6379 are refused, so a clear never
	// goes to another server than the one named.
	for _, bad := range []string{"http://db:6379", "redis://:s3cret@db:6379/x", "redis://db:6379/0/1",
		"redis:127.0.0.1:6612", "redis:s3cret@prod:6379", "redis:///0", "rediss://:s3cret@/0", "unix://", "user:s3cret@127.0.0.1:6611"} {
		_, err := Options(Config{URL: bad})
		if !errors.Is(err, ErrConfig) {
			t.Errorf("Options(%q) error = %v, want ErrConfig", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
	if _, err := Options(Config{TLS: TLS{Cert: "c.pem"}}); !errors.Is(err, ErrConfig) {
		t.Errorf("--tls-cert without --tls-key: %v", err)
	}
	if _, err := Options(Config{TLS: TLS{CACert: "/nonexistent/ca.pem"}}); !errors.Is(err, ErrConfig) {
		t.Errorf("missing CA file: %v", err)
	}
}

func TestParseClusterNodes(t *testing.T) {
	text := `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@40004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@40002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@40003,node3.local master - 0 1426238318243 3 connected 10923-16383
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@40005 slave,fail 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 disconnected
`
	nodes, err := ParseClusterNodes(strings.ReplaceAll(text, "\n", "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 5 {
		t.Fatalf("%d nodes", len(nodes))
	}
	want := []struct {
		addr, role string
		slots      int
	}{{"127.0.0.1:30001", "master", 5461}, {"127.0.0.1:30002", "master", 5462}, {"127.0.0.1:30003", "master", 5461},
		{"127.0.0.1:30004", "replica", 0}, {"127.0.0.1:30005", "replica", 0}}
	for i, w := range want {
		n := nodes[i]
		if n.Addr != w.addr || n.Role != w.role || n.Slots != w.slots {
			t.Errorf("node %d = %+v, want %+v", i, n, w)
		}
	}
	if !nodes[4].Failing || nodes[4].Connected || nodes[3].MasterID != "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca" {
		t.Errorf("flags: %+v %+v", nodes[3], nodes[4])
	}
	if _, err := ParseClusterNodes("abc 127.0.0.1:1 master\n"); err == nil {
		t.Error("short line accepted")
	}
}

func TestSplitSeeds(t *testing.T) {
	for _, c := range []struct {
		in, first string
		seeds     []string
	}{
		{"redis://h1:7000,h2:7001,h3/0", "redis://h1:7000/0", []string{"h1:7000", "h2:7001", "h3:6379"}},
		{"rediss://alice:p@ss@h1:7000,h2:7001", "rediss://alice:p@ss@h1:7000", []string{"h1:7000", "h2:7001"}},
		{"redis://db:6379/0?protocol=2", "redis://db:6379/0?protocol=2", []string{"db:6379"}},
		{"unix:///run/redis.sock", "unix:///run/redis.sock", nil},
	} {
		first, seeds, err := splitSeeds(c.in)
		if err != nil || first != c.first || !slices.Equal(seeds, c.seeds) {
			t.Errorf("splitSeeds(%q) = %q %q %v, want %q %q", c.in, first, seeds, err, c.first, c.seeds)
		}
	}
	if _, err := Options(Config{URL: "redis://h1:7000,,h2:7001/0"}); !errors.Is(err, ErrConfig) {
		t.Errorf("an empty address in the list: %v, want ErrConfig", err)
	}
	if got := WithHost("redis://***@h1:7000,h2:7001/0", "h3:7002"); got != "redis://***@h3:7002/0" {
		t.Errorf("WithHost = %q", got)
	}
}

func TestOpenClusterWithTheFirstSeedDown(t *testing.T) {
	// A cluster clear must start when the first address it was given is
	// dead while the other nodes are alive.
	cl := redistest.StartCluster(t, 3, 0)
	dead := cl.Masters[0]
	url := "redis://" + dead.Addr + "," + cl.Masters[1].Addr + "," + cl.Masters[2].Addr + "/0"
	dead.Stop()
	conn, err := Open(context.Background(), Config{URL: url, Timeout: time.Second})
	if err != nil {
		t.Fatalf("Open(%s) with the first seed down: %v", url, err)
	}
	defer conn.Close()
	if !conn.Cluster || len(conn.Seeds) != 3 {
		t.Errorf("cluster=%v seeds=%v, want a cluster with 3 seeds", conn.Cluster, conn.Seeds)
	}

	// A single server given with several addresses is bad input, not a guess.
	srv := redistest.Start(t)
	if _, err := Open(context.Background(), Config{URL: "redis://" + srv.Addr + "," + cl.Masters[1].Addr + "/0"}); !errors.Is(err, ErrConfig) {
		t.Errorf("several addresses for a single server: %v, want ErrConfig", err)
	}
}

func TestOptionsNeverQuoteAPasswordWithASlash(t *testing.T) {
	// net/url reads "default:8123" as a host and the rest of the password
	// as a path; the error must quote none of it.
	for _, u := range []string{
		"redis://default:8123/Qx9zSECRETtail@10.0.0.5:6379/0",
		"rediss://default:8123/Qx9zSECRETtail@h1:7000,h2:7001/0",
	} {
		_, err := Options(Config{URL: u})
		if err != nil && (strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "8123")) {
			t.Errorf("Options(%s): %v", Redact(u), err)
		}
	}
}

func TestIPv6Seeds(t *testing.T) {
	for _, c := range []struct {
		url, addr string
		seeds     []string
	}{
		{"redis://[::1]:7000,[::1]:7001/0", "[::1]:7000", []string{"[::1]:7000", "[::1]:7001"}},
		{"redis://u:p@[::1],h1:7001/0", "[::1]:6379", []string{"[::1]:6379", "h1:7001"}},
	} {
		o, err := Options(Config{URL: c.url})
		_, seeds, _ := splitSeeds(c.url)
		if err != nil || o.Addr != c.addr || !slices.Equal(seeds, c.seeds) {
			t.Errorf("%s: addr %v seeds %q err %v, want %s %q", c.url, o, seeds, err, c.addr, c.seeds)
		}
	}
	nodes, err := ParseClusterNodes("e7d1 ::1:7000@17000 myself,master - 0 0 1 connected 0-16383\n")
	if err != nil || nodes[0].Addr != "[::1]:7000" {
		t.Errorf("an IPv6 node of CLUSTER NODES: %+v %v, want [::1]:7000", nodes, err)
	}
	if got := WithHost("redis://u:***@[::1]:7000,[::1]:7001/0", "[::1]:7002"); got != "redis://u:***@[::1]:7002/0" {
		t.Errorf("WithHost = %q", got)
	}
}

func TestOpenGivesEachSeedItsOwnTimeout(t *testing.T) {
	// A first seed that accepts and never answers (a host behind a
	// firewall that drops packets looks the same) must not use up the time
	// of the seeds after it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cl := redistest.StartCluster(t, 3, 0)
	url := "redis://" + l.Addr().String() + "," + cl.Masters[0].Addr + "," + cl.Masters[1].Addr + "/0"
	conn, err := Open(context.Background(), Config{URL: url, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("a stalled first seed: %v", err)
	}
	conn.Close()
}

func TestOpenFindsAClusterWithoutINFOOrCLUSTER(t *testing.T) {
	// A user that may run neither INFO nor CLUSTER cannot be asked whether
	// this is a cluster; two keys of different slots tell (CROSSSLOT). Then
	// the cluster client cannot work either, and the error says why.
	cl := redistest.StartCluster(t, 3, 0)
	for _, m := range cl.Masters {
		if err := m.Client(t).Do(context.Background(), "ACL", "SETUSER", "blind", "on", ">pw", "~*", "+@all", "-info", "-cluster").Err(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Open(context.Background(), Config{URL: "redis://blind:pw@" + cl.Masters[0].Addr + "/0", Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "is a cluster node, but this user may not run the CLUSTER commands") || errors.Is(err, ErrConnect) {
		t.Errorf("Open as a user without INFO and CLUSTER on a cluster: %v", err)
	}
}

func TestOpenRefusesADBOtherThanZeroOnACluster(t *testing.T) {
	// A cluster node refuses SELECT: a db other than 0 is bad input (a
	// usage error), not an unreachable server, with or without --cluster.
	cl := redistest.StartCluster(t, 3, 0)
	for _, force := range []bool{false, true} {
		_, err := Open(context.Background(), Config{URL: "redis://" + cl.Masters[0].Addr + "/3", ForceCluster: force, Timeout: time.Second})
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "redis cluster has only db 0") {
			t.Errorf("--cluster %v, db 3 on a cluster: %v", force, err)
		}
	}
}
