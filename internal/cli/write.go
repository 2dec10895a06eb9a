package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"kseal.dev/kseal/pkg/manifest"
)

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
// Each is kept as its pieces, written one after another (a sealed stream
// is several times its input: not copied into one buffer first).
func (f *fileFlags) render(ins []*input) ([]manifest.Rendered, error) {
	outs := make([]manifest.Rendered, len(ins))
	total := 0
	for i, in := range ins {
		r, err := in.strm.Render()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
		// Before anything is written: a file kseal could not read back.
		if err := checkReadBack(in.name, r.Len()); err != nil {
			return nil, err
		}
		outs[i] = r
		total += r.Len()
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
			if !in.dirty || outs[i].Equal(in.text) {
				continue
			}
			if err := writeAtomicFrom(in.real, outs[i], in.mode); err != nil {
				return err
			}
		}
		return nil
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for i, r := range outs {
		if i > 0 {
			if _, err := bw.WriteString("---\n"); err != nil {
				return err
			}
		}
		if _, err := r.WriteTo(bw); err != nil {
			return err
		}
		if !r.EndsInNewline() {
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over the original, so a reader sees the
// old or the new file and never a half-written one.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	return writeAtomicFrom(path, bytes.NewReader(data), mode)
}

// writeAtomicFrom is writeAtomic of what src writes.
func writeAtomicFrom(path string, src io.WriterTo, mode fs.FileMode) error {
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
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if _, err := src.WriteTo(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
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

// dryRunReport lists, on standard output, every file -i would rewrite and
// the objects in it that change; it returns an ExitFindings error when
// there is any, so that CI can tell "up to date" from "needs a run".
func dryRunReport(e *env, ins []*input, outs []manifest.Rendered) error {
	n := 0
	for i, in := range ins {
		if !in.dirty || outs[i].Equal(in.text) {
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
