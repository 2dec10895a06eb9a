package controller_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
)

// policyCondition waits until the PolicyCurrent condition of ns/name has
// reason, and returns it.
func policyCondition(t *testing.T, ns, name, reason string) *metav1.Condition {
	t.Helper()
	var c *metav1.Condition
	eventually(t, fmt.Sprintf("%s/%s PolicyCurrent reason %s", ns, name, reason), func() error {
		var ss ksealv1.SealedSecret
		if err := k8s.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &ss); err != nil {
			return err
		}
		c = meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionPolicy)
		if c == nil || c.Reason != reason {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	return c
}

func policyState(t *testing.T, state string) float64 {
	return metric(t, "kseal_policy_state", map[string]string{"state": state})
}

// TestBrokenPolicyNeverDeletes: with --policy-revoke-deletes, a typo keeps
// the last valid policy in force and deletes nothing; deleting the policy
// ConfigMap is loud and keeps enforcing, across a restart too; with no
// valid policy known every unseal is denied, still without deleting.
func TestBrokenPolicyNeverDeletes(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixtureRevoke(t, true)
	ctx := t.Context()
	p.setPolicy(t, "a-key")
	create := func(name, recipient string) {
		t.Helper()
		if err := k8s.Create(ctx, sealed(t, p.a, name, map[string]string{"k": name}, "", recipient)); err != nil {
			t.Fatal(err)
		}
	}
	create("mine", p.aKey.Recipient())
	waitSecret(t, p.a, "mine", map[string]string{"k": "mine"})
	policyCondition(t, p.a, "mine", ksealv1.ReasonPolicyLoaded)

	t.Run("a typo keeps the last valid policy", func(t *testing.T) {
		p.setPolicyText(t, "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nservices: {a: {namespaces: [x], keys: [typo]}}\n")
		c := policyCondition(t, p.a, "mine", ksealv1.ReasonPolicyInvalid)
		if !strings.Contains(c.Message, "is invalid, so the last valid policy stays in force") || !strings.Contains(c.Message, `unknown key "typo"`) {
			t.Errorf("message %q", c.Message)
		}
		note := waitEvent(t, p.ctrlNS, "ConfigMap", controller.PolicyConfigMap, ksealv1.ReasonPolicyInvalid)
		if !strings.Contains(note, "last valid policy stays in force") {
			t.Errorf("event %q", note)
		}
		if policyState(t, "invalid") != 1 {
			t.Error("kseal_policy_state{state=invalid} is not 1")
		}
		waitReason(t, p.a, "mine", ksealv1.ReasonUnsealed)
		waitSecret(t, p.a, "mine", map[string]string{"k": "mine"})
		// The last valid policy is in force: it grants a-key, not b-key.
		create("later", p.aKey.Recipient())
		waitSecret(t, p.a, "later", map[string]string{"k": "later"})
		create("stolen", p.bKey.Recipient())
		c = waitReason(t, p.a, "stolen", ksealv1.ReasonPolicyDenied)
		if !strings.Contains(c.Message, "its Secret is kept") {
			t.Errorf("message %q", c.Message)
		}
	})
	t.Run("deleting the policy is loud and keeps enforcing", func(t *testing.T) {
		if err := k8s.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: p.ctrlNS, Name: controller.PolicyConfigMap}}); err != nil {
			t.Fatal(err)
		}
		c := policyCondition(t, p.a, "mine", ksealv1.ReasonPolicyMissing)
		if !strings.Contains(c.Message, "is missing; the last valid policy stays in force") {
			t.Errorf("message %q", c.Message)
		}
		waitEvent(t, p.ctrlNS, "ConfigMap", controller.PolicyConfigMap, ksealv1.ReasonPolicyMissing)
		if policyState(t, "missing") != 1 {
			t.Error("kseal_policy_state{state=missing} is not 1")
		}
		create("stolen-2", p.bKey.Recipient())
		waitReason(t, p.a, "stolen-2", ksealv1.ReasonPolicyDenied)
		waitSecret(t, p.a, "mine", map[string]string{"k": "mine"})
	})
	t.Run("a restart without the ConfigMap keeps enforcing", func(t *testing.T) {
		p.halt()
		p.start(time.Hour)
		create("stolen-3", p.bKey.Recipient())
		waitReason(t, p.a, "stolen-3", ksealv1.ReasonPolicyDenied)
		policyCondition(t, p.a, "stolen-3", ksealv1.ReasonPolicyMissing)
		waitReason(t, p.a, "mine", ksealv1.ReasonUnsealed)
	})
	t.Run("no valid policy known: every unseal is denied, nothing is deleted", func(t *testing.T) {
		p.halt()
		if err := k8s.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: p.ctrlNS, Name: controller.PolicyAppliedConfigMap}}); err != nil {
			t.Fatal(err)
		}
		p.setPolicyText(t, "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nservices: {a: {namespaces: [x], keys: [typo]}}\n")
		p.start(time.Hour)
		c := waitReason(t, p.a, "mine", ksealv1.ReasonPolicyDenied)
		if !strings.Contains(c.Message, "no valid policy is known, so every unseal is denied") || !strings.Contains(c.Message, "its Secret is kept") {
			t.Errorf("message %q", c.Message)
		}
		// The denial and any deletion happen in the same reconcile, before
		// the status: the Secret is still there.
		waitSecret(t, p.a, "mine", map[string]string{"k": "mine"})
		waitSecret(t, p.a, "later", map[string]string{"k": "later"})
	})
}

// TestRequirePolicy: with --require-policy and no policy at all, nothing
// unseals.
func TestRequirePolicy(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixture(t)
	p.halt()
	p.require = true
	p.start(time.Hour)
	if err := k8s.Create(t.Context(), sealed(t, p.a, "mine", map[string]string{"k": "v"}, "", p.aKey.Recipient())); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, p.a, "mine", ksealv1.ReasonPolicyDenied)
	if !strings.Contains(c.Message, "--require-policy is set: every unseal is denied") {
		t.Errorf("message %q", c.Message)
	}
	p.setPolicy(t, "a-key")
	waitSecret(t, p.a, "mine", map[string]string{"k": "v"})
}
