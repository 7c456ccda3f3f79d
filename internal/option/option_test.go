package option

import (
	"errors"
	"testing"
)

func TestHostPort(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8000": "",
		":0":             "",
		"localhost":      `--listen "localhost": want HOST:PORT: address localhost: missing port in address`,
		"host:http":      `--listen "host:http": the port must be a number from 0 to 65535`,
		"host:70000":     `--listen "host:70000": the port must be a number from 0 to 65535`,
	} {
		err := HostPort("listen", addr)
		switch {
		case want == "" && err != nil:
			t.Errorf("HostPort(%q) = %v, want nil", addr, err)
		case want != "" && (err == nil || err.Error() != want || !errors.As(err, new(*Error))):
			t.Errorf("HostPort(%q) = %v, want the *Error %q", addr, err, want)
		}
	}
}

func TestDefault(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{0, 7}, {-1, 7}, {3, 3}} {
		v := tt.in
		Default(&v, 7)
		if v != tt.want {
			t.Errorf("Default(%d, 7) = %d, want %d", tt.in, v, tt.want)
		}
	}
	for _, tt := range []struct{ in, want float64 }{{0, 0.5}, {-1, -1}, {0.25, 0.25}} {
		v := tt.in
		DefaultZero(&v, 0.5)
		if v != tt.want {
			t.Errorf("DefaultZero(%g, 0.5) = %g, want %g", tt.in, v, tt.want)
		}
	}
}
