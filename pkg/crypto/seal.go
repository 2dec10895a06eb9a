package crypto

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"kseal.dev/kseal/pkg/keys"
)

// sectionKeys are the keys derived from one section's DEK.
type sectionKeys struct {
	dek      []byte
	valueKey []byte
	macKey   []byte
}

// deriveKeys derives a section's value and commitment keys from its DEK:
// each is HKDF-SHA256(dek, no salt, its label). One extract serves both
// expands (hkdf.Key would compute the same pseudorandom key twice).
func deriveKeys(dek []byte) (*sectionKeys, error) {
	prk, err := hkdf.Extract(sha256.New, dek, nil)
	if err != nil {
		return nil, err
	}
	vk, err := hkdf.Expand(sha256.New, prk, labelValueKey, 32)
	if err != nil {
		return nil, err
	}
	mk, err := hkdf.Expand(sha256.New, prk, labelMACKey, 32)
	if err != nil {
		return nil, err
	}
	return &sectionKeys{dek: dek, valueKey: vk, macKey: mk}, nil
}

func newSectionKeys(rand io.Reader) (*sectionKeys, error) {
	dek := make([]byte, dekSize)
	if _, err := io.ReadFull(rand, dek); err != nil {
		return nil, fmt.Errorf("reading randomness: %w", err)
	}
	return deriveKeys(dek)
}

// sealValue seals one value of section sec.
func (k *sectionKeys) sealValue(rand io.Reader, sec int, scope Scope, t Target, key string, plaintext []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k.valueKey)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+tagSize)
	out[0] = byte(sec)
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return nil, fmt.Errorf("reading randomness: %w", err)
	}
	ns, name := scope.bound(t)
	return aead.Seal(out, out[1:], plaintext, valueAD(scope, ns, name, Field(key))), nil
}

func (k *sectionKeys) openValue(scope Scope, t Target, key string, v []byte) ([]byte, error) {
	_, nonce, ct, err := splitValue(v)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(k.valueKey)
	if err != nil {
		return nil, err
	}
	ns, name := scope.bound(t)
	pt, err := aead.Open(nil, nonce, ct, valueAD(scope, ns, name, Field(key)))
	if err != nil {
		return nil, ErrIntegrity
	}
	return pt, nil
}

// mac computes the commitment of section sec of s under t:
//
//	C = lp(label) || lp(scope) || lp(namespace) || lp(name) || lp(template digest)
//	    || u32(sec) || lp(MAC of section sec-1, empty for section 0)
//	    || wraps of sec, sorted || values sealed in sec, sorted by field
//	    || removals made by sec, sorted
//
// The values sealed in sec are those still present with section byte sec
// and those a later section removed (through the removal's digest), so the
// set never changes after the section is written. The previous MAC chains
// the sections: none can be dropped from the middle or reordered, and the
// last one commits to everything before it.
func (k *sectionKeys) mac(s *Sealed, sec int, t Target) []byte {
	ns, name := s.Envelope.Scope.bound(t)
	return k.macFor(s, sec, ns, name, t.Template.digest())
}

// macFor is mac for the bound namespace ns and name and the template
// digest tmpl.
func (k *sectionKeys) macFor(s *Sealed, sec int, ns, name string, tmpl []byte) []byte {
	e := &s.Envelope
	var prev []byte
	if sec > 0 {
		prev = e.Sections[sec-1].MAC
	}
	c := canon(nil).str(labelMACInput).str(string(e.Scope)).str(ns).str(name).bytes(tmpl).u32(sec).bytes(prev)

	type wrapEntry struct {
		typ, id string
		sum     []byte
	}
	wraps := make([]wrapEntry, 0, len(e.Sections[sec].Recipients))
	for _, w := range e.Sections[sec].Recipients {
		wraps = append(wraps, wrapEntry{w.Type, w.KeyID, digest(w.Data)})
	}
	slices.SortFunc(wraps, func(a, b wrapEntry) int {
		if a.typ != b.typ {
			return strings.Compare(a.typ, b.typ)
		}
		if a.id != b.id {
			return strings.Compare(a.id, b.id)
		}
		return bytes.Compare(a.sum, b.sum)
	})
	c = c.u32(len(wraps))
	for _, w := range wraps {
		c = c.str(w.typ).str(w.id).bytes(w.sum)
	}

	fields := sectionFields(s, sec)
	c = c.u32(len(fields))
	for _, f := range fields {
		c = c.str(f.field).bytes(f.sum)
	}

	removed := sortedRemovals(e.Sections[sec].Removed)
	c = c.u32(len(removed))
	for _, r := range removed {
		c = c.u32(r.Section).str(r.Field).bytes(r.Digest)
	}
	m := hmac.New(sha256.New, k.macKey)
	m.Write(c)
	return m.Sum(nil)
}

// fieldEntry is one value a section sealed: its field and the SHA-256 of
// its ciphertext.
type fieldEntry struct {
	field string
	sum   []byte
}

// sectionFields returns the values sealed in section sec, sorted by field:
// those still present with section byte sec and those a later section
// removed (through the removal's digest).
func sectionFields(s *Sealed, sec int) []fieldEntry {
	var fields []fieldEntry
	for key, v := range s.Values {
		if len(v) > 0 && int(v[0]) == sec {
			fields = append(fields, fieldEntry{Field(key), digest(v)})
		}
	}
	for _, later := range s.Envelope.Sections[sec+1:] {
		for _, r := range later.Removed {
			if r.Section == sec {
				fields = append(fields, fieldEntry{r.Field, r.Digest})
			}
		}
	}
	slices.SortFunc(fields, func(a, b fieldEntry) int { return strings.Compare(a.field, b.field) })
	return fields
}

