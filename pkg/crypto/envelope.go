package crypto

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"kseal.dev/kseal/pkg/keys"
)

// FormatVersion is the envelope version this package writes and reads.
// Version 1 (before the template was committed and removals were
// authenticated) is no longer read: nothing had shipped.
const FormatVersion = 2

// Limits of the format. Validate enforces them, and the SealedSecret CRD
// states the same numbers (a test in api/v1alpha1 keeps them equal), so the
// API server refuses what the controller would.
const (
	// MaxSections is the most sections one object has.
	MaxSections = 255
	// MaxRecipients is the most wraps one section has.
	MaxRecipients = 64
	// MaxValues is the most values one object has, and the most removals
	// one section records.
	MaxValues = 4096
	// MaxWrapSize is the largest wrap, in bytes.
	MaxWrapSize = 16 << 10
	// MaxValueSize is the largest plaintext value, in bytes.
	MaxValueSize = 1 << 20
	// MACSize is the size of a section's commitment, in bytes.
	MACSize = sha256.Size
	// DigestSize is the size of a removal's digest, in bytes.
	DigestSize = sha256.Size
	// TemplateDigestSize is the size of the template digest a SealedFor
	// hint records, in bytes.
	TemplateDigestSize = sha256.Size
)

// Envelope is everything about a sealed object except the value
// ciphertexts: the scope (the one place it is recorded) and the sections
// with their wraps, removals and commitments. It marshals to JSON (the
// Secret annotation) and YAML (SealedSecret spec) with the same field
// names; []byte fields are standard base64.
type Envelope struct {
	Version   int        `json:"version"`
	Scope     Scope      `json:"scope"`
	SealedFor *SealedFor `json:"sealedFor,omitempty"`
	Sections  []Section  `json:"sections"`
}

// SealedFor records what an object was sealed for: the namespace and name
// its scope binds (only those: empty where the scope binds nothing) and the
// digest of its template. Seal writes it; set and unset keep it.
//
// Nothing commits to it and nothing is opened with it: it only explains a
// failure. When a section's commitment fails, Open recomputes it with the
// section's data key under the recorded namespace and name (or template);
// only if that verifies does the error say the object was renamed (or its
// template changed), which is then proven, not taken on the envelope's
// word. Everything it holds is public already: the names are in the
// object's metadata and the template's digest is computed from the
// object's own type, labels and annotations.
type SealedFor struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Template  []byte `json:"template"`
}

// Section is one data key: its wraps, the values its author removed, and
// its commitment, which also covers the previous section's commitment.
type Section struct {
	Recipients []Wrap    `json:"recipients"`
	Removed    []Removal `json:"removed,omitempty"`
	MAC        []byte    `json:"mac"`
}

// Wrap is the data key of a section wrapped for one recipient.
type Wrap struct {
	Type  string `json:"type"`
	KeyID string `json:"keyID"`
	Data  []byte `json:"data"`
}

// Removal records a value that the author of a later section removed
// (`kseal unset`, or `kseal set` over an existing value): the field, the
// earlier section it was sealed in and the SHA-256 of its ciphertext. The
// removing section's commitment covers it, and the earlier section's
// commitment still verifies through the digest.
type Removal struct {
	Field   string `json:"field"`
	Section int    `json:"section"`
	Digest  []byte `json:"digest"`
}

// Sealed is one sealed object: its envelope and its value ciphertexts keyed
// by Secret data key.
type Sealed struct {
	Envelope Envelope
	Values   map[string][]byte
}

// CheckKey reports whether k is a valid Secret data key: the Kubernetes
// rule, at most 253 bytes of [-._a-zA-Z0-9]. (A loop, not the regular
// expression it was: that took 1.6% of decrypt's CPU; TestCheckKeyIsThePattern
// holds the two together.)
func CheckKey(k string) error {
	ok := len(k) > 0 && len(k) <= 253
	for i := 0; ok && i < len(k); i++ {
		c := k[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
	}
	if !ok {
		return fmt.Errorf("invalid key %q: must consist of alphanumerics, '-', '_' or '.'", k)
	}
	return nil
}

// CheckNewKey is CheckKey for a value about to be sealed: it also refuses
// what the API server refuses besides, ".", ".." and any key starting
// with ".." (a Secret volume keeps its own files under such names), so
// that kseal never seals a Secret no cluster would take. A sealed object
// read back is held to CheckKey alone: one sealed before this rule still
// opens, and such a key can still be removed (kseal unset).
func CheckNewKey(k string) error {
	if err := CheckKey(k); err != nil {
		return err
	}
	if k == "." || strings.HasPrefix(k, "..") {
		return fmt.Errorf("invalid key %q: must not be '.' or '..', nor start with '..' (the API server refuses it)", k)
	}
	return nil
}

// ErrFormat marks a structurally invalid envelope or value.
var ErrFormat = errors.New("malformed envelope")

func formatErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
}

