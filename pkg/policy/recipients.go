package policy

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MaxRecipientsFile caps a cluster's recipientsFile. A file of recipients
// of a few active keys is a few kilobytes (an age1pq1… recipient is about
// 2,000 characters); the cap keeps a hostile file from exhausting memory.
const MaxRecipientsFile = 1 << 20

// readRecipientsFile reads the recipientsFile of cluster name. A git writer
// chooses the path, so it is read only if it is a regular file inside the
// repository — the directory holding kseal.yaml and everything below it,
// both with symbolic links resolved, so neither ".." nor a link leads out —
// and at most MaxRecipientsFile bytes: a link to /dev/zero, a FIFO or a
// file elsewhere on the machine is refused, naming the policy file (and
// line), the field and the path.
func (p *Policy) readRecipientsFile(name, rel string) ([]byte, string, error) {
	at := "clusters." + name + ".recipientsFile"
	fail := func(format string, a ...any) error {
		return p.errAt(at, "%s %q: %s", at, rel, fmt.Sprintf(format, a...))
	}
	root, err := filepath.Abs(p.Dir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, "", fail("the policy's directory: %v", err)
	}
	f := filepath.Join(p.Dir, rel)
	real, err := filepath.Abs(f)
	if err == nil {
		real, err = filepath.EvalSymlinks(real)
	}
	if err != nil {
		return nil, "", fail("%v", err)
	}
	if r, err := filepath.Rel(root, real); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return nil, "", fail("leads to %s, outside the repository (%s and below)", real, root)
	}
	// Stat before opening: opening a device or a FIFO may block or have
	// effects of its own.
	st, err := os.Stat(real)
	if err != nil {
		return nil, "", fail("%v", err)
	}
	if !st.Mode().IsRegular() {
		return nil, "", fail("%s is not a regular file (%s)", real, st.Mode().Type())
	}
	if st.Size() > MaxRecipientsFile {
		return nil, "", fail("larger than %d bytes", MaxRecipientsFile)
	}
	fh, err := os.Open(real)
	if err != nil {
		return nil, "", fail("%v", err)
	}
	defer fh.Close()
	// What was opened is what counts (the path may have changed since).
	if st, err = fh.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, "", fail("%s is not a regular file", real)
	}
	b, err := io.ReadAll(io.LimitReader(fh, MaxRecipientsFile+1))
	if err != nil {
		return nil, "", fail("%v", err)
	}
	if len(b) > MaxRecipientsFile {
		return nil, "", fail("larger than %d bytes", MaxRecipientsFile)
	}
	return b, f, nil
}
