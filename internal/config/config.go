// Package config reads cachectl's optional config file (YAML): the
// connection settings the flags and environment variables override, and
// extra key groups. It holds no password: password_file names one.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cachectl/cachectl/keyspace"
)

// File is the config file's settings. Flags and environment variables
// override them.
type File struct {
	Redis        string              `yaml:"redis"`
	User         string              `yaml:"user"`
	PasswordFile string              `yaml:"password_file"`
	Cluster      *bool               `yaml:"cluster"`
	TLS          TLS                 `yaml:"tls"`
	Prefix       *string             `yaml:"prefix"`
	KeyVersion   *int                `yaml:"key_version"`
	Timeout      string              `yaml:"timeout"`
	API          string              `yaml:"api"`
	Groups       map[string][]string `yaml:"groups"`
	// ReadOnly refuses every command that would delete or write Redis or
	// send the API anything but a GET (--read-only).
	ReadOnly *bool `yaml:"read_only"`
	Audit    Audit `yaml:"audit"`

	// Path is the file read, for messages.
	Path string `yaml:"-"`
}

type TLS struct {
	CACert     string `yaml:"ca_cert"`
	Cert       string `yaml:"cert"`
	Key        string `yaml:"key"`
	ServerName string `yaml:"server_name"`
	Insecure   *bool  `yaml:"insecure"`
}

// Audit is where the trail of destructive actions goes.
type Audit struct {
	File   string `yaml:"file"`   // --audit-file
	Stream *bool  `yaml:"stream"` // --audit-stream
}

// DefaultPath is $XDG_CONFIG_HOME/cachectl/config.yaml (or the OS equivalent).
func DefaultPath(getenv func(string) string) string {
	dir := Dir(getenv, ConfigHome)
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "config.yaml")
}

// The XDG base directories cachectl keeps files in, by the variable that
// names each.
const (
	ConfigHome = "XDG_CONFIG_HOME" // the config file; default ~/.config
	DataHome   = "XDG_DATA_HOME"   // bench's named baselines and history; default ~/.local/share
	StateHome  = "XDG_STATE_HOME"  // default ~/.local/state
)

// Dir is cachectl's directory in the XDG base directory that env names:
// $env/cachectl, else under $HOME at the spec's default, else (no HOME, as
// on Windows) in the OS's user config directory. "" when there is none.
func Dir(getenv func(string) string, env string) string {
	if dir := getenv(env); dir != "" {
		return filepath.Join(dir, "cachectl")
	}
	defaults := map[string]string{ConfigHome: ".config", DataHome: filepath.Join(".local", "share"), StateHome: filepath.Join(".local", "state")}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, defaults[env], "cachectl")
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "cachectl")
	}
	return ""
}

// Load reads path. A named file must exist; the default one may not.
func Load(path string, named bool) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if !named && errors.Is(err, os.ErrNotExist) {
			return &File{}, nil
		}
		return nil, fmt.Errorf("config file: %w", err)
	}
	var c File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config file %s: %s", path, yamlError(err))
	}
	c.Path = path
	return &c, nil
}

// groups returns the config's extra groups in a stable order.
func (c *File) groups() []keyspace.Group {
	names := make([]string, 0, len(c.Groups))
	for name := range c.Groups {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]keyspace.Group, 0, len(names))
	for _, name := range names {
		out = append(out, keyspace.Group{Name: name, Patterns: c.Groups[name]})
	}
	return out
}

// Schema is the key schema of prefix and version with the file's groups.
func (c *File) Schema(prefix string, version int) (keyspace.Schema, error) {
	s, err := keyspace.New(prefix, version).WithGroups(c.groups())
	if err != nil {
		return keyspace.Schema{}, fmt.Errorf("config file %s: %w", c.Path, err)
	}
	return s, nil
}

// yamlError flattens yaml's multi-line errors into one line a person can act on.
func yamlError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			m = strings.Replace(m, " in type config.File", " (not a cachectl setting)", 1)
			m = strings.Replace(m, " in type config.Audit", " (not an audit setting)", 1)
			msgs[i] = strings.Replace(m, " in type config.TLS", " (not a tls setting)", 1)
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
