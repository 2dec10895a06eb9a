package cli

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// TestAppendedSectionCannotAddARecipient: anyone can append a section
// with public keys alone. A key that only such a section is wrapped to is
// a git writer's word: edit, merge-driver, reencrypt, rotate and compact,
// which keep the object's recipients, refuse it rather than seal every
// value to it (with an AWS KMS key the key ID is the recipient, so the
// writer's own key would be found and used). Guard: keptKeyIDs.
func TestAppendedSectionCannotAddARecipient(t *testing.T) {
	ctx := context.Background()
	owner, _ := agekey.Generate(false)
	attacker, _ := agekey.Generate(false)
	or, _ := owner.OwnRecipient()
	ar, _ := attacker.OwnRecipient()
	target := crypto.Target{Namespace: "prod", Name: "db"}
	s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, target, map[string][]byte{"password": []byte("hunter2")}, []keys.Recipient{or})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, rand.Reader, target, map[string][]byte{"unused": []byte("x")}, []keys.Recipient{or, ar}); err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.Open(ctx, s, target, []keys.Identity{owner}); err != nil {
		t.Fatalf("the appended object no longer opens: %v", err)
	}
	_, err = keptKeyIDs(s, nil)
	if err == nil || !strings.Contains(err.Error(), ar.KeyID()) {
		t.Fatalf("keptKeyIDs kept a key only an appended section names: %v", err)
	}
	kept, err := keptKeyIDs(s, []string{ar.KeyID()})
	if err != nil || !slices.Equal(kept, []string{or.KeyID()}) {
		t.Fatalf("removing the appended key: kept %v, %v; want the owner's alone", kept, err)
	}
	// reencrypt and rotate: the attacker's public key at hand changes
	// nothing.
	e := &env{ctx: ctx, stderr: &strings.Builder{}, getenv: func(string) string { return "" }}
	tg := &recipientSource{noPolicy: true, rcpt: recipientFlags{recipients: []string{attacker.Recipient()}}}
	if _, err := staying(e, tg, s, []keys.Identity{owner}, nil, nil); err == nil {
		t.Error("reencrypt kept the appended recipient")
	}
}
