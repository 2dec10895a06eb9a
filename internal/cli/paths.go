package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// manifestExts are the extensions a directory walk reads.
var manifestExts = []string{".yaml", ".yml", ".json"}

// paths expands the -f values and arguments into files: directories give
// their *.yaml, *.yml and *.json files (recursively with -R). Hidden
// directories are walked (a Secret in .ci/ is a Secret); only .git is not.
// A symbolic link is followed when its target lies inside the directory
// being walked (files reached twice count once); one that leads outside it,
// or nowhere, is an error: kseal neither skips it silently nor reads or
// rewrites files outside the tree it was given.
func (f *fileFlags) paths(args []string) ([]string, error) {
	s := &pathSet{skip: f.skip, recursive: f.recursive, seen: map[string]bool{}}
	for _, p := range append(append([]string{}, f.files...), args...) {
		if err := s.addArg(p); err != nil {
			return nil, err
		}
	}
	s.keepSkippedLinks()
	return s.out, nil
}

// pathSet gathers the files one run reads, each real file once.
type pathSet struct {
	skip      func(path string) bool // fileFlags.skip
	recursive bool
	out       []string
	seen      map[string]bool // real paths in out, from walks
	// skippedLinks are links found by a walk and skipped under their own
	// name; keepSkippedLinks decides on them once every walk is done.
	skippedLinks []skippedLink
}

type skippedLink struct{ path, real string }

func (s *pathSet) skipped(path string) bool { return s.skip != nil && s.skip(path) }

// addArg adds one -f value or argument: "-", a file, or a directory.
func (s *pathSet) addArg(p string) error {
	if p == "-" {
		s.out = append(s.out, p)
		return nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return s.walk(p)
	}
	if s.skipped(p) {
		// Named, yet skipped: unless it is a link to a file that is not
		// skipped itself.
		real, err := realPath(p)
		if lst, lerr := os.Lstat(p); err != nil || lerr != nil || lst.Mode()&fs.ModeSymlink == 0 || s.skip(real) {
			return nil
		}
	}
	s.out = append(s.out, p)
	return nil
}

// walk adds the manifest files under the directory p (below it too with
// -R), following links that stay inside it.
func (s *pathSet) walk(p string) error {
	root, err := realPath(p)
	if err != nil {
		return err
	}
	start := p
	if lst, err := os.Lstat(p); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		start = p + string(filepath.Separator) // WalkDir follows a link to a directory only so
	}
	return filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != start && (!s.recursive || d.Name() == ".git") {
				return filepath.SkipDir
			}
			return nil
		}
		return s.visit(path, d, root)
	})
}

// visit adds the file path found by a walk of root, once per real file.
func (s *pathSet) visit(path string, d fs.DirEntry, root string) error {
	link := d.Type()&fs.ModeSymlink != 0
	isManifest := slices.Contains(manifestExts, strings.ToLower(filepath.Ext(path)))
	if !isManifest && !link {
		return nil
	}
	var real string
	var err error
	switch {
	case link:
		if real, err = linkInside(path, root); err != nil {
			return err
		}
		st, err := os.Stat(real)
		if err != nil {
			return err
		}
		// A linked directory inside the tree is walked where it really
		// is; a linked file counts under its own name.
		if st.IsDir() || !isManifest {
			return nil
		}
	case !d.Type().IsRegular():
		return fmt.Errorf("%s: not a regular file", path)
	default:
		if real, err = realPath(path); err != nil {
			return err
		}
	}
	if s.skipped(path) {
		if link {
			s.skippedLinks = append(s.skippedLinks, skippedLink{path, real})
		}
		return nil
	}
	if !s.seen[real] {
		s.seen[real] = true
		s.out = append(s.out, path)
	}
	return nil
}

// keepSkippedLinks adds back a link skipped under its own name when the
// file it leads to is not skipped and was not reached under another name.
func (s *pathSet) keepSkippedLinks() {
	for _, l := range s.skippedLinks {
		if !s.seen[l.real] && !s.skip(l.real) {
			s.seen[l.real] = true
			s.out = append(s.out, l.path)
		}
	}
}

// linkInside resolves the symbolic link path and returns its target when
// that lies inside root (itself resolved).
func linkInside(path, root string) (string, error) {
	real, err := realPath(path)
	if err != nil {
		return "", fmt.Errorf("%s: symbolic link that leads nowhere: %w", path, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", hintError{fmt.Errorf("%s: symbolic link to %s, outside %s: not followed", path, real, root), "name the target itself, or replace the link by the file"}
	}
	return real, nil
}

// realPath is the absolute path of p with every symbolic link resolved.
func realPath(p string) (string, error) {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	return filepath.Abs(r)
}