// truncated words a required field found missing or short: what an
// envelope cut short looks like (a file cut at the end, where the envelope
// of a SealedSecret is), and what a document that is no kseal envelope at
// all looks like.
const truncated = "truncated or not a kseal envelope"

// Validate checks the structure of s: version, scope, limits, and that every
// value and removal names an existing section. It never looks at keys.
func (s *Sealed) Validate() error {
	e := &s.Envelope
	if err := e.checkHeader(); err != nil {
		return err
	}
	for i, sec := range e.Sections {
		if err := checkSection(i, sec); err != nil {
			return err
		}
	}
	if err := s.checkValues(); err != nil {
		return err
	}
	return s.checkRemovals()
}

// checkHeader owns the envelope's frame: version, scope, the SealedFor hint
// and the number of sections. A missing field is worded as truncation,
// since that is what an envelope cut short (or no envelope) looks like.
func (e *Envelope) checkHeader() error {
	switch {
	case e.Version == 0 && e.Scope == "" && e.Sections == nil:
		return formatErr("%s: no version, scope or sections", truncated)
	case e.Version == 0:
		return formatErr("%s: no version", truncated)
	case e.Version != FormatVersion:
		return formatErr("version %d (this kseal reads version %d)", e.Version, FormatVersion)
	case e.Scope == "":
		return formatErr("%s: no scope", truncated)
	case e.Sections == nil:
		return formatErr("%s: no sections", truncated)
	}
	if _, err := ParseScope(string(e.Scope)); err != nil {
		return formatErr("scope %q: want strict, namespace, shared or cluster", e.Scope)
	}
	if h := e.SealedFor; h != nil {
		if err := h.check(); err != nil {
			return formatErr("sealedFor: %v", err)
		}
	}
	if len(e.Sections) == 0 || len(e.Sections) > MaxSections {
		return formatErr("%d sections (want 1 to %d)", len(e.Sections), MaxSections)
	}
	return nil
}

// checkSection owns the shape of section i on its own: its wraps, the
// number of its removals and the size of its commitment. What a removal
// names is checked against the whole object by checkRemovals.
func checkSection(i int, sec Section) error {
	switch {
	case sec.Recipients == nil:
		return formatErr("section %d: %s: no recipients", i, truncated)
	case len(sec.Recipients) == 0 || len(sec.Recipients) > MaxRecipients:
		return formatErr("section %d: %d recipients (want 1 to %d)", i, len(sec.Recipients), MaxRecipients)
	}
	for j, w := range sec.Recipients {
		if w.Type == "" || w.KeyID == "" || len(w.Data) == 0 {
			return formatErr("section %d recipient %d: %s: needs type, keyID and data", i, j, truncated)
		}
		if len(w.Data) > MaxWrapSize {
			return formatErr("section %d recipient %d: data is %d bytes (at most %d)", i, j, len(w.Data), MaxWrapSize)
		}
	}
	if len(sec.Removed) > MaxValues {
		return formatErr("section %d: %d removals (at most %d)", i, len(sec.Removed), MaxValues)
	}
	switch {
	case len(sec.MAC) == 0:
		return formatErr("section %d: %s: no mac", i, truncated)
	case len(sec.MAC) != MACSize:
		return formatErr("section %d: mac is %d bytes, want %d (%s?)", i, len(sec.MAC), MACSize, truncated)
	}
	return nil
}

// checkValues owns the value ciphertexts: how many, their keys, their
// size, and that each names a section the envelope has.
func (s *Sealed) checkValues() error {
	if len(s.Values) > MaxValues {
		return formatErr("%d values (at most %d)", len(s.Values), MaxValues)
	}
	for k, v := range s.Values {
		if err := CheckKey(k); err != nil {
			return formatErr("%v", err)
		}
		sec, _, _, err := splitValue(v)
		if err != nil {
			return fmt.Errorf("%s: %w", Field(k), err)
		}
		if sec >= len(s.Envelope.Sections) {
			return formatErr("%s: section %d does not exist", Field(k), sec)
		}
	}
	return nil
}

