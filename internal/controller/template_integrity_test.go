package controller_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// TestTemplateChangedWithoutKey: a SealedSecret whose template was changed
// after sealing (by a git writer with no key) is IntegrityFailed, and the
// controller writes nothing from it; a live object changed that way keeps
// its Secret as it was.
//
// Guard: targetOf binds spec.template (internal/controller/convert.go), and
// the commitment covers it (pkg/crypto).
func TestTemplateChangedWithoutKey(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	const extra = "type: kubernetes.io/basic-auth\n"
	vals := map[string]string{"user": "admin", "password": "hunter2"}

	for _, tc := range []struct {
		name   string
		mutate func(*ksealv1.SecretTemplate)
	}{
		// An annotation no default denies, so that the commitment is the only
		// guard here (TestTemplatesCannotMintSideEffectSecrets covers the
		// policy's template rules).
		{"annotate", func(t *ksealv1.SecretTemplate) {
			t.Metadata.Annotations = map[string]string{"sync.example.com/copy-to": "*"}
		}},
		{"immutable", func(t *ksealv1.SecretTemplate) { yes := true; t.Immutable = &yes }},
		{"relabel", func(t *ksealv1.SecretTemplate) { t.Metadata.Labels["app"] = "other" }},
		{"retype", func(t *ksealv1.SecretTemplate) { t.Type = corev1.SecretTypeOpaque }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := sealed(t, f.ns, tc.name, vals, extra, rcp)
			tc.mutate(&ss.Spec.Template)
			if err := k8s.Create(ctx, ss); err != nil {
				t.Fatal(err)
			}
			waitReason(t, f.ns, tc.name, ksealv1.ReasonIntegrityFailed)
			var s corev1.Secret
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: tc.name}, &s); !apierrors.IsNotFound(err) {
				t.Fatalf("a Secret was written from a tampered template: %v %v", err, s.Annotations)
			}
		})
	}

	t.Run("a live object changed without a key keeps its Secret", func(t *testing.T) {
		ss := sealed(t, f.ns, "live", vals, extra, rcp)
		if err := k8s.Create(ctx, ss); err != nil {
			t.Fatal(err)
		}
		waitSecret(t, f.ns, "live", vals)
		waitReason(t, f.ns, "live", ksealv1.ReasonUnsealed)
		modify(t, ss, func(cur *ksealv1.SealedSecret) {
			cur.Spec.Template.Metadata.Annotations = map[string]string{"sync.example.com/copy-to": "*"}
		})
		waitReason(t, f.ns, "live", ksealv1.ReasonIntegrityFailed)
		var s corev1.Secret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "live"}, &s); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Annotations["sync.example.com/copy-to"]; ok {
			t.Fatal("the tampered annotation reached the Secret")
		}
	})
}
