// Package help holds the long help of cachectl's commands, the text that
// --help, `cachectl help CMD` and the man pages print, one file per command
// named like its man page: cachectl-clear.txt for `cachectl clear`. A file
// is the command's Long text, then, after a line "-- example --", its
// Example; the file's last line break is not part of the text.
package help

import (
	"embed"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

//go:embed *.txt
var files embed.FS

const exampleMark = "\n-- example --\n"

// Apply gives every command under root that has a file its Long and
// Example. A file that names no command is a mistake caught at start.
func Apply(root *cobra.Command) {
	entries, _ := files.ReadDir(".")
	byName := make(map[string]string, len(entries))
	for _, e := range entries {
		data, _ := files.ReadFile(e.Name())
		byName[strings.TrimSuffix(e.Name(), ".txt")] = strings.TrimSuffix(string(data), "\n")
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		name := strings.ReplaceAll(c.CommandPath(), " ", "-")
		if text, ok := byName[name]; ok {
			c.Long, c.Example, _ = strings.Cut(text, exampleMark)
			delete(byName, name)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for name := range byName {
		panic(fmt.Sprintf("help: %s.txt names no command", name))
	}
}
