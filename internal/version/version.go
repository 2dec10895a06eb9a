// Package version says which kseal this is: the release, the commit and Go
// version the binary was built with, and the envelope format version it
// writes and reads.
//
// The release is set in one place, release.env at the repository root.
// `make release` stamps it at link time (-X
// kseal.dev/kseal/internal/version.Version=v0.1.0); a binary built by `go
// install kseal.dev/kseal/cmd/kseal@v0.1.0`, or by `go build` in a checkout
// of a tag, carries it in its module information instead, which Get falls
// back to. Anything else says "dev" or the pseudo-version go derived from
// git.
package version

import (
	"fmt"
	"runtime/debug"

	"kseal.dev/kseal/pkg/crypto"
)

// Version is the release stamped at link time; "dev" when nothing was.
var Version = "dev"

// Info is what a binary reports about itself.
type Info struct {
	Version   string
	Commit    string // vcs.revision, with "+dirty" when the tree had changes; "unknown" without VCS information (release builds: the tag names the commit)
	GoVersion string
	Format    int // envelope format version (docs/format.md)
}

// Get returns the running binary's information.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fromBuildInfo(nil)
	}
	return fromBuildInfo(bi)
}

// fromBuildInfo is Get for a given build information (nil: none).
func fromBuildInfo(bi *debug.BuildInfo) Info {
	i := Info{Version: Version, Commit: "unknown", Format: crypto.FormatVersion}
	if bi == nil {
		return i
	}
	i.GoVersion = bi.GoVersion
	if i.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		// go install …@v0.1.0, or go build at a tag (a pseudo-version
		// elsewhere): the module version is the release.
		i.Version = bi.Main.Version
	}
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
// "v0.1.0 (commit 1a2b3c, go1.26.8, envelope format 2)".
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s, envelope format %d)", i.Version, i.Commit, i.GoVersion, i.Format)
}
