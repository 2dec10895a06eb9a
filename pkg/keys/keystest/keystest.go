// Package keystest is the conformance kit every key provider passes. A
// provider's test calls Run with a recipient, the identity that opens it
// and, for a provider behind a key service, ways to make that service deny
// the caller or be down:
//
//	keystest.Run(t, keystest.Provider{
//		Recipient: r, Identity: id,
//		Deny:   func(t *testing.T) { srv.SetFault(key, kmstest.Fault{Deny: true}); t.Cleanup(reset) },
//		Outage: func(t *testing.T) { srv.SetFault(key, kmstest.Fault{Down: true}); t.Cleanup(reset) },
//	})
//
// It checks what the CLI and the controller rely on without knowing the
// provider: a round trip; a foreign stanza answered with
// keys.ErrIncorrectIdentity (so the next identity is tried); a wrap or an
// object moved to another namespace, name or scope refused for good (never
// opened, never "retry later"); a denial matching keys.ErrAccessDenied and
// an outage matching keys.ErrUnavailable, each naming the key and never
// the data key.
package keystest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// Provider is what Run needs of a provider.
type Provider struct {
	// Recipient wraps to a key that Identity opens.
	Recipient keys.Recipient
	Identity  keys.Identity
	// Foreign, when set, is a recipient of the same provider whose wraps
	// Identity does not own (another age key); its stanzas must be answered
	// with keys.ErrIncorrectIdentity. Leave it nil for an identity that
	// serves every key of its type (a KMS identity, whose caller's grants
	// decide).
	Foreign keys.Recipient
	// BindsWraps says that the key service itself checks the binding (the
	// encryption context, associated data or derivation context), so a
	// wrap unwrapped under another binding must fail with
	// keys.ErrWrongBinding. The envelope's own check is tested either way.
	BindsWraps bool
	// Deny makes the key service refuse the caller until the test ends
	// (restore with t.Cleanup); Outage makes it unreachable or throttle
	// without end. Nil for a provider with no key service (age keys): the
	// subtest is skipped and says so.
	Deny   func(t *testing.T)
	Outage func(t *testing.T)
}

var (
	home  = crypto.Target{Namespace: "orders", Name: "db"}
	moved = []struct {
		what string
		t    crypto.Target
	}{
		{"another namespace", crypto.Target{Namespace: "payments", Name: "db"}},
		{"another name", crypto.Target{Namespace: "orders", Name: "db2"}},
	}
)

// Run runs the conformance subtests.
func Run(t *testing.T, p Provider) {
	t.Helper()
	if p.Recipient == nil || p.Identity == nil {
		t.Fatal("keystest: Recipient and Identity are required")
	}
	c := &conformance{p: p, ctx: t.Context(), b: crypto.ScopeStrict.Binding(home)}
	t.Run("RoundTrip", c.roundTrip)
	t.Run("ForeignStanzaIsNotMine", c.foreignStanzaIsNotMine)
	t.Run("WrongBindingFailsForGood", c.wrongBindingFailsForGood)
	t.Run("DenialIsAccessDenied", c.denialIsAccessDenied)
	t.Run("OutageIsUnavailable", c.outageIsUnavailable)
}

// conformance is what every subtest of Run shares: the provider under
// test, the binding of the object at home, and the context of the test
// that called Run, which every subtest's calls run under.
type conformance struct {
	p   Provider
	ctx context.Context
	b   keys.Binding
}

