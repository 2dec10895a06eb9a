package main

import (
	"strings"
	"testing"
)

// TestPreCommitSystemHooks: each -system hook runs exactly what its
// language golang twin runs, on the same files, with the kseal on PATH
// instead of one pre-commit builds: only the language differs, so
// TestPreCommitHooks covers both.
func TestPreCommitSystemHooks(t *testing.T) {
	hooks := loadHooks(t)
	for _, id := range []string{"kseal-plaintext", "kseal-policy"} {
		t.Run(id, func(t *testing.T) {
			g, ok1 := hooks[id]
			s, ok2 := hooks[id+"-system"]
			if !ok1 || !ok2 {
				t.Fatalf("%s or %s-system is missing", id, id)
			}
			if g.Language != "golang" || s.Language != "system" {
				t.Errorf("languages %q and %q, want golang and system", g.Language, s.Language)
			}
			if !strings.HasPrefix(s.Description, g.Description) {
				t.Errorf("descriptions differ: %q, %q", g.Description, s.Description)
			}
			g.ID, g.Language, g.Description = s.ID, s.Language, s.Description
			if g.Entry != s.Entry || g.Files != s.Files || g.Exclude != s.Exclude || g.Name != s.Name ||
				g.AlwaysRun != s.AlwaysRun || g.RequireSerial != s.RequireSerial || strings.Join(g.Args, " ") != strings.Join(s.Args, " ") ||
				(g.PassFilenames == nil) != (s.PassFilenames == nil) || (g.PassFilenames != nil && *g.PassFilenames != *s.PassFilenames) {
				t.Errorf("%s-system differs from %s:\n%+v\n%+v", id, id, s, g)
			}
		})
	}
}
