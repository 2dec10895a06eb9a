package controller_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// TestRenameIsExplained: a SealedSecret renamed or moved after sealing (a
// kustomize namePrefix or namespace) is IntegrityFailed, and its status
// message and event say what it was sealed for and what it was found as;
// nothing is written. The API server keeps spec.envelope.sealedFor (the
// CRD's schema has it: a pruned record would read as a plain failure).
//
// Guards: IntegrityError's diagnosis (pkg/crypto/sealedfor.go) and the CRD
// field (api/v1alpha1).
func TestRenameIsExplained(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	vals := map[string]string{"password": "hunter2"}
	for _, tc := range []struct {
		name string
		ss   func() *ksealv1.SealedSecret
		want string
	}{
		{"namePrefix", func() *ksealv1.SealedSecret {
			ss := sealed(t, f.ns, "db", vals, "", rcp)
			ss.Name = "app-db"
			return ss
		}, "sealed for " + f.ns + "/db, found as " + f.ns + "/app-db — renamed by a kustomize namePrefix/namespace?"},
		{"namespace", func() *ksealv1.SealedSecret {
			ss := sealed(t, "prod", "cache", vals, "", rcp)
			ss.Namespace = f.ns
			return ss
		}, "sealed for prod/cache, found as " + f.ns + "/cache — renamed by a kustomize namePrefix/namespace?"},
		{"template", func() *ksealv1.SealedSecret {
			ss := sealed(t, f.ns, "relabelled", vals, "", rcp)
			ss.Spec.Template.Metadata.Labels["team"] = "other"
			return ss
		}, "the template was changed after sealing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := tc.ss()
			if ss.Spec.Envelope.SealedFor == nil {
				t.Fatal("kseal wrote no sealedFor")
			}
			if err := k8s.Create(ctx, ss); err != nil {
				t.Fatal(err)
			}
			var stored ksealv1.SealedSecret
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(ss), &stored); err != nil {
				t.Fatal(err)
			}
			if stored.Spec.Envelope.SealedFor == nil {
				t.Fatal("the API server pruned spec.envelope.sealedFor: the CRD lacks it (make generate)")
			}
			c := waitReason(t, f.ns, ss.Name, ksealv1.ReasonIntegrityFailed)
			if !strings.Contains(c.Message, tc.want) {
				t.Errorf("status message %q\nwant it to contain %q", c.Message, tc.want)
			}
			if note := waitEvent(t, f.ns, "SealedSecret", ss.Name, ksealv1.ReasonIntegrityFailed); !strings.Contains(note, tc.want) {
				t.Errorf("event %q\nwant it to contain %q", note, tc.want)
			}
			var s corev1.Secret
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: ss.Name}, &s); !apierrors.IsNotFound(err) {
				t.Errorf("a Secret was written for a renamed object: %v", err)
			}
		})
	}
}