// roundTrip owns the round trip: a wrap opens to the data key, carries the
// recipient's key ID and type, hides the data key, and is found by
// keys.UnwrapAny past a stanza that is not the identity's.
func (c *conformance) roundTrip(t *testing.T) {
	ctx, p, b := c.ctx, c.p, c.b
	dek := newDEK(t)
	s, err := p.Recipient.Wrap(ctx, dek, b)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	if s.KeyID != p.Recipient.KeyID() {
		t.Errorf("stanza key ID %q, recipient's %q: an offline check compares them", s.KeyID, p.Recipient.KeyID())
	}
	if tr, ok := p.Recipient.(keys.TypedRecipient); ok && s.Type != tr.StanzaType() {
		t.Errorf("stanza type %q, recipient's %q", s.Type, tr.StanzaType())
	}
	if bytes.Contains(s.Body, dek) {
		t.Error("the stanza holds the data key in the clear")
	}
	got, err := p.Identity.Unwrap(ctx, s, b)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap: %x, %v; want the data key", got, err)
	}
	got, st, err := keys.UnwrapAny(ctx, []*keys.Stanza{{Type: "keystest-foreign", KeyID: "foreign", Body: []byte{1}}, s}, b, []keys.Identity{p.Identity})
	if err != nil || st != s || !bytes.Equal(got, dek) {
		t.Fatalf("UnwrapAny past a foreign stanza: %v", err)
	}
	if keys.Describe(p.Recipient) == "" {
		t.Error("keys.Describe returns nothing")
	}
}

// foreignStanzaIsNotMine owns "not mine": a stanza of another type, and a
// wrap of the Foreign recipient when there is one, are answered with
// keys.ErrIncorrectIdentity, so the next identity is tried.
func (c *conformance) foreignStanzaIsNotMine(t *testing.T) {
	ctx, p, b := c.ctx, c.p, c.b
	stanzas := []*keys.Stanza{{Type: "keystest-foreign", KeyID: p.Recipient.KeyID(), Body: bytes.Repeat([]byte{7}, 64)}}
	if p.Foreign != nil {
		s, err := p.Foreign.Wrap(ctx, newDEK(t), b)
		if err != nil {
			t.Fatalf("Foreign.Wrap: %v", err)
		}
		stanzas = append(stanzas, s)
	}
	for _, s := range stanzas {
		if _, err := p.Identity.Unwrap(ctx, s, b); !errors.Is(err, keys.ErrIncorrectIdentity) {
			t.Errorf("stanza %s %s: got %v, want keys.ErrIncorrectIdentity (so the next identity is tried)", s.Type, s.KeyID, err)
		}
	}
}

// wrongBindingFailsForGood owns the binding: a wrap (when the key service
// checks bindings) or a sealed object moved to another namespace, name or
// scope is refused for good, never opened and never retried.
func (c *conformance) wrongBindingFailsForGood(t *testing.T) {
	ctx, p, b := c.ctx, c.p, c.b
	dek := newDEK(t)
	if p.BindsWraps {
		s, err := p.Recipient.Wrap(ctx, dek, b)
		if err != nil {
			t.Fatalf("Wrap: %v", err)
		}
		for _, m := range moved {
			got, err := p.Identity.Unwrap(ctx, s, crypto.ScopeStrict.Binding(m.t))
			final(t, "wrap unwrapped for "+m.what, got, dek, err)
			if !errors.Is(err, keys.ErrWrongBinding) {
				t.Errorf("wrap unwrapped for %s: got %v, want keys.ErrWrongBinding", m.what, err)
			}
		}
		got, err := p.Identity.Unwrap(ctx, s, crypto.ScopeCluster.Binding(home))
		final(t, "wrap unwrapped under scope cluster", got, dek, err)
	}
	// The envelope binds every provider's objects, whatever the key
	// service checks.
	secret := []byte("keystest-plaintext")
	sealed, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, home, map[string][]byte{"v": secret}, []keys.Recipient{p.Recipient})
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	ids := []keys.Identity{p.Identity}
	if o, err := crypto.Open(ctx, sealed, home, ids); err != nil || !bytes.Equal(o.Values["v"], secret) {
		t.Fatalf("Open at home: %v", err)
	}
	for _, m := range moved {
		o, err := crypto.Open(ctx, sealed, m.t, ids)
		finalOpen(t, "object moved to "+m.what, o, err)
	}
	rescoped := *sealed
	rescoped.Envelope.Scope = crypto.ScopeNamespace
	o, err := crypto.Open(ctx, &rescoped, home, ids)
	finalOpen(t, "object rescoped strict → namespace", o, err)
}

