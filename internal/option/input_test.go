package option

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenInput(t *testing.T) {
	r, err := OpenInput("-", strings.NewReader("from stdin"), "plan")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "from stdin" || r.Close() != nil {
		t.Errorf(`"-" read %q, want stdin`, b)
	}

	path := filepath.Join(t.TempDir(), "list")
	if err := os.WriteFile(path, []byte("from the file"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err = OpenInput(path, strings.NewReader("from stdin"), "plan")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "from the file" || r.Close() != nil {
		t.Errorf("%s read %q, want the file", path, b)
	}

	missing := filepath.Join(t.TempDir(), "nope")
	_, err = OpenInput(missing, nil, "apply")
	want := "--apply: open " + missing + ": no such file or directory"
	if err == nil || err.Error() != want || !errors.As(err, new(*Error)) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenInput(%s) = %v, want the *Error %q", missing, err, want)
	}
}
