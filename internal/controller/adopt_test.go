package controller_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
)

// TestAdoptionNeedsTheSecretOwnersConsent: a tenant who may create
// SealedSecrets in a namespace cannot overwrite, adopt (and so later delete)
// a Secret there that it was not given. Only an annotation on the Secret,
// written by whoever may write the Secret, hands it over.
func TestAdoptionNeedsTheSecretOwnersConsent(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	mine := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "taken"}, StringData: map[string]string{"k": "original"}}
	if err := k8s.Create(ctx, mine); err != nil {
		t.Fatal(err)
	}
	ss := sealed(t, f.ns, "taken", map[string]string{"k": "sealed"}, "", rcp)
	if err := k8s.Create(ctx, ss); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, f.ns, "taken", ksealv1.ReasonSecretNotOwned)
	if !strings.Contains(c.Message, "annotating the Secret "+ksealv1.AnnotationAdopt+"=true") {
		t.Errorf("message does not explain the way out: %q", c.Message)
	}
	secretUntouched(t, f.ns, "taken", map[string]string{"k": "original"})

	t.Run("an annotation on the SealedSecret is no consent", func(t *testing.T) {
		modify(t, ss.DeepCopy(), func(got *ksealv1.SealedSecret) {
			got.Annotations = map[string]string{"kseal.dev/take-over": "true", ksealv1.AnnotationAdopt: "true"}
		})
		settled(t, f.ns, "taken")
		secretUntouched(t, f.ns, "taken", map[string]string{"k": "original"})
	})
	t.Run("the Secret's owner consents", func(t *testing.T) {
		modify(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: mine.Namespace, Name: mine.Name}}, func(cur *corev1.Secret) { cur.Annotations = map[string]string{ksealv1.AnnotationAdopt: "true"} })
		s := waitSecret(t, f.ns, "taken", map[string]string{"k": "sealed"})
		if !metav1.IsControlledBy(s, ss) {
			t.Error("adopted Secret lacks the owner reference")
		}
		waitReason(t, f.ns, "taken", ksealv1.ReasonUnsealed)
	})

	// Consent or not, some Secrets are never adopted.
	for _, tc := range []struct {
		name   string
		secret *corev1.Secret
		msg    string
	}{
		{"another controller's Secret", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "helm-owned", Annotations: map[string]string{ksealv1.AnnotationAdopt: "true"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "release", UID: "0b5e8c6a-0000-4000-8000-000000000001", Controller: ptr(true)}}},
			StringData: map[string]string{"k": "original"},
		}, `is controlled by ConfigMap "release"`},
		{"a service account token", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "sa-token", Annotations: map[string]string{ksealv1.AnnotationAdopt: "true", corev1.ServiceAccountNameKey: "default"}},
			Type:       corev1.SecretTypeServiceAccountToken,
			StringData: map[string]string{"k": "original"},
		}, "is a token Secret (type kubernetes.io/service-account-token)"},
		{"a bootstrap token", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-abcdef", Annotations: map[string]string{ksealv1.AnnotationAdopt: "true"}},
			Type:       corev1.SecretTypeBootstrapToken,
			StringData: map[string]string{"k": "original"},
		}, "is a token Secret (type bootstrap.kubernetes.io/token)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.secret.Namespace = f.ns
			if err := k8s.Create(ctx, tc.secret); err != nil {
				t.Fatal(err)
			}
			if err := k8s.Create(ctx, sealed(t, f.ns, tc.secret.Name, map[string]string{"k": "sealed"}, "", rcp)); err != nil {
				t.Fatal(err)
			}
			c := waitReason(t, f.ns, tc.secret.Name, ksealv1.ReasonSecretNotOwned)
			if !strings.Contains(c.Message, tc.msg) {
				t.Errorf("message %q", c.Message)
			}
			// It looks again every recheck period; still nothing.
			settled(t, f.ns, tc.secret.Name)
			secretUntouched(t, f.ns, tc.secret.Name, map[string]string{"k": "original"})
		})
	}
}

func ptr[T any](v T) *T { return &v }

// notOwnedRechecks counts SecretNotOwned outcomes (one per look).
func notOwnedRechecks(t *testing.T) float64 {
	return metric(t, "kseal_unseal_errors_total", map[string]string{"reason": ksealv1.ReasonSecretNotOwned})
}

