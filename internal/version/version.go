// Package version says which kseal this is: the release (set at link time
// with -ldflags "-X kseal.dev/kseal/internal/version.Version=v1.2.3"), the
// commit and Go version the binary was built with, and the envelope format
// version it writes and reads.
package version

import (
	"fmt"
	"runtime/debug"

	"kseal.dev/kseal/pkg/crypto"
)

// Version is the release; "dev" for a build from a working tree.
var Version = "dev"

// Info is what a binary reports about itself.
type Info struct {
	Version   string
	Commit    string // vcs.revision, with "+dirty" when the tree had changes; "unknown" without VCS information
	GoVersion string
	Format    int // envelope format version (docs/format.md)
}

// Get returns the running binary's information.
func Get() Info {
	i := Info{Version: Version, Commit: "unknown", Format: crypto.FormatVersion}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	i.GoVersion = bi.GoVersion
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && i.Commit != "unknown" {
		i.Commit += "+dirty"
	}
	return i
}

// String renders i on one line, e.g.
// "kseal dev (commit 1a2b3c, go1.26.8, envelope format 2)".
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s, envelope format %d)", i.Version, i.Commit, i.GoVersion, i.Format)
}
