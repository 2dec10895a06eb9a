package vaulttransit

import (
	"testing"

	"kseal.dev/kseal/internal/vaulttest"
	"kseal.dev/kseal/pkg/keys/keystest"
)

// TestConformance runs the provider conformance kit against the real Vault:
// denial is a token whose policies allow nothing, an outage a sealed Vault.
func TestConformance(t *testing.T) {
	vaulttest.Require(t, vault)
	id, r := tokenIdentity(t, vaulttest.RootToken, "orders")
	ts := id.ts.(*fixedToken)
	keystest.Run(t, keystest.Provider{
		Recipient:  r,
		Identity:   id,
		BindsWraps: true,
		Deny: func(t *testing.T) {
			tok, err := vault.Token("default")
			if err != nil {
				t.Fatal(err)
			}
			ts.tok = tok
			t.Cleanup(func() { ts.tok = vaulttest.RootToken })
		},
		Outage: func(t *testing.T) {
			if err := vault.Seal(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := vault.Unseal(); err != nil {
					t.Fatal(err)
				}
			})
		},
	})
}
