// Package keys defines how kseal wraps and unwraps the data key of a sealed
// object, in the spirit of filippo.io/age: a Recipient wraps a data key into
// a Stanza, an Identity unwraps a Stanza it owns and answers
// ErrIncorrectIdentity for every other one.
//
// Each key provider (age, AWS KMS, GCP KMS) lives in its own package and
// registers itself here by recipient prefix and identity-line prefix, so the
// CLI and the controller never switch over provider types:
//
//	import _ "kseal.dev/kseal/pkg/keys/agekey"
//
//	r, err := keys.ParseRecipient("age1pq1…")
//	stanza, err := r.Wrap(ctx, dek, binding)
package keys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// A Stanza is one wrap of a data key for one recipient. KeyID names the key
// that can open it (a fingerprint, an ARN, a resource name) so that opening
// never needs trial decryption.
type Stanza struct {
	Type  string
	KeyID string
	Body  []byte
}

// Binding is the scope a data key is bound to, as key/value pairs (scope
// kind, namespace, name). KMS providers pass it as the encryption context or
// additional authenticated data so that IAM conditions can restrict a role to
// its own namespace. It never holds a field name or any secret.
type Binding map[string]string

// String renders b canonically (sorted keys), for logs and errors.
func (b Binding) String() string {
	ks := make([]string, 0, len(b))
	for k := range b {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var sb strings.Builder
	for i, k := range ks {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%s=%s", k, b[k])
	}
	return sb.String()
}

// A Recipient wraps data keys for one key. KeyID is part of the interface
// (not an optional ability) because policy checks and re-encryption compare
// an object's recipients with the wanted ones offline, without wrapping.
type Recipient interface {
	Wrap(ctx context.Context, dek []byte, b Binding) (*Stanza, error)
	KeyID() string
}

// A TypedRecipient also says which stanza type its wraps carry, so that an
// offline check can compare an object's recipients with the wanted ones by
// type and key ID, not by key ID alone.
type TypedRecipient interface {
	Recipient
	StanzaType() string
}

// An Identity unwraps the stanzas it owns. For any stanza that is not its
// own it returns ErrIncorrectIdentity, and the caller tries the next
// identity; every other error is final for that stanza.
type Identity interface {
	Unwrap(ctx context.Context, s *Stanza, b Binding) ([]byte, error)
}

// An OwnRecipient is an Identity that can name the Recipient it opens (an
// age key can; a KMS identity serves whatever keys its credentials reach
// and cannot). kseal edit uses it to seal changes for the recipients it
// holds without asking for their public keys again.
type OwnRecipient interface {
	OwnRecipient() (Recipient, error)
}

// A RemoteIdentity unwraps through a network service that may bill, throttle
// or log each call (a cloud KMS), unlike a key held in memory. The
// controller caps such calls per object.
type RemoteIdentity interface {
	Remote() bool
}

// IsRemote reports whether id unwraps through a remote service.
func IsRemote(id Identity) bool {
	r, ok := id.(RemoteIdentity)
	return ok && r.Remote()
}

// ErrIncorrectIdentity is returned by Identity.Unwrap for a stanza that
// belongs to another key.
var ErrIncorrectIdentity = errors.New("incorrect identity for recipient stanza")

// NoIdentityMatchError is returned when no identity could open any of the
// stanzas. Errs holds one error per stanza tried, so the caller sees every
// miss rather than a bare "failed".
type NoIdentityMatchError struct {
	Stanzas []*Stanza
	Errs    []error
}

// Unclaimed reports whether no identity even claimed a stanza: every one
// answered ErrIncorrectIdentity (no key at hand), as opposed to a key that
// was tried and failed (denied, unavailable, a bad wrap).
func (e *NoIdentityMatchError) Unclaimed() bool {
	for _, err := range e.Errs {
		if !errors.Is(err, ErrIncorrectIdentity) {
			return false
		}
	}
	return true
}

func (e *NoIdentityMatchError) Error() string {
	if len(e.Stanzas) == 0 {
		return "no recipients in the object"
	}
	var sb strings.Builder
	sb.WriteString("no identity matched any recipient: tried ")
	for i, s := range e.Stanzas {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s %s", s.Type, s.KeyID)
		if i < len(e.Errs) && e.Errs[i] != nil && !errors.Is(e.Errs[i], ErrIncorrectIdentity) {
			fmt.Fprintf(&sb, " (%v)", e.Errs[i])
		} else {
			sb.WriteString(" (no identity)")
		}
	}
	return sb.String()
}

// Unwrap returns the per-stanza errors.
func (e *NoIdentityMatchError) Unwrap() []error { return e.Errs }

// UnwrapAny opens the first stanza that one of ids owns. A stanza whose owner
// fails for another reason than ErrIncorrectIdentity (a tampered wrap, a KMS
// denial) is remembered and the next stanza is tried; if none opens, the
// result is a *NoIdentityMatchError listing every stanza. A cancelled
// context or a spent UnwrapBudget ends the walk with that error.
func UnwrapAny(ctx context.Context, stanzas []*Stanza, b Binding, ids []Identity) ([]byte, *Stanza, error) {
	errs := make([]error, len(stanzas))
	for i, s := range stanzas {
		errs[i] = ErrIncorrectIdentity
		for _, id := range ids {
			dek, err := id.Unwrap(ctx, s, b)
			if err == nil {
				return dek, s, nil
			}
			if errors.Is(err, ErrIncorrectIdentity) {
				continue
			}
			errs[i] = err
			if ctx.Err() != nil || errors.Is(err, ErrUnwrapBudget) {
				// Every further attempt would end the same way.
				return nil, nil, err
			}
			break
		}
	}
	return nil, nil, &NoIdentityMatchError{Stanzas: stanzas, Errs: errs}
}