// denialIsAccessDenied owns denial: while the key service refuses the
// caller, Wrap and Unwrap fail with keys.ErrAccessDenied alone, naming the
// key and not the data key.
func (c *conformance) denialIsAccessDenied(t *testing.T) {
	ctx, p, b := c.ctx, c.p, c.b
	if p.Deny == nil {
		t.Skip("keystest: no key service to deny (a local key); nothing to check")
	}
	dek := newDEK(t)
	s, err := p.Recipient.Wrap(ctx, dek, b)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	p.Deny(t)
	_, werr := p.Recipient.Wrap(ctx, dek, b)
	_, uerr := p.Identity.Unwrap(ctx, s, b)
	for op, err := range map[string]error{"Wrap": werr, "Unwrap": uerr} {
		if !errors.Is(err, keys.ErrAccessDenied) || errors.Is(err, keys.ErrUnavailable) || keys.KindOf(err) != keys.KindAccessDenied {
			t.Errorf("%s while denied: got %v, want keys.ErrAccessDenied only", op, err)
		}
		named(t, op, err, p.Recipient.KeyID(), dek)
	}
}

// outageIsUnavailable owns outages: while the key service is down, Wrap
// and Unwrap fail with keys.ErrUnavailable alone (retried, not refused),
// naming the key and not the data key.
func (c *conformance) outageIsUnavailable(t *testing.T) {
	ctx, p, b := c.ctx, c.p, c.b
	if p.Outage == nil {
		t.Skip("keystest: no key service to take down (a local key); nothing to check")
	}
	dek := newDEK(t)
	s, err := p.Recipient.Wrap(ctx, dek, b)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	p.Outage(t)
	_, werr := p.Recipient.Wrap(ctx, dek, b)
	_, uerr := p.Identity.Unwrap(ctx, s, b)
	for op, err := range map[string]error{"Wrap": werr, "Unwrap": uerr} {
		if !errors.Is(err, keys.ErrUnavailable) || errors.Is(err, keys.ErrAccessDenied) || keys.KindOf(err) != keys.KindUnavailable {
			t.Errorf("%s while down: got %v, want keys.ErrUnavailable only", op, err)
		}
		named(t, op, err, p.Recipient.KeyID(), dek)
	}
}

func newDEK(t *testing.T) []byte {
	dek := make([]byte, 32)
	if _, err := rand.Read(dek); err != nil {
		t.Fatal(err)
	}
	return dek
}

// final checks that an unwrap refused for good: an error, no data key, and
// neither "not mine" (another identity would be tried as if nothing were
// wrong) nor "unavailable" (it would be retried for ever).
func final(t *testing.T, what string, got, dek []byte, err error) {
	t.Helper()
	switch {
	case err == nil || bytes.Equal(got, dek):
		t.Errorf("%s: opened (got %v)", what, err)
	case errors.Is(err, keys.ErrIncorrectIdentity):
		t.Errorf("%s: %v: answered as another key's stanza, want a final refusal", what, err)
	case errors.Is(err, keys.ErrUnavailable) || keys.KindOf(err) == keys.KindUnavailable:
		t.Errorf("%s: %v: classified as retryable, want a final refusal", what, err)
	}
}

func finalOpen(t *testing.T, what string, o *crypto.Opened, err error) {
	t.Helper()
	switch {
	case err == nil || o != nil:
		t.Errorf("%s: opened", what)
	case errors.Is(err, keys.ErrUnavailable):
		t.Errorf("%s: %v: classified as retryable, want a final refusal", what, err)
	}
}

// named checks that err names the key and holds no form of the data key.
func named(t *testing.T, op string, err error, keyID string, dek []byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, keyID) {
		t.Errorf("%s: %q does not name the key %s", op, msg, keyID)
	}
	for _, form := range []string{string(dek), hex.EncodeToString(dek), base64.StdEncoding.EncodeToString(dek), base64.RawStdEncoding.EncodeToString(dek)} {
		if strings.Contains(msg, form) {
			t.Errorf("%s: the error holds the data key", op)
		}
	}
}
