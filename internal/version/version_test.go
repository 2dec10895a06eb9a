package version

import (
	"runtime/debug"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
)

// TestFromBuildInfo: the stamped release wins; without one, the module
// version go install or go build at a tag records is the release; a
// working-tree build says dev; the commit carries +dirty when the tree
// had changes.
func TestFromBuildInfo(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, c := range []struct {
		name, stamped string
		bi            *debug.BuildInfo
		want          Info
	}{
		{"no build info", "dev", nil, Info{Version: "dev", Commit: "unknown"}},
		{"make release", "v0.1.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			Info{Version: "v0.1.0", Commit: "unknown", GoVersion: "go1.26.8"}},
		{"stamp wins over the module version", "v0.1.0", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.9"}},
			Info{Version: "v0.1.0", Commit: "unknown"}},
		{"go install at a tag", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}},
			Info{Version: "v0.1.0", Commit: "unknown"}},
		{"working tree", "dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("abc123", "false")},
			Info{Version: "dev", Commit: "abc123"}},
		{"dirty working tree", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.1-0.20261206010203-abc123+dirty"}, Settings: vcs("abc123", "true")},
			Info{Version: "v0.1.1-0.20261206010203-abc123+dirty", Commit: "abc123+dirty"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			old := Version
			Version = c.stamped
			defer func() { Version = old }()
			got := fromBuildInfo(c.bi)
			c.want.Format = crypto.FormatVersion
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