// settled waits until the controller has looked at ns/name at least twice
// more (so after any change made before the call), or until it took the
// Secret over: the caller then checks that it did not.
func settled(t *testing.T, ns, name string) {
	t.Helper()
	n := notOwnedRechecks(t)
	eventually(t, "two more looks at "+ns+"/"+name, func() error {
		var s corev1.Secret
		if err := k8s.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &s); err == nil && metav1.GetControllerOf(&s) != nil && metav1.GetControllerOf(&s).Kind == "SealedSecret" {
			return nil
		}
		if notOwnedRechecks(t) < n+2 {
			return fmt.Errorf("not looked at yet")
		}
		return nil
	})
}

// TestNeverUnsealsIntoItsOwnNamespace: the controller's namespace holds its
// private cluster keys; a SealedSecret there is refused before any key is
// used, unless the operator allows it.
func TestNeverUnsealsIntoItsOwnNamespace(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	var keysBefore corev1.SecretList
	if err := k8s.List(ctx, &keysBefore, client.InNamespace(f.ctrlNS), client.MatchingLabels{controller.LabelManaged: controller.ManagedClusterKey}); err != nil || len(keysBefore.Items) == 0 {
		t.Fatalf("cluster keys: %v (%d)", err, len(keysBefore.Items))
	}
	key := keysBefore.Items[0]
	for _, name := range []string{key.Name, "innocent"} {
		ss := sealed(t, f.ctrlNS, name, map[string]string{controller.KeyField: "attacker"}, "", rcp)
		if err := k8s.Create(ctx, ss); err != nil {
			t.Fatal(err)
		}
		c := waitReason(t, f.ctrlNS, name, ksealv1.ReasonNamespaceRefused)
		if !strings.Contains(c.Message, "--allow-controller-namespace") {
			t.Errorf("message %q", c.Message)
		}
	}
	var got corev1.Secret
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(&key), &got); err != nil || string(got.Data[controller.KeyField]) != string(key.Data[controller.KeyField]) || len(got.OwnerReferences) != 0 {
		t.Fatalf("cluster key Secret touched: %v %v", err, got.OwnerReferences)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ctrlNS, Name: "innocent"}, &got); err == nil {
		t.Error("a Secret was written into the controller's namespace")
	}

	t.Run("allowed by flag, the cluster keys stay out of reach", func(t *testing.T) {
		f.halt()
		f.ownNS = true
		f.start(time.Hour)
		waitSecret(t, f.ctrlNS, "innocent", map[string]string{controller.KeyField: "attacker"})
		waitReason(t, f.ctrlNS, key.Name, ksealv1.ReasonSecretNotOwned)
		// Even with consent on it, the key Secret is never adopted.
		got := key.DeepCopy()
		modify(t, got, func(got *corev1.Secret) { got.Annotations[ksealv1.AnnotationAdopt] = "true" })
		settled(t, f.ctrlNS, key.Name)
		if c := ready(t, f.ctrlNS, key.Name); c == nil || !strings.Contains(c.Message, "holds a kseal cluster key") {
			t.Errorf("condition %+v", c)
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(&key), got); err != nil || string(got.Data[controller.KeyField]) != string(key.Data[controller.KeyField]) || len(got.OwnerReferences) != 0 {
			t.Fatalf("cluster key Secret touched: %v %v", err, got.OwnerReferences)
		}
	})
}

// TestImmutableSecretIsAdoptedInPlace: a consenting immutable Secret that
// already holds what the SealedSecret seals (a cut-over from another
// controller) is taken over by a metadata update, never deleted and
// recreated: its UID stays and it does not disappear for a moment.
func TestImmutableSecretIsAdoptedInPlace(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	yes := true
	old := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "frozen", Annotations: map[string]string{ksealv1.AnnotationAdopt: "true"}},
		Immutable:  &yes, Type: corev1.SecretTypeOpaque, StringData: map[string]string{"k": "same"},
	}
	if err := k8s.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	ss := sealed(t, f.ns, "frozen", map[string]string{"k": "same"}, "immutable: true\n", rcp)
	if err := k8s.Create(ctx, ss); err != nil {
		t.Fatal(err)
	}
	waitReason(t, f.ns, "frozen", ksealv1.ReasonUnsealed)
	s := waitSecret(t, f.ns, "frozen", map[string]string{"k": "same"})
	if s.UID != old.UID {
		t.Errorf("the immutable Secret was replaced (UID %s, was %s): it disappeared during the hand-over", s.UID, old.UID)
	}
	if !metav1.IsControlledBy(s, ss) {
		t.Error("adopted Secret lacks the owner reference")
	}
}
