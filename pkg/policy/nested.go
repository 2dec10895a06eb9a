package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// One policy per repository: a kseal.yaml below the repository root would
// let whoever can write that directory choose the keys its files are sealed
// to, silently, since the nearest policy wins. So sealing refuses a file
// with more than one policy between it and the repository root, and
// `kseal policy check` reports nested policies.

// NestedError names the policies found between a file and the repository
// root, nearest first.
type NestedError struct {
	Root  string
	Paths []string
}

func (e *NestedError) Error() string {
	return fmt.Sprintf("more than one %s between here and the repository root %s: %s (one policy per repository: remove all but the one at the root)", FileName, e.Root, strings.Join(e.Paths, " and "))
}

// RepoRoot returns the nearest directory at or above dir that holds .git
// (a directory, or a file in a git worktree), or "" when there is none.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// FindAll returns every policy file from dir up to the repository root,
// nearest first, and the root. Outside a git repository there is no root to
// stop at: only the nearest policy is returned and root is "".
func FindAll(dir string) (paths []string, root string, err error) {
	root, err = RepoRoot(dir)
	if err != nil {
		return nil, "", err
	}
	if root == "" {
		p, err := Find(dir)
		if err != nil || p == "" {
			return nil, "", err
		}
		return []string{p}, "", nil
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	for {
		p := filepath.Join(dir, FileName)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			paths = append(paths, p)
		}
		if dir == root {
			return paths, root, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return paths, root, nil
		}
		dir = parent
	}
}

// FindOne is Find for sealing: it returns the policy governing dir, and a
// *NestedError when more than one lies between dir and the repository root.
func FindOne(dir string) (string, error) {
	paths, root, err := FindAll(dir)
	switch {
	case err != nil:
		return "", err
	case len(paths) > 1:
		return "", &NestedError{Root: root, Paths: paths}
	case len(paths) == 1:
		return paths[0], nil
	}
	return "", nil
}
