package inspect

import (
	"errors"
	"testing"

	"github.com/cachectl/cachectl/internal/redisconn"
)

func TestReadErrorNamesTheCommandThatFailed(t *testing.T) {
	noperm := redisconn.ErrNotPermitted
	var pe *redisconn.PermissionError
	if err := ReadError("redis://h:6379", &CommandError{Command: "SCAN", Err: noperm}); !errors.As(err, &pe) || pe.Command != "SCAN" {
		t.Errorf("NOPERM on SCAN: %v, want a PermissionError naming SCAN", err)
	}
	if err := ReadError("redis://h:6379", errors.New("connection refused")); !errors.Is(err, redisconn.ErrConnect) {
		t.Errorf("a lost connection: %v, want redisconn.ErrConnect", err)
	}
}
