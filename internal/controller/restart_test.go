package controller_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// TestRestartRepairsWhatChangedWhileDown: a restarted controller trusts a
// Secret without decrypting only when the Secret records the current spec
// and its managed fields show nobody but the controller set its content.
// A Secret edited while the controller was down — a value changed, a key
// removed, a key added, the managed fields wiped in the same edit — is decrypted and
// repaired; a status whose key IDs are not the spec's is recomputed; an
// untouched Secret is neither read in full nor written.
func TestRestartRepairsWhatChangedWhileDown(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	want := map[string]string{"user": "admin", "password": "hunter2"}
	names := []string{"edited", "shrunk", "grown", "wiped", "keyids", "untouched"}
	for _, n := range names {
		if err := k8s.Create(ctx, sealed(t, f.ns, n, want, "", rcp)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		waitReason(t, f.ns, n, ksealv1.ReasonUnsealed)
		waitSecret(t, f.ns, n, want)
	}
	f.halt()

	secret := func(name string) *corev1.Secret {
		t.Helper()
		var s corev1.Secret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: name}, &s); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	update := func(s *corev1.Secret) {
		t.Helper()
		if err := k8s.Update(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	s := secret("edited")
	s.Data["password"] = []byte("changed-while-down")
	update(s)
	s = secret("shrunk")
	delete(s.Data, "password")
	update(s)
	s = secret("grown") // every value as written: only another manager's key tells
	s.Data["extra"] = []byte("added-while-down")
	update(s)
	s = secret("wiped")
	s.Data["password"] = []byte("changed-while-down")
	s.ManagedFields = []metav1.ManagedFieldsEntry{{}} // the documented way to clear them
	update(s)
	if s := secret("wiped"); len(s.ManagedFields) != 0 {
		t.Fatalf("managed fields not cleared: %v", s.ManagedFields)
	}
	var ks ksealv1.SealedSecret
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "keyids"}, &ks); err != nil {
		t.Fatal(err)
	}
	ks.Status.KeyIDs = []string{"not-a-key-of-this-spec"}
	if err := k8s.Status().Update(ctx, &ks); err != nil {
		t.Fatal(err)
	}
	untouched := secret("untouched").ResourceVersion

	unwraps := unwrapAttempts(t)
	f.start(time.Hour)
	for _, n := range []string{"edited", "shrunk", "grown", "wiped"} {
		waitSecret(t, f.ns, n, want)
	}
	eventually(t, "the key IDs recomputed", func() error {
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "keyids"}, &ks); err != nil {
			return err
		}
		if !slices.Equal(ks.Status.KeyIDs, []string{agekey.KeyID(rcp)}) {
			return fmt.Errorf("status.keyIDs %q", ks.Status.KeyIDs)
		}
		return nil
	})
	settle(t, time.Second, "unwraps", func() float64 { return unwrapAttempts(t) })
	if d := unwrapAttempts(t) - unwraps; d != 5 {
		t.Errorf("%v unwraps after the restart, want 5: one for each object changed while the controller was down, none for the untouched one", d)
	}
	if rv := secret("untouched").ResourceVersion; rv != untouched {
		t.Errorf("the untouched Secret was written (resourceVersion %s, was %s)", rv, untouched)
	}
}

// TestEditUnderTheControllersNameIsRepaired: anyone who may write a
// Secret can name kseal-controller as the field manager of an edit, so
// while the controller remembers the version it wrote, another version is
// read and compared, never trusted from its managed fields. Guard: the
// written.known check in upToDate.
func TestEditUnderTheControllersNameIsRepaired(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	want := map[string]string{"user": "admin", "password": "hunter2"}
	if err := k8s.Create(ctx, sealed(t, f.ns, "spoofed", want, "", rcp)); err != nil {
		t.Fatal(err)
	}
	waitReason(t, f.ns, "spoofed", ksealv1.ReasonUnsealed)
	waitSecret(t, f.ns, "spoofed", want)
	var s corev1.Secret
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "spoofed"}, &s); err != nil {
		t.Fatal(err)
	}
	s.Data["password"] = []byte("forged")
	if err := k8s.Update(ctx, &s, client.FieldOwner("kseal-controller")); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, f.ns, "spoofed", want)
}
