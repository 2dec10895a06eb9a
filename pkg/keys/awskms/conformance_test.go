package awskms_test

import (
	"testing"

	"kseal.dev/kseal/internal/kmstest"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/awskms"
	"kseal.dev/kseal/pkg/keys/keystest"
)

// TestConformance runs the provider kit against the protocol-level KMS
// server: the encryption context is checked by the service.
func TestConformance(t *testing.T) {
	r, err := keys.ParseRecipient(otherARN)
	if err != nil {
		t.Fatal(err)
	}
	fault := func(f kmstest.Fault) func(t *testing.T) {
		return func(t *testing.T) {
			srv.SetFault(otherARN, f)
			t.Cleanup(func() { srv.SetFault(otherARN, kmstest.Fault{}) })
		}
	}
	keystest.Run(t, keystest.Provider{
		Recipient: r, Identity: &awskms.Identity{}, BindsWraps: true,
		Deny: fault(kmstest.Fault{Deny: true}), Outage: fault(kmstest.Fault{Down: true}),
	})
}
