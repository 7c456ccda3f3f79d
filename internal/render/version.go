package render

import (
	"fmt"
	"strings"

	"github.com/cachectl/cachectl/internal/build"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/output"
)

// Version prints `cachectl version`: one line, `cachectl VERSION (COMMIT,
// DATE) GO`, or the build info as JSON.
func Version(ios *iostreams.IOStreams, f output.Format, info build.Info) error {
	if f == output.JSON {
		return output.WriteJSON(ios, info)
	}
	line := "cachectl " + info.Version
	if info.Commit != "" {
		line += " (" + shortCommit(info.Commit)
		if info.Date != "" {
			line += ", " + info.Date
		}
		line += ")"
	}
	_, err := fmt.Fprintf(ios.Out, "%s %s\n", line, info.Go)
	return err
}

// shortCommit is the first 12 hex digits of a commit, "-dirty" kept.
func shortCommit(c string) string {
	rev, dirty := strings.CutSuffix(c, "-dirty")
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