// sortedRemovals returns rs sorted by section, then field.
func sortedRemovals(rs []Removal) []Removal {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Removal) int {
		if a.Section != b.Section {
			return a.Section - b.Section
		}
		return strings.Compare(a.Field, b.Field)
	})
	return rs
}

func wrapAll(ctx context.Context, dek []byte, b keys.Binding, rcpts []keys.Recipient) ([]Wrap, error) {
	if len(rcpts) == 0 {
		return nil, errors.New("no recipients")
	}
	if len(rcpts) > MaxRecipients {
		return nil, fmt.Errorf("%d recipients (at most %d)", len(rcpts), MaxRecipients)
	}
	out := make([]Wrap, 0, len(rcpts))
	seen := map[string]bool{}
	for _, r := range rcpts {
		if seen[r.KeyID()] {
			continue
		}
		seen[r.KeyID()] = true
		st, err := r.Wrap(ctx, dek, b)
		if err != nil {
			return nil, fmt.Errorf("wrapping for recipient %s: %w", r.KeyID(), err)
		}
		out = append(out, Wrap{Type: st.Type, KeyID: st.KeyID, Data: st.Body})
	}
	return out, nil
}

// checkNewKey is CheckNewKey; a test swaps it to make an object sealed
// before the rule.
var checkNewKey = CheckNewKey

// Seal seals values (Secret data key → plaintext) for t under scope, with
// one fresh data key wrapped to every recipient. rand supplies the data key
// and the nonces.
func Seal(ctx context.Context, rand io.Reader, scope Scope, t Target, values map[string][]byte, rcpts []keys.Recipient) (*Sealed, error) {
	if err := scope.Check(t); err != nil {
		return nil, err
	}
	s := &Sealed{Envelope: Envelope{Version: FormatVersion, Scope: scope, SealedFor: scope.sealedFor(t)}, Values: map[string][]byte{}}
	if err := s.addSection(ctx, rand, t, values, nil, rcpts); err != nil {
		return nil, err
	}
	return s, nil
}

// addSection seals values under a new data key as a new section whose
// author removes the values named in unset and the earlier values that
// values replace.
func (s *Sealed) addSection(ctx context.Context, rand io.Reader, t Target, values map[string][]byte, unset []string, rcpts []keys.Recipient) error {
	sec := len(s.Envelope.Sections)
	if sec >= MaxSections {
		return fmt.Errorf("object already has %d sections; run kseal edit or rotate with a key to fold them", sec)
	}
	for _, key := range unset {
		if _, ok := s.Values[key]; !ok {
			return fmt.Errorf("%s: no such value", Field(key))
		}
		if _, ok := values[key]; ok {
			return fmt.Errorf("%s: both set and removed", Field(key))
		}
	}
	for _, key := range sortedKeys(values) {
		if err := checkNewKey(key); err != nil {
			return fmt.Errorf("%s: %w", Field(key), err)
		}
	}
	k, err := newSectionKeys(rand)
	if err != nil {
		return err
	}
	wraps, err := wrapAll(ctx, k.dek, s.Envelope.Scope.Binding(t), rcpts)
	if err != nil {
		return err
	}
	next := Section{Recipients: wraps}
	vals := maps.Clone(s.Values)
	remove := func(key string) {
		if v, ok := vals[key]; ok {
			next.Removed = append(next.Removed, Removal{Field: Field(key), Section: int(v[0]), Digest: digest(v)})
			delete(vals, key)
		}
	}
	for _, key := range unset {
		remove(key)
	}
	for _, key := range sortedKeys(values) {
		remove(key)
		ct, err := k.sealValue(rand, sec, s.Envelope.Scope, t, key, values[key])
		if err != nil {
			return err
		}
		vals[key] = ct
	}
	s.Values = vals
	s.Envelope.Sections = append(s.Envelope.Sections, next)
	s.Envelope.Sections[sec].MAC = k.mac(s, sec, t)
	return nil
}

// Set adds or replaces values without any private key: they are sealed in a
// new section whose data key is wrapped to rcpts; the section records the
// values it replaces as removed. Only the recipients are needed.
func (s *Sealed) Set(ctx context.Context, rand io.Reader, t Target, values map[string][]byte, rcpts []keys.Recipient) error {
	return s.change(ctx, rand, t, values, nil, rcpts)
}

// Unset removes values without any private key. The removal is a new
// section of its own (with no values), wrapped to rcpts, whose commitment
// covers what it removed: nobody can later take the removal back while
// keeping what came after it.
func (s *Sealed) Unset(ctx context.Context, rand io.Reader, t Target, keysToRemove []string, rcpts []keys.Recipient) error {
	if len(keysToRemove) == 0 {
		return errors.New("nothing to remove")
	}
	return s.change(ctx, rand, t, nil, keysToRemove, rcpts)
}

func (s *Sealed) change(ctx context.Context, rand io.Reader, t Target, values map[string][]byte, unset []string, rcpts []keys.Recipient) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := s.Envelope.Scope.Check(t); err != nil {
		return err
	}
	return s.addSection(ctx, rand, t, values, unset, rcpts)
}
