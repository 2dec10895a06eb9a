package controller_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/kmstest"
	"kseal.dev/kseal/pkg/keys/gcpkms"
)

func TestUnsealWithKMSOnly(t *testing.T) {
	f := newFixture(t, time.Hour)
	for _, tc := range []struct{ name, recipient string }{
		{"aws", awsKey},
		{"gcp", gcpkms.Prefix + gcpKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := sealed(t, f.ns, "kms-"+tc.name, map[string]string{"token": "t-" + tc.name}, "", tc.recipient)
			if err := k8s.Create(t.Context(), ss); err != nil {
				t.Fatal(err)
			}
			waitSecret(t, f.ns, "kms-"+tc.name, map[string]string{"token": "t-" + tc.name})
			waitReason(t, f.ns, "kms-"+tc.name, ksealv1.ReasonUnsealed)
		})
	}
}

func TestKMSOutageIsTransientAndRetried(t *testing.T) {
	f := newFixture(t, time.Hour)
	ss := sealed(t, f.ns, "outage", map[string]string{"k": "v"}, "", awsKey)
	awsKMS.SetFault(awsKey, kmstest.Fault{Down: true})
	defer awsKMS.SetFault(awsKey, kmstest.Fault{})
	if err := k8s.Create(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, f.ns, "outage", ksealv1.ReasonKeyServiceFailed)
	if !strings.Contains(c.Message, "unavailable") {
		t.Errorf("message %q", c.Message)
	}
	var s corev1.Secret
	if err := k8s.Get(t.Context(), client.ObjectKey{Namespace: f.ns, Name: "outage"}, &s); !apierrors.IsNotFound(err) {
		t.Fatalf("Secret written during the outage: %v", err)
	}
	before := awsKMS.Calls("Decrypt")
	awsKMS.SetFault(awsKey, kmstest.Fault{})
	// Nothing changes on the object: only the controller's backoff retry
	// can bring it back.
	waitSecret(t, f.ns, "outage", map[string]string{"k": "v"})
	waitReason(t, f.ns, "outage", ksealv1.ReasonUnsealed)
	if awsKMS.Calls("Decrypt") <= before {
		t.Error("no retry reached the KMS")
	}
}

func TestKMSDenialIsTerminal(t *testing.T) {
	f := newFixture(t, time.Hour)
	ss := sealed(t, f.ns, "denied", map[string]string{"k": "v"}, "", gcpkms.Prefix+gcpKey)
	gcpKMS.SetFault(gcpKey, kmstest.Fault{Deny: true})
	defer gcpKMS.SetFault(gcpKey, kmstest.Fault{})
	if err := k8s.Create(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, f.ns, "denied", ksealv1.ReasonKeyAccessDenied)
	if !strings.Contains(c.Message, "GCP KMS key "+gcpKey+": Decrypt: access denied") {
		t.Errorf("message %q", c.Message)
	}
	n := gcpKMS.Calls("Decrypt")
	time.Sleep(500 * time.Millisecond)
	if gcpKMS.Calls("Decrypt") != n {
		t.Error("a denied unseal is being retried")
	}
}
