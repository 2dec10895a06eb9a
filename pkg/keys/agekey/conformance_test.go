package agekey_test

import (
	"testing"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/keys/keystest"
)

// TestConformance runs the provider kit for X25519 keys and for the ML-KEM
// hybrid, which is also what a cluster's own keypair is (the controller's
// keyring generates it with agekey.Generate). Age keys have no key
// service: the binding is the envelope's to check, and there is nothing
// to deny or take down.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		x25519 bool
	}{{"x25519", true}, {"hybrid (cluster keypair)", false}} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := agekey.Generate(tc.x25519)
			if err != nil {
				t.Fatal(err)
			}
			other, err := agekey.Generate(tc.x25519)
			if err != nil {
				t.Fatal(err)
			}
			r, err := keys.ParseRecipient(id.Recipient())
			if err != nil {
				t.Fatal(err)
			}
			foreign, err := keys.ParseRecipient(other.Recipient())
			if err != nil {
				t.Fatal(err)
			}
			keystest.Run(t, keystest.Provider{Recipient: r, Identity: id, Foreign: foreign})
		})
	}
}
