package option

import (
	"io"
	"os"
)

// OpenInput opens the file that the flag (named without its dashes) names,
// or hands back stdin for "-"; closing stdin's reader leaves stdin open. A
// file that cannot be opened is an *Error naming the flag.
func OpenInput(path string, stdin io.Reader, flag string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, Errorf("--%s: %w", flag, err)
	}
	return f, nil
}
