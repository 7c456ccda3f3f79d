// Package build reports the version the binary was built as.
package build

import (
	"runtime/debug"
	"strings"
)

// Set at release time with -ldflags "-X github.com/cachectl/cachectl/internal/build.Version=v1.2.3 ...".
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info is what `cachectl version` prints.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Date    string `json:"date,omitempty"`
	Go      string `json:"go"`
}

// Get returns the ldflags values, falling back to the module and VCS
// information the Go toolchain embeds (go install, go build in a checkout).
func Get() Info {
	info := Info{Version: Version, Commit: Commit, Date: Date, Go: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		info.Go = bi.GoVersion
	}
	if info.Version == "" {
		info.Version = "(devel)"
		if ok && bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
	}
	if ok && (info.Commit == "" || info.Date == "") {
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && info.Commit != "" && !strings.HasSuffix(info.Commit, "-dirty") && Commit == "" {
			info.Commit += "-dirty"
		}
	}
	return info
}

// UserAgent is the User-Agent cachectl sends the catalog API.
func UserAgent() string { return "cachectl/" + Get().Version }
