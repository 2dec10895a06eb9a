package controller_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// policyFixture: services a (namespace A, service account a-reader) and b
// (namespace B), a third namespace C owned by nobody, a service d (namespace
// D) outside the shared entry but holding its key, and a secret "shared"
// that a and b share.
type policyFixture struct {
	*fixture
	a, b, c, d string
	aKey, bKey *agekey.Identity
}

func newPolicyFixture(t *testing.T) *policyFixture { return newPolicyFixtureRevoke(t, false) }

func newPolicyFixtureRevoke(t *testing.T, revoke bool) *policyFixture {
	aKey, _ := agekey.Generate(true)
	bKey, _ := agekey.Generate(true)
	n := nsCounter.Add(1)
	a, b, c, d := fmt.Sprintf("svc-a-%d", n), fmt.Sprintf("svc-b-%d", n), fmt.Sprintf("other-%d", n), fmt.Sprintf("svc-d-%d", n)
	f := newFixtureWith(t, time.Hour, []string{a, b, c, d}, aKey, bKey)
	if revoke {
		f.halt()
		f.revoke = true
		f.start(time.Hour)
	}
	return &policyFixture{fixture: f, a: a, b: b, c: c, d: d, aKey: aKey, bKey: bKey}
}

// policyText is the fixture's policy with aKeys as service a's keys.
func (p *policyFixture) policyText(aKeys string) string {
	return fmt.Sprintf(`apiVersion: kseal.dev/v1alpha1
kind: Policy
clusters:
  test: {recipientsFile: test.pub}
keys:
  cluster: {cluster: test}
  a-key: {age: %s}
  b-key: {age: %s}
services:
  a: {namespaces: [%s], serviceAccounts: [a-reader], keys: [%s]}
  b: {namespaces: [%s], keys: [b-key]}
  d: {namespaces: [%s], keys: [cluster]}
shared:
  - {name: shared, services: [a, b], keys: [cluster]}
`, p.aKey.Recipient(), p.bKey.Recipient(), p.a, aKeys, p.b, p.d)
}

func (p *policyFixture) setPolicy(t *testing.T, aKeys string) {
	t.Helper()
	p.setPolicyText(t, p.policyText(aKeys))
}

func (p *policyFixture) setPolicyText(t *testing.T, text string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: p.ctrlNS, Name: controller.PolicyConfigMap}}
	err := k8s.Get(t.Context(), client.ObjectKeyFromObject(cm), cm)
	cm.Data = map[string]string{controller.PolicyKey: text}
	if apierrors.IsNotFound(err) {
		err = k8s.Create(t.Context(), cm)
	} else if err == nil {
		err = k8s.Update(t.Context(), cm)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func canGet(t *testing.T, ns, secret, sa string) bool {
	t.Helper()
	sar := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
		User:               "system:serviceaccount:" + ns + ":" + sa,
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ResourceAttributes: &authv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets", Name: secret},
	}}
	if err := k8s.Create(t.Context(), sar); err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

