// Package option checks the values a job is configured with. A value out of
// range, or options that do not go together, is an *Error: the command line
// reports its text as a usage error (exit 2). Domain packages use it in
// their Config's Validate, so the rules live beside the work they guard,
// and to fill a Config's unset fields with their defaults.
package option

import (
	"cmp"
	"fmt"
	"net"
	"strconv"
)

// Error is an option value the job refuses.
type Error struct{ err error }

func (e *Error) Error() string { return e.err.Error() }
func (e *Error) Unwrap() error { return e.err }

// Errorf is an *Error with fmt.Errorf's text (and %w).
func Errorf(format string, a ...any) error {
	return &Error{fmt.Errorf(format, a...)}
}

// InRange refuses v outside [lo, hi], naming the flag and the range.
func InRange[T cmp.Ordered](flag string, v, lo, hi T) error {
	if v < lo || v > hi {
		return Errorf("--%s must be from %v to %v, not %v", flag, lo, hi, v)
	}
	return nil
}

// First returns the first non-nil error, for a run of checks.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// HostPort refuses an address to listen on that is not HOST:PORT with a
// port from 0 to 65535, naming the flag.
func HostPort(flag, addr string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil {
		return Errorf("--%s %q: want HOST:PORT: %v", flag, addr, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return Errorf("--%s %q: the port must be a number from 0 to 65535", flag, addr)
	}
	return nil
}

// Number is the types of the counts, sizes, durations and shares a Config
// holds.
type Number interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr |
		~float32 | ~float64
}

// Default sets *v to d when it is zero or negative: a field whose zero
// value, or any value below it, means "the default".
func Default[T Number](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// DefaultZero sets *v to d when it is zero, and leaves a negative value
// alone: a field where negative has a meaning of its own ("none").
func DefaultZero[T Number](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}
