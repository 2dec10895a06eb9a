package crypto

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"

	"kseal.dev/kseal/pkg/keys"
)

// ErrIntegrity means the commitment or a value's authentication failed: the
// object was changed, or moved or renamed beyond what its scope allows.
var ErrIntegrity = errors.New("integrity check failed")

// IntegrityError says which section's commitment failed and what the scope
// binds, without any secret.
type IntegrityError struct {
	Section int
	Field   string // set when a single value failed to authenticate
	Scope   Scope
	Target  Target
}

func (e *IntegrityError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %v: value does not authenticate (moved from another field or object, or tampered; %s)", e.Field, ErrIntegrity, e.Scope.Describe(e.Target))
	}
	return fmt.Sprintf("%v: section %d: values, recipients or the object's identity differ from what was sealed (a value added, removed, swapped or altered, a recipient stripped, or the object moved: %s)", ErrIntegrity, e.Section, e.Scope.Describe(e.Target))
}

func (e *IntegrityError) Unwrap() error { return ErrIntegrity }

// SectionReport says how one section was opened.
type SectionReport struct {
	Index  int
	Type   string // stanza type that opened it
	KeyID  string // key that opened it
	Fields []string
}

// Opened is an opened object: plaintext values and the data keys, so that
// edits can keep unchanged ciphertexts and re-encryption can rewrap.
type Opened struct {
	Values   map[string][]byte
	Sections []SectionReport
	Removed  []Removal

	sealed *Sealed
	target Target
	keys   []*sectionKeys
}

// Open verifies and opens s as the object t with the given identities. Each
// section's data key is unwrapped by the identity that owns one of its
// key IDs, its commitment is checked, then its values are opened.
func Open(ctx context.Context, s *Sealed, t Target, ids []keys.Identity) (*Opened, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	e := &s.Envelope
	b := e.Scope.Binding(t)
	o := &Opened{Values: map[string][]byte{}, Removed: e.Removed, sealed: s, target: t}
	fields := s.Fields()
	for i := range e.Sections {
		dek, st, err := keys.UnwrapAny(ctx, e.stanzas(i), b, ids)
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", i, err)
		}
		k, err := deriveKeys(dek)
		if err != nil {
			return nil, err
		}
		if !hmac.Equal(k.mac(s, i, t), e.Sections[i].MAC) {
			return nil, &IntegrityError{Section: i, Scope: e.Scope, Target: t}
		}
		o.keys = append(o.keys, k)
		o.Sections = append(o.Sections, SectionReport{Index: i, Type: st.Type, KeyID: st.KeyID, Fields: fields[i]})
	}
	for key, v := range s.Values {
		pt, err := o.keys[v[0]].openValue(e.Scope, t, key, v)
		if err != nil {
			return nil, &IntegrityError{Section: int(v[0]), Field: Field(key), Scope: e.Scope, Target: t}
		}
		o.Values[key] = pt
	}
	return o, nil
}

// Scope returns the scope of the opened object.
func (o *Opened) Scope() Scope { return o.sealed.Envelope.Scope }

// Update seals values as a new version of the opened object. The result has
// one section under the first section's data key and recipients; a value
// whose plaintext is unchanged and that was sealed in that section keeps its
// exact ciphertext, so diffs show only what changed.
func (o *Opened) Update(rand io.Reader, values map[string][]byte) (*Sealed, error) {
	old := o.sealed
	k := o.keys[0]
	s := &Sealed{
		Envelope: Envelope{Version: FormatVersion, Scope: old.Envelope.Scope, Sections: []Section{{Recipients: old.Envelope.Sections[0].Recipients}}},
		Values:   map[string][]byte{},
	}
	for _, key := range sortedKeys(values) {
		if err := CheckKey(key); err != nil {
			return nil, fmt.Errorf("%s: %w", Field(key), err)
		}
		if prev, ok := old.Values[key]; ok && prev[0] == 0 && bytes.Equal(o.Values[key], values[key]) {
			s.Values[key] = prev
			continue
		}
		ct, err := k.sealValue(rand, 0, s.Envelope.Scope, o.target, key, values[key])
		if err != nil {
			return nil, err
		}
		s.Values[key] = ct
	}
	s.Envelope.Sections[0].MAC = k.mac(s, 0, o.target)
	return s, nil
}

// Rewrap wraps every section's data key to rcpts instead of the current
// recipients. Value ciphertexts are unchanged; commitments are recomputed.
func (o *Opened) Rewrap(ctx context.Context, rcpts []keys.Recipient) (*Sealed, error) {
	old := o.sealed
	s := &Sealed{
		Envelope: Envelope{Version: FormatVersion, Scope: old.Envelope.Scope, Removed: old.Envelope.Removed},
		Values:   old.Values,
	}
	b := s.Envelope.Scope.Binding(o.target)
	for _, k := range o.keys {
		wraps, err := wrapAll(ctx, k.dek, b, rcpts)
		if err != nil {
			return nil, err
		}
		s.Envelope.Sections = append(s.Envelope.Sections, Section{Recipients: wraps})
	}
	for i, k := range o.keys {
		s.Envelope.Sections[i].MAC = k.mac(s, i, o.target)
	}
	return s, nil
}

// Target returns the object the opened values belong to.
func (o *Opened) Target() Target { return o.target }
