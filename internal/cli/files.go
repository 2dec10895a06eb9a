package cli

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"kseal.dev/kseal/pkg/manifest"
)

// fileFlags are the input/output flags shared by the commands that rewrite
// manifests.
type fileFlags struct {
	files     []string
	recursive bool
	inPlace   bool
	dryRun    bool
	jobs      int

	// dotenv: files named as dotenv files (.env, NAME.env, .env.NAME)
	// are read as dotenv files and written back as such (a sealed dotenv
	// is an encrypted Secret in dotenv form, docs/format.md); dotenvName
	// names the Secret of a plain one (encrypt --name). Commands that do
	// not set it read every file as a manifest.
	dotenv     bool
	dotenvName string

	// skip, when set, drops a file found by walking a directory
	// (policy check's excludes). It is asked before files reached twice
	// are counted once, so a link's name in a skipped directory never
	// stands in for the file it leads to; a skipped link whose file is not
	// skipped itself and not reached under another name is kept.
	skip func(path string) bool
}

// defaultJobs bounds concurrent objects (and so concurrent KMS calls).
const defaultJobs = 8

func (f *fileFlags) register(cmd *cobra.Command, inPlace bool) {
	cmd.Flags().StringArrayVarP(&f.files, "filename", "f", nil, "file or directory to read (repeatable; also as arguments); none: standard input")
	cmd.Flags().BoolVarP(&f.recursive, "recursive", "R", false, "walk directories recursively")
	cmd.Flags().IntVarP(&f.jobs, "jobs", "j", defaultJobs, "objects processed concurrently (bounds concurrent key-service calls)")
	if inPlace {
		cmd.Flags().BoolVarP(&f.inPlace, "in-place", "i", false, "rewrite files in place (atomically) instead of writing to standard output")
		f.registerDryRun(cmd)
	}
}

// input is one manifest source.
type input struct {
	name  string // for messages: the path, or stdinName
	path  string // the path read; "" for standard input
	real  string // path with symbolic links resolved: what -i rewrites
	data  []byte
	mode  fs.FileMode
	strm  *manifest.Stream
	dirty bool
}

const maxFileSize = manifest.MaxStreamSize

// stdinName is how messages name standard input. It is only ever shown:
// whether an input is standard input is told by its empty path.
const stdinName = "<stdin>"

// readInput reads the file p, or standard input for "-" (which one run
// reads once, whoever asks), refusing either when larger than maxFileSize.
func readInput(e *env, p string) (*input, error) {
	if p == "-" {
		data, err := readStdin(e, "the manifest", maxFileSize)
		return &input{name: stdinName, data: data}, err
	}
	data, mode, err := readRegular(p)
	return &input{name: p, path: p, data: data, mode: mode}, err
}

// paths expands the -f values and arguments into files: directories give
// their *.yaml, *.yml and *.json files (recursively with -R). Hidden
// directories are walked (a Secret in .ci/ is a Secret); only .git is not.
// A symbolic link is followed when its target lies inside the directory
// being walked (files reached twice count once); one that leads outside it,
// or nowhere, is an error: kseal neither skips it silently nor reads or
// rewrites files outside the tree it was given.
func (f *fileFlags) paths(args []string) ([]string, error) {
	all := append(append([]string{}, f.files...), args...)
	var out []string
	seen := map[string]bool{}
	type skipped struct{ path, real string }
	var skippedLinks []skipped
	add := func(path, real string, link bool) {
		if f.skip != nil && f.skip(path) {
			if link {
				skippedLinks = append(skippedLinks, skipped{path, real})
			}
			return
		}
		if !seen[real] {
			seen[real] = true
			out = append(out, path)
		}
	}
	for _, p := range all {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if f.skip != nil && f.skip(p) {
				// Named, yet skipped: unless it is a link to a file
				// that is not skipped itself.
				real, err := realPath(p)
				if lst, lerr := os.Lstat(p); err != nil || lerr != nil || lst.Mode()&fs.ModeSymlink == 0 || f.skip(real) {
					continue
				}
			}
			out = append(out, p)
			continue
		}
		root, err := realPath(p)
		if err != nil {
			return nil, err
		}
		start := p
		if lst, err := os.Lstat(p); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
			start = p + string(filepath.Separator) // WalkDir follows a link to a directory only so
		}
		err = filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != start && (!f.recursive || d.Name() == ".git") {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
			default:
				if d.Type()&fs.ModeSymlink == 0 {
					return nil
				}
			}
			real := path
			if d.Type()&fs.ModeSymlink != 0 {
				if real, err = linkInside(path, root); err != nil {
					return err
				}
				st, err := os.Stat(real)
				if err != nil {
					return err
				}
				// A linked directory inside the tree is walked where it
				// really is; a linked file counts under its own name.
				if st.IsDir() || !slices.Contains([]string{".yaml", ".yml", ".json"}, strings.ToLower(filepath.Ext(path))) {
					return nil
				}
			} else if !d.Type().IsRegular() {
				return fmt.Errorf("%s: not a regular file", path)
			} else if real, err = realPath(path); err != nil {
				return err
			}
			add(path, real, d.Type()&fs.ModeSymlink != 0)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// A link skipped under its own name still counts when the file it
	// leads to is not skipped and was not reached under another name.
	for _, l := range skippedLinks {
		if !seen[l.real] && !f.skip(l.real) {
			seen[l.real] = true
			out = append(out, l.path)
		}
	}
	return out, nil
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

