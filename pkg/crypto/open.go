package crypto

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"slices"

	"kseal.dev/kseal/pkg/keys"
)

// ErrIntegrity means the commitment or a value's authentication failed: the
// object was changed, or moved or renamed beyond what its scope allows.
var ErrIntegrity = errors.New("integrity check failed")

// IntegrityError says which section's commitment failed and what the scope
// binds, without any secret. When the section's data key proves that it
// was sealed for another namespace or name (Renamed) or template
// (TemplateChanged), it says so; see SealedFor.
type IntegrityError struct {
	Section int
	Field   string // set when a single value failed to authenticate
	Scope   Scope
	Target  Target
	// Renamed: the commitment verifies for SealedNamespace and SealedName
	// (those the scope binds) instead of Target's.
	Renamed                     bool
	SealedNamespace, SealedName string
	// TemplateChanged: the commitment verifies for the template the object
	// was sealed with, not Target's.
	TemplateChanged bool
}

func (e *IntegrityError) Error() string {
	switch {
	case e.Field != "":
		return fmt.Sprintf("%s: %v: value does not authenticate (moved from another field or object, or tampered; %s)", e.Field, ErrIntegrity, e.Scope.Describe(e.Target))
	case e.Renamed && e.TemplateChanged:
		return fmt.Sprintf("%v: section %d: %s; and %s", ErrIntegrity, e.Section, renamed(e.Scope, e.SealedNamespace, e.SealedName, e.Target), templateChanged)
	case e.Renamed:
		return fmt.Sprintf("%v: section %d: %s", ErrIntegrity, e.Section, renamed(e.Scope, e.SealedNamespace, e.SealedName, e.Target))
	case e.TemplateChanged:
		return fmt.Sprintf("%v: section %d: %s", ErrIntegrity, e.Section, templateChanged)
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

	sealed *Sealed
	target Target
	keys   []*sectionKeys
}

// Open verifies and opens s as the object t with the given identities.
// Sections are taken in order: each one's data key is unwrapped by the
// identity that owns one of its key IDs and its commitment (which chains
// the previous one's) is checked; the first failure stops the walk. Values
// are opened only once every commitment holds.
func Open(ctx context.Context, s *Sealed, t Target, ids []keys.Identity) (*Opened, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	e := &s.Envelope
	b := e.Scope.Binding(t)
	o := &Opened{Values: map[string][]byte{}, sealed: s, target: t}
	fields := s.Fields()
	for i := range e.Sections {
		dek, st, err := keys.UnwrapAny(ctx, e.stanzas(i), b, ids)
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", i, e.bindingError(i, t, err))
		}
		k, err := deriveKeys(dek)
		if err != nil {
			return nil, err
		}
		if !hmac.Equal(k.mac(s, i, t), e.Sections[i].MAC) {
			ie := &IntegrityError{Section: i, Scope: e.Scope, Target: t}
			k.diagnose(s, i, t, ie)
			return nil, ie
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

// Target returns the object the opened values belong to.
func (o *Opened) Target() Target { return o.target }

// Update seals a new version of the opened object: values (the whole set)
// under tmpl, for rcpts.
//
// New plaintext never goes under an existing data key: whoever sealed an
// earlier section needed only public keys and may know its data key. What
// changed (values added, replaced or removed) goes into a section of its
// own under a fresh data key, which also closes the chain with a key only
// the recipients hold; unchanged values keep their exact ciphertext, so
// diffs show only what changed. Everything is sealed again in one section
// under a fresh data key instead when rcpts drops a recipient any section
// had (see Rewrap), when tmpl is another template, or when a section would
// be wrapped for a recipient it lacks while the result holds more than one
// section (see mustFold).
func (o *Opened) Update(ctx context.Context, rand io.Reader, tmpl Template, values map[string][]byte, rcpts []keys.Recipient) (*Sealed, error) {
	t := o.target
	t.Template = tmpl
	if o.dropsRecipient(rcpts) {
		return Seal(ctx, rand, o.Scope(), t, values, rcpts)
	}
	set := map[string][]byte{}
	for k, v := range values {
		if old, ok := o.Values[k]; !ok || !bytes.Equal(old, v) {
			set[k] = v
		}
	}
	var unset []string
	for _, k := range sortedKeys(o.Values) {
		if _, ok := values[k]; !ok {
			unset = append(unset, k)
		}
	}
	appends := len(set) > 0 || len(unset) > 0
	plan, err := o.rewrapPlan(ctx, rcpts, false)
	if err != nil {
		return nil, err
	}
	if o.mustFold(t, plan, appends) {
		return Seal(ctx, rand, o.Scope(), t, values, rcpts)
	}
	s, err := o.reseal(ctx, t, rcpts, plan)
	if err != nil || !appends {
		return s, err
	}
	if err := s.addSection(ctx, rand, t, set, unset, rcpts); err != nil {
		return nil, err
	}
	return s, nil
}

// Extends reports whether o continues base's chain: the same scope,
// object and template, and each of base's sections still in o, in its
// place, with the same data key, the same values (ciphertexts, those removed
// since included through their digests), the same removals and at least
// its recipients (adding a recipient to an object of one section commits
// that section anew, so its commitment may differ). Whatever else o holds
// is in sections after base's.
//
// It tells whoever holds a key what a writer without one could have done
// to base: with public keys anyone can append a section, but only whoever
// holds a section's data key can recommit it (to another template, or to
// values taken from history). An older version of the object (a prefix of
// base's chain, or a chain that removed a value since sealed again), an
// object sealed anew, and one sealed again after base (compact, rotate, a
// recipient dropped, the template changed, a recipient added to several
// sections) do not extend base. Both must have been opened.
func (o *Opened) Extends(base *Opened) bool {
	e, be := &o.sealed.Envelope, &base.sealed.Envelope
	if e.Scope != be.Scope || len(o.keys) != len(e.Sections) || len(base.keys) != len(be.Sections) || len(e.Sections) < len(be.Sections) {
		return false
	}
	ns, name := e.Scope.bound(o.target)
	bns, bname := be.Scope.bound(base.target)
	if ns != bns || name != bname || !bytes.Equal(o.target.Template.digest(), base.target.Template.digest()) {
		return false
	}
	for i := range be.Sections {
		if !hmac.Equal(o.keys[i].dek, base.keys[i].dek) {
			return false
		}
		if !slices.EqualFunc(sortedRemovals(e.Sections[i].Removed), sortedRemovals(be.Sections[i].Removed), func(a, b Removal) bool {
			return a.Section == b.Section && a.Field == b.Field && bytes.Equal(a.Digest, b.Digest)
		}) {
			return false
		}
		if !slices.EqualFunc(sectionFields(o.sealed, i), sectionFields(base.sealed, i), func(a, b fieldEntry) bool {
			return a.field == b.field && bytes.Equal(a.sum, b.sum)
		}) {
			return false
		}
		have := wrapIDs(e.Sections[i].Recipients)
		for _, id := range wrapIDs(be.Sections[i].Recipients) {
			if !slices.Contains(have, id) {
				return false
			}
		}
	}
	return true
}

// CheckWraps unwraps, with ids, every wrap of every section that ids can
// open (not just the first; a key service that refuses or is down counts
// as one it cannot open), and fails if any of them holds another data
// key than the one the commitment was checked with: a sealer could
// otherwise give one recipient a working object and another a broken one.
// It returns, per section, the key IDs whose wraps were checked.
func (o *Opened) CheckWraps(ctx context.Context, ids []keys.Identity) ([][]string, error) {
	e := &o.sealed.Envelope
	b := e.Scope.Binding(o.target)
	out := make([][]string, len(e.Sections))
	for i := range e.Sections {
		for _, st := range e.stanzas(i) {
			dek, _, err := keys.UnwrapAny(ctx, []*keys.Stanza{st}, b, ids)
			var nm *keys.NoIdentityMatchError
			if errors.As(err, &nm) && nm.Unclaimed() {
				continue // not ours to check
			}
			if errors.Is(err, keys.ErrAccessDenied) || errors.Is(err, keys.ErrUnavailable) {
				continue // a key service we cannot use now: not checked
			}
			if err != nil {
				return out, fmt.Errorf("section %d: recipient %s %s: %w", i, st.Type, st.KeyID, err)
			}
			if !hmac.Equal(dek, o.keys[i].dek) {
				return out, fmt.Errorf("%w: section %d: the wrap for %s %s holds another data key than the section's other recipients get", ErrIntegrity, i, st.Type, st.KeyID)
			}
			out[i] = append(out[i], st.KeyID)
		}
	}
	return out, nil
}
