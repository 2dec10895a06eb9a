package crypto

import (
	"testing"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// newIdentity is a fresh age X25519 identity and its recipient.
func newIdentity(t *testing.T) (*agekey.Identity, keys.Recipient) {
	t.Helper()
	id, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := keys.ParseRecipient(id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	return id, r
}
