package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"kseal.dev/kseal/pkg/crypto"
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
	// Stat first: opening a device may have effects of its own, and
	// opening a directory would succeed.
	st, err := os.Stat(p)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case st.IsDir():
		return nil, 0, fmt.Errorf("%s: is a directory", p)
	case st.Mode().IsRegular():
		if st.Size() > limit {
			return nil, 0, fmt.Errorf("%s: larger than %d bytes", p, limit)
		}
	case st.Mode()&fs.ModeNamedPipe != 0:
	default:
		return nil, 0, fmt.Errorf("%s: %w", p, errNotReadable)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	// What was opened is what counts (the path may have changed since).
	if st, err = f.Stat(); err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() && st.Mode()&fs.ModeNamedPipe == 0 {
		return nil, 0, fmt.Errorf("%s: %w", p, errNotReadable)
	}
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

// errEmpty: an input with no document at all. `kseal seal f.yaml >
// f.yaml` truncates f.yaml before kseal reads it; succeeding on the empty
// file would leave it empty with exit 0.
var errEmpty = errors.New("empty input: no documents")

func checkNotEmpty(name string, data string) error {
	if onlyComments(data) {
		return fmt.Errorf("%s: %w", name, errEmpty)
	}
	return nil
}

// onlyComments is stripComments(data) == "" without copying the input:
// decrypt and seal check every input they read.
func onlyComments(data string) bool {
	for len(data) > 0 {
		l := data
		if i := strings.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			data = ""
		}
		if t := strings.TrimSpace(l); len(t) > 0 && t[0] != '#' && t != "---" {
			return false
		}
	}
	return true
}
