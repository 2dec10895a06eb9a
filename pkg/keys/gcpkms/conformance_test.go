package gcpkms_test

import (
	"testing"

	"kseal.dev/kseal/internal/kmstest"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/gcpkms"
	"kseal.dev/kseal/pkg/keys/keystest"
)

// TestConformance runs the provider kit against the gRPC KMS server: the
// additional authenticated data is checked by the service.
func TestConformance(t *testing.T) {
	r, err := keys.ParseRecipient(gcpkms.Prefix + otherName)
	if err != nil {
		t.Fatal(err)
	}
	fault := func(f kmstest.Fault) func(t *testing.T) {
		return func(t *testing.T) {
			srv.SetFault(otherName, f)
			t.Cleanup(func() { srv.SetFault(otherName, kmstest.Fault{}) })
		}
	}
	keystest.Run(t, keystest.Provider{
		Recipient: r, Identity: gcpkms.Identity{}, BindsWraps: true,
		Deny: fault(kmstest.Fault{Deny: true}), Outage: fault(kmstest.Fault{Down: true}),
	})
}