// checkRemovals owns the removals: each names an earlier section and a
// data key once, with a digest, and the value it removes is gone. It runs
// after checkValues, which guarantees every value has the section byte it
// reads.
func (s *Sealed) checkRemovals() error {
	type removalKey struct {
		field   string
		section int
	}
	seen := map[removalKey]bool{}
	for j, sec := range s.Envelope.Sections {
		for _, r := range sec.Removed {
			if r.Section < 0 || r.Section >= j || len(r.Digest) != DigestSize {
				return formatErr("section %d: removed %q: must name an earlier section and carry a %d-byte digest", j, r.Field, DigestSize)
			}
			if err := CheckKey(trimField(r.Field)); err != nil || r.Field == trimField(r.Field) {
				return formatErr("section %d: removed %q: want data.KEY", j, r.Field)
			}
			key := removalKey{r.Field, r.Section}
			if seen[key] {
				return formatErr("section %d: removed %q: section %d's value is removed twice", j, r.Field, r.Section)
			}
			seen[key] = true
			if v, ok := s.Values[trimField(r.Field)]; ok && int(v[0]) == r.Section {
				return formatErr("section %d: removed %q: still present in section %d", j, r.Field, r.Section)
			}
		}
	}
	return nil
}

func trimField(f string) string {
	if len(f) > len(fieldPrefix) && f[:len(fieldPrefix)] == fieldPrefix {
		return f[len(fieldPrefix):]
	}
	return f
}

// splitValue parses section || nonce || ciphertext||tag.
func splitValue(v []byte) (section int, nonce, ct []byte, err error) {
	if len(v) < 1+nonceSize+tagSize {
		return 0, nil, nil, formatErr("value is %d bytes, shorter than the minimum %d (truncated?)", len(v), 1+nonceSize+tagSize)
	}
	if len(v) > MaxValueSize+1+nonceSize+tagSize {
		return 0, nil, nil, formatErr("value is %d bytes, larger than a Secret can hold", len(v))
	}
	return int(v[0]), v[1 : 1+nonceSize], v[1+nonceSize:], nil
}

// Recipients returns the stanzas of section i, for keys.UnwrapAny.
func (e *Envelope) stanzas(i int) []*keys.Stanza {
	out := make([]*keys.Stanza, len(e.Sections[i].Recipients))
	for j, w := range e.Sections[i].Recipients {
		out[j] = &keys.Stanza{Type: w.Type, KeyID: w.KeyID, Body: w.Data}
	}
	return out
}

// KeyIDs returns the distinct key IDs of all sections, sorted.
func (e *Envelope) KeyIDs() []string {
	var all []Wrap
	for _, sec := range e.Sections {
		all = append(all, sec.Recipients...)
	}
	return wrapIDs(all)
}

// BaseKeyIDs returns who the object is sealed to, base: the key IDs of its
// first section, sorted; and extra: key IDs some later section is wrapped
// to that the first lacks. Anyone can append a section with public keys
// alone, so an extra key is a git writer's word, and a command that keeps
// "the object's recipients" (edit, merge-driver, reencrypt, rotate) must
// not adopt it: a writer could append a section wrapped to a KMS key of
// its own (whose key ID is also its recipient) and have the next honest
// edit seal every value to it.
func (e *Envelope) BaseKeyIDs() (base, extra []string) {
	if len(e.Sections) == 0 {
		return nil, nil
	}
	base = wrapIDs(e.Sections[0].Recipients)
	for _, id := range e.KeyIDs() {
		if !slices.Contains(base, id) {
			extra = append(extra, id)
		}
	}
	return base, extra
}

// Fields returns, per section, the fields currently sealed in it, sorted.
func (s *Sealed) Fields() [][]string {
	out := make([][]string, len(s.Envelope.Sections))
	for _, k := range sortedKeys(s.Values) {
		if sec, _, _, err := splitValue(s.Values[k]); err == nil && sec < len(out) {
			out[sec] = append(out[sec], Field(k))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
