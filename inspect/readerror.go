package inspect

import (
	"errors"

	"github.com/cachectl/cachectl/internal/redisconn"
)

// ReadError classifies the failure of a reading on addr by the command it
// failed on (a *CommandError; INFO when it names none), as
// redisconn.CommandError does: NOPERM is a *redisconn.PermissionError,
// anything else means Redis could not be reached.
func ReadError(addr string, err error) error {
	var ce *CommandError
	if errors.As(err, &ce) {
		return redisconn.CommandError(addr, ce.Command, ce.Err)
	}
	return redisconn.CommandError(addr, "INFO", err)
}
