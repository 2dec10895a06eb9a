package policy

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// checkExclude validates the exclude globs.
func (p *Policy) checkExclude() []error {
	var errs []error
	for i, g := range p.Exclude {
		if g == "" || !doublestar.ValidatePattern(g) || strings.HasPrefix(g, "/") || strings.HasPrefix(g, "../") {
			errs = append(errs, p.errAt(fmt.Sprintf("exclude.%d", i), "invalid exclude glob %q (want a glob relative to %s, such as \"charts/*/templates/**\")", g, FileName))
		}
	}
	return errs
}

// Excluded reports whether file matches one of the policy's exclude globs
// (relative to the policy's directory), and which one. Files outside the
// policy's directory are never excluded.
func (p *Policy) Excluded(file string) (string, bool) {
	return MatchExclude(p.Dir, p.Exclude, file)
}

// MatchExclude reports whether file, taken relative to dir, matches one of
// globs (doublestar syntax: ** crosses directories), and which one.
func MatchExclude(dir string, globs []string, file string) (string, bool) {
	if len(globs) == 0 {
		return "", false
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", false
	}
	base, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(base, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	for _, g := range globs {
		if ok, _ := doublestar.Match(g, rel); ok {
			return g, true
		}
	}
	return "", false
}
