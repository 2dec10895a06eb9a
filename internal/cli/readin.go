package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// MaxSecretSize is what one Secret can hold: the API server refuses a
// Secret whose data exceeds 1 MiB, so kseal refuses to seal one.
const MaxSecretSize = 1 << 20

// stdinOnce hands standard input to one reader per run: `KEY=-` twice, or
// `KEY=-` while the manifest also comes from standard input, would give
// the second reader nothing.
type stdinOnce struct {
	mu   sync.Mutex
	used string
}

func (s *stdinOnce) take(who string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used != "" {
		return usagef("standard input is read once: %s and %s both ask for it", s.used, who)
	}
	s.used = who
	return nil
}

// errNotReadable marks a path that is neither a regular file nor a pipe.
var errNotReadable = errors.New("not a regular file or pipe")

// readSource reads p, which may be a regular file, a named pipe, process
// substitution (/dev/fd/N) or /dev/stdin, up to limit bytes: a pipe is
// read up to the limit and refused past it; a regular file larger than the
// limit is refused before reading. Directories and devices are refused.
// The mode is the file's permission bits, or fs.ModeNamedPipe for a pipe.
func readSource(p string, limit int64) ([]byte, fs.FileMode, error) {
	f, st, err := openSource(p, limit)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return readOpened(p, f, st, limit)
}

// readOpened is readSource of f, opened by openSource(p, limit) as st.
func readOpened(p string, f *os.File, st fs.FileInfo, limit int64) ([]byte, fs.FileMode, error) {
	// A regular file's size is known: one buffer of it (and a little
	// more, to see it has not grown) rather than ReadAll's doublings.
	buf := bytes.NewBuffer(make([]byte, 0, min(st.Size(), limit)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, 0, err
	}
	b := buf.Bytes()
	if int64(len(b)) > limit {
		return nil, 0, fmt.Errorf("%s: larger than %d bytes", p, limit)
	}
	if !st.Mode().IsRegular() {
		return b, fs.ModeNamedPipe, nil
	}
	return b, st.Mode().Perm(), nil
}

// openSource opens p as readSource reads it, refusing what readSource
// refuses before reading: what is not a regular file or a pipe, and a
// regular file larger than limit. st is what was opened.
func openSource(p string, limit int64) (f *os.File, st fs.FileInfo, err error) {
	// Stat first: opening a device may have effects of its own, and
	// opening a directory would succeed.
	if st, err = os.Stat(p); err != nil {
		return nil, nil, err
	}
	switch {
	case st.IsDir():
		return nil, nil, fmt.Errorf("%s: is a directory", p)
	case st.Mode().IsRegular():
	case st.Mode()&fs.ModeNamedPipe != 0:
	default:
		return nil, nil, fmt.Errorf("%s: %w", p, errNotReadable)
	}
	if f, err = os.Open(p); err != nil {
		return nil, nil, err
	}
	// What was opened is what counts (the path may have changed since).
	if st, err = f.Stat(); err != nil {
		f.Close()
		return nil, nil, err
	}
	switch {
	case st.Mode().IsRegular():
		if st.Size() > limit {
			f.Close()
			return nil, nil, fmt.Errorf("%s: larger than %d bytes", p, limit)
		}
	case st.Mode()&fs.ModeNamedPipe != 0:
	default:
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", p, errNotReadable)
	}
	return f, st, nil
}

// readStdin reads standard input up to limit bytes.
func readStdin(e *env, who string, limit int64) ([]byte, error) {
	if err := e.stdinOnce.take(who); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(e.stdin, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("standard input: larger than %d bytes", limit)
	}
	return b, nil
}

// readValue reads a --from-file value: "-" is standard input; anything
// else goes through readSource. A value is capped at what a Secret holds.
func readValue(e *env, who, p string) ([]byte, error) {
	if p == "-" {
		return readStdin(e, who, MaxSecretSize)
	}
	b, _, err := readSource(p, MaxSecretSize)
	return b, err
}

// checkSecretSize refuses values a Secret could not hold: the API server
// caps a Secret's data at 1 MiB in all.
func checkSecretSize(values map[string][]byte) error {
	total := 0
	for k, v := range values {
		if len(v) > MaxSecretSize {
			return fmt.Errorf("%s: value of %d bytes; a Secret holds at most %d bytes", crypto.Field(k), len(v), MaxSecretSize)
		}
		total += len(v)
	}
	if total > MaxSecretSize {
		return fmt.Errorf("values of %d bytes in all; a Secret holds at most %d bytes", total, MaxSecretSize)
	}
	return nil
}

// checkNotEmpty refuses an input with no document at all
// (manifest.ErrEmpty).
func checkNotEmpty(name string, data string) error {
	if manifest.OnlyComments(data) {
		return fmt.Errorf("%s: %w", name, manifest.ErrEmpty)
	}
	return nil
}