func (f *fileFlags) registerDryRun(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "list the files and objects -i would change, write nothing; exit 4 if any would change (implies -i)")
}

// read loads and parses every input. Nothing is written yet.
func (f *fileFlags) read(e *env, args []string) ([]*input, error) {
	if f.dryRun {
		f.inPlace = true
	}
	paths, err := f.paths(args)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 && len(f.files)+len(args) > 0 {
		// Not standard input instead: the directories named hold nothing.
		named := strings.Join(append(append([]string{}, f.files...), args...), ", ")
		if !f.recursive {
			return nil, hintError{fmt.Errorf("%s: no *.yaml, *.yml or *.json files", named), "-R walks subdirectories"}
		}
		return nil, fmt.Errorf("%s: no *.yaml, *.yml or *.json files", named)
	}
	if len(paths) == 0 {
		if f.inPlace {
			return nil, usagef("-i needs files (-f FILE or arguments)")
		}
		paths = []string{"-"}
	}
	var ins []*input
	rewritten := map[string]bool{}
	for _, p := range paths {
		if p == "-" && f.inPlace {
			return nil, usagef("-i cannot rewrite standard input")
		}
		in, err := readInput(e, p)
		if err != nil {
			return nil, err
		}
		switch {
		case in.path == "":
		case in.mode&fs.ModeNamedPipe != 0:
			if f.inPlace {
				return nil, usagef("-i cannot rewrite %s: not a regular file (a pipe or process substitution)", p)
			}
			in.real = p // a pipe is read once and never rewritten
		default:
			// -i rewrites what a link points to, never the link.
			if in.real, err = realPath(p); err != nil {
				return nil, err
			}
		}
		if f.inPlace {
			if rewritten[in.real] {
				continue // the same file under two names
			}
			rewritten[in.real] = true
		}
		if err := checkNotEmpty(in.name, in.data); err != nil {
			return nil, err
		}
		if in.strm, err = f.parse(p, in.data); err != nil {
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
		ins = append(ins, in)
	}
	return ins, nil
}

// parse reads the content of the file named p: as a dotenv file when the
// command reads those and p is named as one, else as a manifest stream.
func (f *fileFlags) parse(p string, data []byte) (*manifest.Stream, error) {
	if f.dotenv && p != "-" && manifest.IsDotenvName(p) {
		return manifest.ParseDotenv(data, f.dotenvName)
	}
	return manifest.Parse(data)
}

// readRegular reads a regular file or a pipe (process substitution,
// /dev/stdin) up to the read cap.
func readRegular(p string) ([]byte, fs.FileMode, error) {
	return readSource(p, maxFileSize)
}

// write emits the results: with -i, each changed file is replaced
// atomically; otherwise every input goes to standard output, separated by
// "---".
func (f *fileFlags) write(e *env, ins []*input) error {
	if f.dryRun {
		outs, err := f.render(ins)
		if err != nil {
			return err
		}
		return dryRunReport(e, ins, outs)
	}
	return f.writeTo(e.stdout, ins)
}

// render encodes every input, refusing output kseal could not read back.
func (f *fileFlags) render(ins []*input) ([][]byte, error) {
	outs := make([][]byte, len(ins))
	total := 0
	for i, in := range ins {
		b, err := in.strm.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
		// Before anything is written: a file kseal could not read back.
		if err := checkReadBack(in.name, len(b)); err != nil {
			return nil, err
		}
		outs[i] = b
		total += len(b)
	}
	if !f.inPlace && len(outs) > 1 {
		for _, in := range ins {
			if in.strm.IsDotenv() {
				// A dotenv in a YAML stream is neither.
				return nil, usagef("%s: a dotenv file goes to standard output alone; with other files, pass -o yaml (its Secret as YAML) or -i", in.name)
			}
		}
		// Several files to standard output are one stream when read back.
		if err := checkReadBack("standard output", total+4*len(outs)); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

func (f *fileFlags) writeTo(w io.Writer, ins []*input) error {
	outs, err := f.render(ins)
	if err != nil {
		return err
	}
	if f.dryRun {
		return usagef("--dry-run writes nothing, to standard output neither")
	}
	if f.inPlace {
		for _, in := range ins {
			// Also refused when reading; a pipe (/dev/stdin among them)
			// must never be replaced by a file.
			if !in.mode.IsRegular() {
				return fmt.Errorf("%s: not a regular file: not rewritten", in.name)
			}
		}
		for i, in := range ins {
			if !in.dirty || bytes.Equal(outs[i], in.data) {
				continue
			}
			if err := writeAtomic(in.real, outs[i], in.mode); err != nil {
				return err
			}
		}
		return nil
	}
	for i, b := range outs {
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over the original, so a reader sees the
// old or the new file and never a half-written one.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	if mode == 0 {
		mode = 0o644
	}
	// The backstop for every writer: a pipe or device (/dev/stdout,
	// /dev/stdin, a link to a FIFO) is never replaced by a file.
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file: not replaced", path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".kseal-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// each calls fn for every document of kind in kinds across ins, on up to
// jobs goroutines (key services are network-bound; one call per object per
// KMS recipient), ticking the progress reporter as files complete. fn must
// only touch its own document. The error of the earliest failing document
// (in input order) is returned, wrapped with its file name; nothing is
// written by each itself.
func each(e *env, verb string, jobs int, ins []*input, kinds []manifest.Kind, fn func(in *input, d *manifest.Doc) error) error {
	type task struct {
		in   *input
		d    *manifest.Doc
		pos  int // in tasks, for ordered errors
		file int // in ins, for progress
	}
	var tasks []task
	left := make([]atomic.Int32, len(ins))
	for i, in := range ins {
		for _, d := range in.strm.Docs {
			if slices.Contains(kinds, d.Kind) {
				tasks = append(tasks, task{in, d, len(tasks), i})
				left[i].Add(1)
			}
		}
	}
	p := newProgress(e, verb, len(ins))
	defer p.done()
	var mu sync.Mutex
	for i := range ins {
		if left[i].Load() == 0 {
			p.tick()
		}
	}
	// One bounded pool. firstFail is the earliest task that failed; a
	// failure stops only the tasks after it: an earlier task whose
	// goroutine had not run yet still runs, so the error returned is the
	// earliest in input order however the goroutines were scheduled.
	errs := make([]error, len(tasks))
	var firstFail atomic.Int64
	firstFail.Store(int64(len(tasks)))
	failed := func(pos int) {
		for cur := firstFail.Load(); int64(pos) < cur && !firstFail.CompareAndSwap(cur, int64(pos)); cur = firstFail.Load() {
		}
	}
	skip := func(pos int) bool { return firstFail.Load() < int64(pos) || e.ctx.Err() != nil }
	var g errgroup.Group
	g.SetLimit(max(jobs, 1))
	for _, t := range tasks {
		if skip(t.pos) {
			break
		}
		g.Go(func() error {
			if skip(t.pos) {
				return nil
			}
			if err := fn(t.in, t.d); err != nil {
				errs[t.pos] = fmt.Errorf("%s: %w", t.in.name, err)
				failed(t.pos)
				return nil
			}
			if left[t.file].Add(-1) == 0 {
				mu.Lock()
				p.tick()
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait() // errs holds every failure; the earliest is returned below
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if err := e.ctx.Err(); err != nil {
		return err
	}
	for _, t := range tasks {
		if t.d.Changed() {
			t.in.dirty = true
		}
	}
	return nil
}

// dryRunReport lists, on standard output, every file -i would rewrite and
// the objects in it that change; it returns an ExitFindings error when
// there is any, so that CI can tell "up to date" from "needs a run".
func dryRunReport(e *env, ins []*input, outs [][]byte) error {
	n := 0
	for i, in := range ins {
		if !in.dirty || bytes.Equal(outs[i], in.data) {
			continue
		}
		n++
		listed := false
		for _, d := range in.strm.Docs {
			if d.Rewritten() {
				listed = true
				fmt.Fprintf(e.stdout, "would change %s: doc %d: %s %s\n", in.name, d.Index, d.Kind, d.Object())
			}
		}
		if !listed {
			fmt.Fprintf(e.stdout, "would change %s\n", in.name)
		}
	}
	if n == 0 {
		fmt.Fprintln(e.stderr, "kseal: dry run: nothing would change")
		return nil
	}
	return exitError{ExitFindings, fmt.Errorf("dry run: %s would change; nothing written", countNoun(n, "file"))}
}
