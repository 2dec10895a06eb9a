package controller_test

import (
	"fmt"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
)

// TestForeignReaderGrantIsTerminal: a Role or RoleBinding named
// kseal-read-NAME that kseal did not make, without the kseal.dev/managed
// label (so the cache never sees it), makes the SealedSecret Stalled with
// ReaderGrantRefused naming it, not Reconciling for ever; it is left
// alone; once it is deleted the readers are granted. A grant of kseal's
// that lost its label gets it back.
//
// Guard: writeGrant's uncached read after AlreadyExists and the
// grantRefused outcome.
func TestForeignReaderGrantIsTerminal(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixture(t)
	ctx := t.Context()
	p.setPolicy(t, "a-key")
	rule := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}
	for _, tc := range []struct {
		kind    string
		foreign client.Object
	}{
		{"Role", &rbacv1.Role{Rules: rule}},
		{"RoleBinding", &rbacv1.RoleBinding{RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			name := strings.ToLower(tc.kind)
			tc.foreign.SetNamespace(p.a)
			tc.foreign.SetName("kseal-read-" + name)
			if err := k8s.Create(ctx, tc.foreign); err != nil {
				t.Fatal(err)
			}
			if err := k8s.Create(ctx, sealed(t, p.a, name, map[string]string{"k": "v"}, "", p.aKey.Recipient())); err != nil {
				t.Fatal(err)
			}
			waitSecret(t, p.a, name, map[string]string{"k": "v"})
			c := waitReason(t, p.a, name, ksealv1.ReasonReaderGrantRefused)
			want := fmt.Sprintf("%s kseal-read-%s exists in namespace %s and was not made by kseal", tc.kind, name, p.a)
			if !strings.Contains(c.Message, want) || !strings.Contains(c.Message, "rename or delete it") {
				t.Errorf("message %q: want it to name the %s and what to do", c.Message, tc.kind)
			}
			var ss ksealv1.SealedSecret
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: p.a, Name: name}, &ss); err != nil {
				t.Fatal(err)
			}
			if st := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionStalled); st == nil || st.Status != metav1.ConditionTrue {
				t.Errorf("not Stalled: %+v", ss.Status.Conditions)
			}
			if meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionReconciling) != nil {
				t.Errorf("still Reconciling: %+v", ss.Status.Conditions)
			}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(tc.foreign), tc.foreign); err != nil || len(tc.foreign.GetOwnerReferences()) > 0 || len(tc.foreign.GetLabels()) > 0 {
				t.Fatalf("the foreign %s was deleted or taken over (%v): %+v", tc.kind, err, tc.foreign)
			}
			if canGet(t, p.a, name, "a-reader") {
				t.Fatal("a-reader can read the Secret through a grant kseal did not make")
			}

			if err := k8s.Delete(ctx, tc.foreign); err != nil {
				t.Fatal(err)
			}
			waitReason(t, p.a, name, ksealv1.ReasonUnsealed)
			eventually(t, "a-reader granted", func() error {
				if !canGet(t, p.a, name, "a-reader") {
					return fmt.Errorf("a-reader cannot read Secret %s", name)
				}
				return nil
			})

			// kseal's own grant, its label removed: it leaves the cache, and
			// the next reconcile labels it again instead of failing.
			own := tc.foreign.DeepCopyObject().(client.Object)
			modify(t, own, func(own client.Object) { own.SetLabels(nil) })
			eventually(t, "kseal's label back on its "+tc.kind, func() error {
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(own), own); err != nil {
					return err
				}
				if own.GetLabels()[controller.LabelManaged] != "reader" {
					return fmt.Errorf("labels %v", own.GetLabels())
				}
				return nil
			})
			waitReason(t, p.a, name, ksealv1.ReasonUnsealed)
		})
	}
}

// TestReaderGrantForLongName: RBAC names are path segments, not DNS
// subdomains, so the reader grant of a SealedSecret with a name of 250
// characters (kseal-read- makes it 261) is made like any other.
func TestReaderGrantForLongName(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixture(t)
	ctx := t.Context()
	p.setPolicy(t, "a-key")
	name := strings.Repeat("n", 250)
	if err := k8s.Create(ctx, sealed(t, p.a, name, map[string]string{"k": "v"}, "", p.aKey.Recipient())); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, p.a, name, map[string]string{"k": "v"})
	waitReason(t, p.a, name, ksealv1.ReasonUnsealed)
	if !canGet(t, p.a, name, "a-reader") {
		t.Error("a-reader cannot read the Secret of a long-named SealedSecret")
	}
}
