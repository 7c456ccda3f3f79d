package sandbox

import (
	"os"
	"path/filepath"
)

// Secrets are the sandbox's credentials in private files (0600), for the
// commands a person runs against it: never shown on a screen.
type Secrets struct {
	dir       string
	TokenFile string // the API's admin token
	// PasswordFile holds the password of the Redis the sandbox started; ""
	// for a given Redis, whose own settings reach it.
	PasswordFile string
}

// WriteSecrets writes the admin token, and the password of a Redis the
// sandbox started, to files in a new private directory.
func (s *Sandbox) WriteSecrets() (*Secrets, error) {
	dir, err := os.MkdirTemp("", "cachectl-demo-secrets-")
	if err != nil {
		return nil, err
	}
	sec := &Secrets{dir: dir, TokenFile: filepath.Join(dir, "admin-token")}
	if s.Local != nil {
		sec.PasswordFile = filepath.Join(dir, "redis-password")
		err = os.WriteFile(sec.PasswordFile, []byte(s.Local.Password+"\n"), 0o600)
	}
	if err == nil {
		err = os.WriteFile(sec.TokenFile, []byte(s.API.AdminToken), 0o600)
	}
	if err != nil {
		sec.Remove()
		return nil, err
	}
	return sec, nil
}

// Remove deletes the files.
func (s *Secrets) Remove() { os.RemoveAll(s.dir) }
