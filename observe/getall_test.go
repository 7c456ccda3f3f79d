package observe

import (
	"errors"
	"testing"

	"github.com/cachectl/cachectl/internal/option"
)

func TestParseMechanismNamesTheChoices(t *testing.T) {
	for _, s := range []string{"", "monitor", "tracking", "info"} {
		if m, err := ParseMechanism(s); err != nil || string(m) != s {
			t.Errorf("ParseMechanism(%q) = %q, %v", s, m, err)
		}
	}
	_, err := ParseMechanism("keyspace-events")
	if !errors.As(err, new(*option.Error)) || err.Error() != `--mechanism: "keyspace-events" is not monitor, tracking or info` {
		t.Errorf("unknown mechanism: %v, want an *option.Error naming the three", err)
	}
}
