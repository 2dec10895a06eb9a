package controller_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/kmstest"
	"kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/keys/gcpkms"
)

func TestUnsealWithKMSOnly(t *testing.T) {
	needsAPIServer(t)
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
	needsAPIServer(t)
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
	needsAPIServer(t)
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

// TestNamespaceCannotUseAnotherNamespacesKMSKey: an object in A whose
// section is wrapped to a key granted to A (which the controller cannot
// open) and to a KMS key granted only to B must not make the controller call
// B's KMS key: NoMatchingKey, zero Decrypt calls on that key.
func TestNamespaceCannotUseAnotherNamespacesKMSKey(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixture(t)
	offline, err := agekey.Generate(true) // granted to A; the controller has no identity for it
	if err != nil {
		t.Fatal(err)
	}
	p.setPolicyText(t, fmt.Sprintf(`apiVersion: kseal.dev/v1alpha1
kind: Policy
keys:
  a-offline: {age: %s}
  b-kms: {awsKms: %q}
services:
  a: {namespaces: [%s], keys: [a-offline]}
  b: {namespaces: [%s], keys: [b-kms]}
`, offline.Recipient(), awsKey2, p.a, p.b))
	ctx := t.Context()
	foreign := func() float64 { return float64(awsKMS.KeyCalls("Decrypt", awsKey2)) }

	// The control: in B the same kind of object opens with B's KMS key, so
	// the counter does see calls to it.
	before := foreign()
	if err := k8s.Create(ctx, sealed(t, p.b, "own", map[string]string{"k": "b"}, "", offline.Recipient(), awsKey2)); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, p.b, "own", map[string]string{"k": "b"})
	waitReason(t, p.b, "own", ksealv1.ReasonUnsealed)
	if foreign() <= before {
		t.Fatal("the KMS server counted no Decrypt on B's key: the test could not see a foreign call")
	}
	// Let the control settle (its own follow-up reconciles also call B's
	// key), so that what is counted next is the object in A alone.
	settle(t, time.Second, "Decrypt calls on B's KMS key (control)", foreign)

	before = foreign()
	if err := k8s.Create(ctx, sealed(t, p.a, "borrow", map[string]string{"k": "a"}, "", offline.Recipient(), awsKey2)); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, p.a, "borrow", ksealv1.ReasonNoMatchingKey)
	if !strings.Contains(c.Message, "(no identity)") {
		t.Errorf("message %q", c.Message)
	}
	unchangedOver(t, time.Second, map[string]func() float64{"Decrypt calls on B's KMS key": foreign})
	if n := foreign() - before; n != 0 {
		t.Errorf("%v Decrypt calls on B's KMS key for an object in A", n)
	}
}

// TestUnwrapAttemptsAreCapped: a hostile object (many sections, each with
// 64 wraps the KMS refuses) costs at most the per-object cap of KMS calls,
// not sections × wraps.
func TestUnwrapAttemptsAreCapped(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	ss := sealed(t, f.ns, "hostile", map[string]string{"k": "v"}, "", awsKey)
	junk := make([]byte, 64)
	sec := ss.Spec.Envelope.Sections[0]
	sec.Recipients = nil
	for i := 0; i < 64; i++ {
		junk[0] = byte(i)
		sec.Recipients = append(sec.Recipients, ksealv1.Wrap{Type: "awskms", KeyID: awsKey, Data: ksealv1.Base64(base64.StdEncoding.EncodeToString(junk))})
	}
	ss.Spec.Envelope.Sections = nil
	for i := 0; i < 40; i++ {
		ss.Spec.Envelope.Sections = append(ss.Spec.Envelope.Sections, sec)
	}
	before := awsKMS.KeyCalls("Decrypt", awsKey)
	if err := k8s.Create(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, f.ns, "hostile", ksealv1.ReasonDecryptError)
	if !strings.Contains(c.Message, "gave up after 4 failed key unwrap attempts") {
		t.Errorf("message %q", c.Message)
	}
	calls := func() float64 { return float64(awsKMS.KeyCalls("Decrypt", awsKey)) }
	unchangedOver(t, time.Second, map[string]func() float64{"Decrypt calls": calls})
	if n := awsKMS.KeyCalls("Decrypt", awsKey) - before; n > 4 {
		t.Errorf("%d Decrypt calls for one hostile object, want at most 4", n)
	}
}

// TestKMSRefusingTheBindingIsIntegrityFailed: an object sealed only to a
// KMS key and moved to another name is refused by the key service itself
// (its encryption context names the object); that is as final as a failed
// MAC, so it reads IntegrityFailed (Stalled), not a retried DecryptError.
func TestKMSRefusingTheBindingIsIntegrityFailed(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	ss := sealed(t, f.ns, "kms-orig", map[string]string{"k": "v"}, "", awsKey)
	ss.Name = "kms-moved"
	if err := k8s.Create(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, f.ns, "kms-moved", ksealv1.ReasonIntegrityFailed)
	if strings.Contains(c.Message, "\"v\"") {
		t.Errorf("message holds the value: %q", c.Message)
	}
}