func TestPolicyIsEnforced(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixture(t)
	ctx := t.Context()
	cluster := p.recipient()
	p.setPolicy(t, "cluster, a-key")

	create := func(ss *ksealv1.SealedSecret) {
		t.Helper()
		if err := k8s.Create(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	strict := func(ns, name, recipient string) *ksealv1.SealedSecret {
		return sealed(t, ns, name, map[string]string{"k": name}, "", recipient)
	}
	notWritten := func(ns, name string) {
		t.Helper()
		var s corev1.Secret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); !apierrors.IsNotFound(err) {
			t.Errorf("Secret %s/%s written: %v", ns, name, err)
		}
	}
	denied := func(ns, name, msg string) {
		t.Helper()
		c := waitReason(t, ns, name, ksealv1.ReasonPolicyDenied)
		if !strings.Contains(c.Message, msg) {
			t.Errorf("message %q, want %q", c.Message, msg)
		}
		notWritten(ns, name)
	}

	t.Run("namespace A cannot unseal B's secret", func(t *testing.T) {
		create(strict(p.a, "stolen", p.bKey.Recipient()))
		c := waitReason(t, p.a, "stolen", ksealv1.ReasonPolicyDenied)
		if !strings.Contains(c.Message, "none of which is granted to namespace \""+p.a+"\"") || !strings.Contains(c.Message, "under service a") {
			t.Errorf("message %q", c.Message)
		}
		notWritten(p.a, "stolen")
	})
	t.Run("own key unseals, and the listed service account may read it", func(t *testing.T) {
		create(strict(p.a, "mine", p.aKey.Recipient()))
		waitSecret(t, p.a, "mine", map[string]string{"k": "mine"})
		eventually(t, "RBAC for a-reader", func() error {
			if !canGet(t, p.a, "mine", "a-reader") {
				return fmt.Errorf("a-reader cannot get the Secret")
			}
			return nil
		})
		if canGet(t, p.a, "mine", "someone-else") || canGet(t, p.a, "stolen", "a-reader") {
			t.Error("RBAC grants more than the one Secret to the listed account")
		}
	})
	// Guard (both third namespaces): in policy.GrantFor, a shared secret
	// opens only where one of the entry's services owns the namespace. D's
	// service holds the entry's key (cluster), so only that guard keeps the
	// secret out of D.
	t.Run("a shared secret unseals in both services' namespaces, not a third", func(t *testing.T) {
		create(sealedShared(t, p.a, "shared", map[string]string{"k": "shared"}, cluster))
		create(sealedShared(t, p.b, "shared", map[string]string{"k": "shared"}, cluster))
		create(sealedShared(t, p.c, "shared", map[string]string{"k": "shared"}, cluster))
		create(sealedShared(t, p.d, "shared", map[string]string{"k": "shared"}, cluster))
		waitSecret(t, p.a, "shared", map[string]string{"k": "shared"})
		waitSecret(t, p.b, "shared", map[string]string{"k": "shared"})
		denied(p.c, "shared", `shared secret "shared" is allowed in the namespaces of [a b], not "`+p.c+`"`)
		denied(p.d, "shared", `shared secret "shared" is allowed in the namespaces of [a b], not "`+p.d+`"`)
	})
	t.Run("a shared secret copied under another name does not unseal", func(t *testing.T) {
		cp := sealedShared(t, p.a, "shared", map[string]string{"k": "shared"}, cluster)
		cp.Name = "copy"
		create(cp)
		denied(p.a, "copy", `no shared entry names "copy"`)
	})
	t.Run("a shared entry's keys open nothing but its secret", func(t *testing.T) {
		update := func(ns string, spec ksealv1.SealedSecretSpec) {
			t.Helper()
			modify(t, &ksealv1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shared"}}, func(cur *ksealv1.SealedSecret) { cur.Spec = spec })
		}
		// Under the entry's name in B but bound to the namespace: only B's
		// own key counts, not the entry's cluster key.
		update(p.b, strict(p.b, "shared", cluster).Spec)
		c := waitReason(t, p.b, "shared", ksealv1.ReasonPolicyDenied)
		if !strings.Contains(c.Message, "(granted: keys b-key under service b)") {
			t.Errorf("message %q", c.Message)
		}
		// The shared secret opens with the entry's keys only: a's own key
		// does not open a version of it in A.
		update(p.a, sealedShared(t, p.a, "shared", map[string]string{"k": "a-key"}, p.aKey.Recipient()).Spec)
		c = waitReason(t, p.a, "shared", ksealv1.ReasonPolicyDenied)
		if !strings.Contains(c.Message, "(granted: keys cluster under shared shared)") {
			t.Errorf("message %q", c.Message)
		}
		// The earlier versions stay (no --policy-revoke-deletes).
		waitSecret(t, p.a, "shared", map[string]string{"k": "shared"})
		waitSecret(t, p.b, "shared", map[string]string{"k": "shared"})
	})
	t.Run("scope cluster opens nowhere under a policy", func(t *testing.T) {
		// Bound to no name, its ciphertext could be any other cluster-scope
		// object renamed: not even a service's own key opens it.
		create(sealedClusterScope(t, p.a, "anywhere", map[string]string{"k": "anywhere"}, p.aKey.Recipient()))
		denied(p.a, "anywhere", "scope cluster binds no name")
	})
	t.Run("a policy change takes effect without a restart", func(t *testing.T) {
		p.setPolicy(t, "cluster, a-key, b-key")
		waitSecret(t, p.a, "stolen", map[string]string{"k": "stolen"})
	})
	t.Run("a revoked grant marks the object and keeps the Secret", func(t *testing.T) {
		p.setPolicy(t, "cluster")
		waitReason(t, p.a, "mine", ksealv1.ReasonPolicyDenied)
		waitSecret(t, p.a, "mine", map[string]string{"k": "mine"})
	})
}

func TestPolicyRevokeDeletes(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixtureRevoke(t, true)
	ctx := t.Context()
	p.setPolicy(t, "a-key")
	ss := sealed(t, p.a, "mine", map[string]string{"k": "v"}, "", p.aKey.Recipient())
	if err := k8s.Create(ctx, ss); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, p.a, "mine", map[string]string{"k": "v"})
	p.setPolicy(t, "b-key")
	c := waitReason(t, p.a, "mine", ksealv1.ReasonPolicyDenied)
	if !strings.Contains(c.Message, "its Secret is deleted") {
		t.Errorf("message %q", c.Message)
	}
	eventually(t, "the Secret and its reader grant to go", func() error {
		var s corev1.Secret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: p.a, Name: "mine"}, &s); !apierrors.IsNotFound(err) {
			return fmt.Errorf("Secret: %v", err)
		}
		if canGet(t, p.a, "mine", "a-reader") {
			return fmt.Errorf("a-reader can still get it")
		}
		return nil
	})
}
