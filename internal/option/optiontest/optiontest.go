// Package optiontest checks the errors of a Validate in tests.
package optiontest

import (
	"errors"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/option"
)

// Want fails t unless err is what a Validate should return: nil when want
// is "", else an *option.Error whose text holds want.
func Want(t testing.TB, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("Validate: %v, want no error", err)
	case want == "":
	case err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, new(*option.Error)):
		t.Errorf("Validate = %v, want an *option.Error with %q", err, want)
	}
}
