package keys

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
)

// RecipientParser parses one recipient string of a provider.
type RecipientParser func(s string) (Recipient, error)

// IdentityParser parses one line of an identity file. The line holds secret
// material: a parser must never quote it in an error.
type IdentityParser func(line string) (Identity, error)

// IdentitySource finds the identities a provider can use without being told,
// such as keys named by environment variables or a cloud credential chain.
type IdentitySource func(ctx context.Context) ([]Identity, error)

// registry holds what the providers registered (Register); one lock
// guards it and the other tables of this package.
var registry = struct {
	sync.RWMutex
	recipients map[string]RecipientParser
	identities map[string]IdentityParser
	sources    map[string]IdentitySource
}{
	recipients: map[string]RecipientParser{},
	identities: map[string]IdentityParser{},
	sources:    map[string]IdentitySource{},
}

func longestPrefix[T any](m map[string]T, s string) (T, bool) {
	var best string
	var found T
	ok := false
	for p, v := range m {
		if strings.HasPrefix(s, p) && len(p) >= len(best) {
			best, found, ok = p, v, true
		}
	}
	return found, ok
}

// ParseRecipient parses a recipient string with the provider registered for
// its prefix.
func ParseRecipient(s string) (Recipient, error) {
	s = strings.TrimSpace(s)
	if form := privateKeyForm(s); form != "" {
		return nil, errPrivateKey(form)
	}
	registry.RLock()
	p, ok := longestPrefix(registry.recipients, s)
	registry.RUnlock()
	if !ok {
		if tp := typePrefix(s); tp != "" {
			return nil, fmt.Errorf("unknown recipient type %q… (known prefixes: %s)", tp, strings.Join(RecipientPrefixes(), ", "))
		}
		return nil, fmt.Errorf("unknown recipient type (not shown: no type prefix such as age1 or arn: starts it; known prefixes: %s)", strings.Join(RecipientPrefixes(), ", "))
	}
	return p(s)
}

// RecipientPrefixes lists the registered recipient prefixes, sorted.
func RecipientPrefixes() []string {
	registry.RLock()
	defer registry.RUnlock()
	var ps []string
	for p := range registry.recipients {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// ParseRecipients reads one recipient per line; blank lines and lines that
// start with '#' are skipped. name is used in errors.
func ParseRecipients(r io.Reader, name string) ([]Recipient, error) {
	var out []Recipient
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rc, err := ParseRecipient(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		out = append(out, rc)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no recipients found", name)
	}
	return out, nil
}

// ParseIdentities reads an identity file: one identity per line, blank lines
// and '#' comments skipped. Errors give the line number, never the line.
func ParseIdentities(r io.Reader, name string) ([]Identity, error) {
	const limit = 1 << 20
	lr := &io.LimitedReader{R: r, N: limit + 1}
	var out []Identity
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 64*1024), limit)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		registry.RLock()
		p, ok := longestPrefix(registry.identities, line)
		registry.RUnlock()
		if !ok {
			if _, err := ParseRecipient(line); err == nil {
				return nil, fmt.Errorf("%s:%d: a public key (recipient), not an identity: pass the file holding its private key", name, n)
			}
			return nil, fmt.Errorf("%s:%d: unknown identity type", name, n)
		}
		id, err := p(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		out = append(out, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if lr.N == 0 {
		return nil, fmt.Errorf("%s: identity file is larger than %d bytes", name, limit)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no identities found", name)
	}
	return out, nil
}

// ParseIdentityFile reads the identity file at path. It refuses anything but
// a regular file.
func ParseIdentityFile(path string) ([]Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return ParseIdentities(f, path)
}

// DefaultIdentities gathers the identities of every registered source. A
// source that fails is reported together with the others' results so the
// caller can still open objects the remaining identities cover.
func DefaultIdentities(ctx context.Context) ([]Identity, error) {
	registry.RLock()
	names := make([]string, 0, len(registry.sources))
	for n := range registry.sources {
		names = append(names, n)
	}
	registry.RUnlock()
	sort.Strings(names)
	var ids []Identity
	var errs []error
	for _, n := range names {
		registry.RLock()
		src := registry.sources[n]
		registry.RUnlock()
		got, err := src(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
			continue
		}
		ids = append(ids, got...)
	}
	return ids, errors.Join(errs...)
}
