package crypto

import (
	"testing"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// NewTestKey is a fresh age identity, X25519 or the hybrid kind, and its
// recipient. It is exported from a test file so that the package's
// external tests (crypto_test.go's newKey) make their keys with it too;
// it is no part of the package.
func NewTestKey(t testing.TB, x25519 bool) (*agekey.Identity, keys.Recipient) {
	t.Helper()
	id, err := agekey.Generate(x25519)
	if err != nil {
		t.Fatal(err)
	}
	r, err := keys.ParseRecipient(id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	return id, r
}
