package controller

import (
	"strings"
	"testing"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// TestReconcileRefusesBadNames: a SealedSecret whose name or namespace the
// API server would not accept is refused before anything else, naming the
// field. The API server refuses such objects already
// (TestAPIServerRefusesBadNames); this is the guard behind it.
//
// Guard: badName at the top of reconcile.
func TestReconcileRefusesBadNames(t *testing.T) {
	r := &Reconciler{Keyring: NewKeyring(nil, nil, logr.Discard(), KeyringOptions{Namespace: "kseal-system"})}
	for _, tc := range []struct {
		name, ns, objName, field string
	}{
		{"kubectl option", "app", "--kubeconfig=k8s/tools.yaml", "metadata.name"},
		{"newline", "app", "db\nkubectl delete", "metadata.name"},
		{"upper case", "app", "DB", "metadata.name"},
		{"too long", "app", strings.Repeat("a", 254), "metadata.name"},
		{"namespace with a dot", "a.b", "db", "metadata.namespace"},
		{"namespace escape", "app\x1b[31m", "db", "metadata.namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := &ksealv1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: tc.ns, Name: tc.objName}}
			out := r.reconcile(t.Context(), ss)
			if out.reason != ksealv1.ReasonInvalid || !strings.HasPrefix(out.message, tc.field) {
				t.Errorf("outcome %s %q: want %s naming %s", out.reason, out.message, ksealv1.ReasonInvalid, tc.field)
			}
			if strings.ContainsAny(out.message, "\n\x1b") {
				t.Errorf("message %q holds the raw control characters", out.message)
			}
		})
	}
	ok := &ksealv1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "db.example-1"}}
	if why := badName(ok); why != "" {
		t.Errorf("a valid name refused: %s", why)
	}
}
