package crypto

import (
	"bytes"
	"context"
	"io"
	"maps"
	"testing"

	"kseal.dev/kseal/internal/testkeys"
	"kseal.dev/kseal/pkg/keys"
)

// TestEditNeverUsesASealerKnownKey: sealing needs only public keys, so
// whoever sealed an object (a contributor, a removed recipient recreating it
// under a data key it kept) knows its data key. What a key holder writes
// afterwards with edit must not open under that key, and the commitment key
// derived from it must not let the sealer change the template.
//
// Guards: Update puts what changed in a section of its own under a fresh
// data key (review finding F2); a template change always seals everything
// under a fresh data key (mustFold).
func TestEditNeverUsesASealerKnownKey(t *testing.T) {
	ctx := context.Background()
	id, rcpt := NewTestKey(t, true)
	// The sealer draws its randomness itself, so it knows the data key:
	// Seal reads it first.
	known := make([]byte, dekSize)
	if _, err := io.ReadFull(&testkeys.Reader{Seed: "sealer"}, known); err != nil {
		t.Fatal(err)
	}
	tg := Target{Namespace: "prod", Name: "db"}
	s, err := Seal(ctx, &testkeys.Reader{Seed: "sealer"}, ScopeStrict, tg, map[string][]byte{"password": []byte("placeholder")}, []keys.Recipient{rcpt})
	if err != nil {
		t.Fatal(err)
	}
	sk, err := deriveKeys(known)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sk.openValue(ScopeStrict, tg, "password", s.Values["password"]); err != nil {
		t.Fatalf("test set-up: the sealer's key does not open its own object: %v", err)
	}

	// The key holder edits in the real value (and a new one).
	o, err := Open(ctx, s, tg, []keys.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	vals := maps.Clone(o.Values)
	vals["password"] = []byte("the real password")
	vals["token"] = []byte("a real token")
	u, err := o.Update(ctx, &testkeys.Reader{Seed: "key holder"}, tg.Template, vals, []keys.Recipient{rcpt})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range u.Values {
		if pt, err := sk.openValue(ScopeStrict, tg, k, v); err == nil {
			t.Fatalf("%s: the sealer's data key opens what the key holder wrote: %q", k, pt)
		}
	}

	// Nor can the sealer change the template: the last section's commitment
	// is under a key it does not hold.
	forged := &Sealed{Envelope: u.Envelope, Values: u.Values}
	forged.Envelope.Sections = append([]Section(nil), u.Envelope.Sections...)
	evil := tg
	evil.Template = Template{Type: "kubernetes.io/service-account-token"}
	forged.Envelope.Sections[0].MAC = sk.mac(forged, 0, evil)
	if _, err := Open(ctx, forged, evil, []keys.Identity{id}); err == nil {
		t.Fatal("the sealer changed the template of what the key holder wrote")
	}
	if bytes.Equal(u.Envelope.Sections[0].MAC, forged.Envelope.Sections[0].MAC) {
		t.Fatal("test set-up: the forged commitment is the real one")
	}

	// Nor when the key holder changed only the template (say, to remove an
	// annotation the sealer chose): the result is not committed under the
	// sealer's data key, so only a fresh seal of every value (a diff that
	// changes every ciphertext) could put the sealer's template back.
	fixed := Template{Annotations: map[string]string{"reviewed": "true"}}
	u, err = o.Update(ctx, &testkeys.Reader{Seed: "key holder"}, fixed, o.Values, []keys.Recipient{rcpt})
	if err != nil {
		t.Fatal(err)
	}
	forged = &Sealed{Envelope: u.Envelope, Values: u.Values}
	forged.Envelope.Sections = []Section{u.Envelope.Sections[0]}
	forged.Envelope.Sections[0].MAC = sk.mac(forged, 0, evil)
	if _, err := Open(ctx, forged, evil, []keys.Identity{id}); err == nil {
		t.Fatal("the sealer changed the template back after a template-only edit")
	}
}
