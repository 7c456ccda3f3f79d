package redisconn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ErrNotPermitted marks a command the server refused for this ACL user
// (NOPERM): the job cannot run, and neither retrying nor another address
// helps.
var ErrNotPermitted = errors.New("not permitted for this user")

// ErrAuth marks a failure to authenticate: a wrong or missing password, an
// unknown ACL user. It comes wrapped with ErrConnect.
var ErrAuth = errors.New("cannot authenticate to redis")

// ReplyCode returns the first word of the Redis error reply err is or
// wraps ("NOPERM", "CROSSSLOT", "READONLY", "ERR"), or "" when err holds no
// reply from the server. It is the one place a reply's kind is read.
func ReplyCode(err error) string {
	var re redis.Error
	if !errors.As(err, &re) {
		return ""
	}
	code, _, _ := strings.Cut(re.Error(), " ")
	return code
}

// NotPermitted reports whether err is, or wraps, an ACL refusal (NOPERM).
func NotPermitted(err error) bool {
	return errors.Is(err, ErrNotPermitted) || redis.IsPermissionError(err) || ReplyCode(err) == "NOPERM"
}

// DeniedCommand returns the command a NOPERM reply names, lower case
// ("cluster|nodes" from "… to run the 'cluster|nodes' command"), or "" when
// err is no refusal or names none (a refused key).
func DeniedCommand(err error) string {
	var re redis.Error
	if !NotPermitted(err) || !errors.As(err, &re) {
		return ""
	}
	_, rest, ok := strings.Cut(re.Error(), "run the '")
	if cmd, _, ok2 := strings.Cut(rest, "'"); ok && ok2 {
		return strings.ToLower(cmd)
	}
	return ""
}

// PermissionError is a command the server at Addr refused for this user.
type PermissionError struct {
	Addr    string // redacted
	Command string // as the caller names it, e.g. "INFO"
	Cause   error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("redis at %s does not allow %s for this user (NOPERM)", e.Addr, e.Command)
}

func (e *PermissionError) Unwrap() []error { return []error{ErrNotPermitted, e.Cause} }

// Hint is a one-line suggestion for the person at the terminal.
func (e *PermissionError) Hint() string {
	return fmt.Sprintf("grant it with ACL SETUSER <user> +%s, or connect as a user that has it (--user)", strings.ToLower(e.Command))
}

// CommandError classifies a failure of command on the open connection to
// addr (redacted): an interruption stays what it is, a NOPERM reply becomes
// a *PermissionError, and anything else means Redis could not be reached
// (*Error, with ErrConnect).
func CommandError(addr, command string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return err
	case NotPermitted(err):
		return &PermissionError{Addr: addr, Command: command, Cause: err}
	}
	return &Error{Addr: addr, Op: opReach, Cause: err}
}

// authFailed reports whether a reply says the credentials were refused.
// Redis answers WRONGPASS or NOAUTH; older servers and AUTH without a
// configured password answer ERR with these words.
func authFailed(err error) bool {
	if redis.IsAuthError(err) {
		return true
	}
	switch ReplyCode(err) {
	case "WRONGPASS", "NOAUTH":
		return true
	case "ERR":
		msg := err.Error()
		return strings.Contains(msg, "invalid password") || strings.Contains(msg, "invalid username-password") ||
			strings.HasPrefix(msg, "ERR AUTH") || strings.Contains(msg, "without any password configured")
	}
	return false
}
