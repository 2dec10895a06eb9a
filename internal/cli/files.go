package cli

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/spf13/cobra"

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

	// each: the command reads documents only through each or
	// eachSettled (or Loads and Releases each one itself, as verify
	// does), so files are parsed with manifest.ParseEach (a stream of any
	// number of Secrets is read; their trees are built when worked on).
	// What it reads of them before is their kind, name and header only.
	each bool
	// plain: with each, the files are plain Secrets to seal
	// (manifest.ParseEachPlain).
	plain bool
	// stream: with each, a regular manifest file is not read here but
	// opened (input.src), for a parse that reads it as it works on its
	// documents (readWorking): it is never held whole. Not with -i,
	// which compares what it writes with what it read.
	stream bool

	// skip, when set, drops a file named or found by walking a
	// directory (policy check's excludes); a named link is kept when the
	// file it leads to is not skipped. It is asked before files reached twice
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
	name string // for messages: the path, or stdinName
	path string // the path read; "" for standard input
	real string // path with symbolic links resolved: what -i rewrites
	text string // as read; "" for one read as worked on (src)
	// src is the regular file opened for a parse that reads it as it
	// works (fileFlags.stream), of size bytes; nil for one read whole.
	src   *os.File
	size  int64
	mtime time.Time // src's when opened
	mode  fs.FileMode
	strm  *manifest.Stream
	dirty bool
	// handed: what the run reports of the documents handed on to be
	// worked on as they were read (readWorking).
	handed handedFacts
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
		return &input{name: stdinName, text: ownText(data)}, err
	}
	data, mode, err := readRegular(p)
	return &input{name: p, path: p, text: ownText(data), mode: mode}, err
}

// openInput is readInput for f: a regular file f streams, of streamMin
// bytes or more, is opened and not read (input.src); anything else is
// read whole.
func (f *fileFlags) openInput(e *env, p string) (*input, error) {
	if !f.streams(p) {
		return readInput(e, p)
	}
	src, st, err := openSource(p, maxFileSize)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() < streamMin {
		// A pipe's size is not known; a small file is read whole.
		defer src.Close()
		data, mode, err := readOpened(p, src, st, maxFileSize)
		return &input{name: p, path: p, text: ownText(data), mode: mode}, err
	}
	return &input{name: p, path: p, src: src, size: st.Size(), mtime: st.ModTime(), mode: st.Mode().Perm()}, nil
}

// streamMin is the size from which a file f streams is read as it is
// worked on. Below it, the text held whole is less than the collector's
// smallest heap goal (4 MiB), and holding it spares the CPU that a
// collector with less to keep spends running more often: 13% more for
// 1,000 hybrid-sealed Secrets (1.4 MB) read line by line, for 7 MiB less
// at peak. Above it, the input dominates what a run holds: 10,000 of them
// (30 MB) peak at 48 MiB streamed and 108 MiB read whole.
var streamMin int64 = 4 << 20

// unchanged refuses in, read as worked on, if its file's size or
// modification time is not what it was when opened: rewritten while it
// was read (which lasts as long as the work does), what was read may be
// parts of two files.
func (in *input) unchanged() error {
	st, err := in.src.Stat()
	if err != nil {
		return err
	}
	if st.Size() != in.size || !st.ModTime().Equal(in.mtime) {
		return manifest.ErrChanged
	}
	return nil
}

// streams says whether f reads the file p as it works on it (stream),
// once it is opened and its size is known (streamMin).
func (f *fileFlags) streams(p string) bool {
	return f.stream && f.each && !f.inPlace && p != "-" && !f.dotenvFile(p) // --dry-run sets inPlace (readWith)
}

// ownText is the text of bytes just read, which nothing else holds and
// nothing writes again: it shares them, as strings.Builder's String does,
// rather than copying. The documents parsed from an input are substrings
// of its text, so the input is held once, not twice (3 MB of a decrypt of
// 1,000 hybrid-sealed Secrets).
func ownText(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (f *fileFlags) registerDryRun(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "list the files and objects -i would change, write nothing; exit 4 if any would change (implies -i)")
}

// read loads and parses every input. Nothing is written yet.
func (f *fileFlags) read(e *env, args []string) ([]*input, error) {
	return f.readWith(e, args, nil, func(p string, in *input) (err error) {
		in.strm, err = f.parse(p, in.text)
		return err
	})
}

// readWith is read for a caller that parses each input itself: parse sets
// in.strm. begin, when not nil, is told how many inputs there will be
// first.
func (f *fileFlags) readWith(e *env, args []string, begin func(files int), parse func(p string, in *input) error) ([]*input, error) {
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
	if begin != nil {
		begin(len(paths))
	}
	var ins []*input
	rewritten := map[string]bool{}
	for _, p := range paths {
		if p == "-" && f.inPlace {
			return nil, usagef("-i cannot rewrite standard input")
		}
		in, err := f.openInput(e, p)
		if err != nil {
			return nil, err
		}
		if err := f.readOne(p, in, rewritten, parse); err != nil {
			return nil, err
		}
		if in.strm == nil {
			continue // the same file under two names
		}
		ins = append(ins, in)
	}
	return ins, nil
}

// readOne checks and parses in, the input just opened or read from p,
// and closes it if open. It leaves in.strm nil for a file -i already
// rewrites under another name (in rewritten).
func (f *fileFlags) readOne(p string, in *input, rewritten map[string]bool, parse func(p string, in *input) error) (err error) {
	if in.src != nil {
		defer func() {
			in.src.Close()
			in.src = nil
		}()
	}
	switch {
	case in.path == "":
	case in.mode&fs.ModeNamedPipe != 0:
		if f.inPlace {
			return usagef("-i cannot rewrite %s: not a regular file (a pipe or process substitution)", p)
		}
		in.real = p // a pipe is read once and never rewritten
	default:
		// -i rewrites what a link points to, never the link.
		if in.real, err = realPath(p); err != nil {
			return err
		}
	}
	if f.inPlace {
		if rewritten[in.real] {
			return nil
		}
		rewritten[in.real] = true
	}
	if in.src == nil { // else parse reads and checks it (readWorking)
		if err := checkNotEmpty(in.name, in.text); err != nil {
			return err
		}
	}
	if err := parse(p, in); err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	return nil
}

// dotenvFile says whether the file p is read as a dotenv file.
func (f *fileFlags) dotenvFile(p string) bool {
	return f.dotenv && p != "-" && manifest.IsDotenvName(p)
}

// parse reads the content of the file named p: as a dotenv file when the
// command reads those and p is named as one, else as a manifest stream.
func (f *fileFlags) parse(p string, text string) (*manifest.Stream, error) {
	if f.dotenvFile(p) {
		return manifest.ParseDotenv([]byte(text), f.dotenvName)
	}
	if f.each && f.plain {
		return manifest.ParseEachPlain(text)
	}
	if f.each {
		return manifest.ParseEach(text)
	}
	return manifest.ParseText(text)
}

// readRegular reads a regular file or a pipe (process substitution,
// /dev/stdin) up to the read cap.
func readRegular(p string) ([]byte, fs.FileMode, error) {
	return readSource(p, maxFileSize)
}
