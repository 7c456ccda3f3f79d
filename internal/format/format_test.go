package format

import (
	"math"
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Bytes(0), "0B"}, {Bytes(1023), "1023B"}, {Bytes(1536), "1.5K"}, {Bytes(12 << 20), "12M"}, {Bytes(3 << 30), "3.0G"},
		{Size(-1), "n/a"}, {Size(2048), "2.0K"},
		{Count(950), "950"}, {Count(2.5), "2.5"}, {Count(12300), "12.3k"}, {Count(4.5e6), "4.5M"}, {Count(1.2e9), "1.2G"},
		{Keys(1), "1 key"}, {Keys(0), "0 keys"}, {Keys(1234), "1234 keys"},
		{Percent(0.123), "12.3%"}, {Percent(1), "100.0%"},
		{Rate(0), "0"}, {Rate(2.25), "2.2"}, {Rate(12.6), "13"},
		{Uptime(42), "42s"}, {Uptime(7*60 + 3), "7m3s"}, {Uptime(5*3600 + 12*60), "5h12m"}, {Uptime(3*86400 + 4*3600), "3d4h"},
		{Clock(4*3600 + 5*60 + 6), "04:05:06"}, {Clock(3*86400 + 4*3600 + 5*60 + 6), "3d 04:05:06"},
		{Latency(850 * time.Microsecond), "850µs"}, {Latency(1250 * time.Microsecond), "1.25ms"}, {Latency(1503 * time.Millisecond), "1.5s"},
		{Ms(0.8), "0.8 ms"}, {Ms(12.4), "12 ms"}, {Ms(1250), "1.25 s"},
		{TTL(45 * time.Second), "45s"}, {TTL(12 * time.Minute), "12m"}, {TTL(210 * time.Minute), "3.5h"},
		{Cents(1999), "19.99"}, {Cents(5), "0.05"}, {Cents(-150), "-1.50"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if got := Millis(1500 * time.Microsecond); math.Abs(got-1.5) > 1e-9 {
		t.Errorf("Millis = %v, want 1.5", got)
	}
}
