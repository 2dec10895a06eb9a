package controller_test

// Attacks an independent review found against the controller's trust
// boundaries (issue 8), each now a test of the guard that stops it.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// rawSS turns a sealed object (empty template) into the API type.
func rawSS(t *testing.T, ns, name string, s *crypto.Sealed) *ksealv1.SealedSecret {
	t.Helper()
	j, err := json.Marshal(s.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	ss := &ksealv1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: ksealv1.SealedSecretSpec{EncryptedData: map[string]ksealv1.Base64{}}}
	if err := json.Unmarshal(j, &ss.Spec.Envelope); err != nil {
		t.Fatal(err)
	}
	for k, v := range s.Values {
		ss.Spec.EncryptedData[k] = ksealv1.Base64(base64.StdEncoding.EncodeToString(v))
	}
	return ss
}

// manySections seals n sections with public keys only, as n-1 kseal sets
// after a seal would.
func manySections(t *testing.T, ns, name string, n int, rcpts ...string) *crypto.Sealed {
	t.Helper()
	var rs []keys.Recipient
	for _, r := range rcpts {
		rc, err := keys.ParseRecipient(r)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, rc)
	}
	tg := crypto.Target{Namespace: ns, Name: name}
	s, err := crypto.Seal(t.Context(), rand.Reader, crypto.ScopeStrict, tg, map[string][]byte{"k0": []byte("v")}, rs)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if err := s.Set(t.Context(), rand.Reader, tg, map[string][]byte{fmt.Sprintf("k%d", i): []byte("v")}, rs); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestAllUnwrapsAreCapped: sections that all open (built with public keys
// only) cost at most the per-reconcile cap of KMS calls, however many.
//
// Guard: the Remote limit of keys.UnwrapBudget (unwrapLimits).
func TestAllUnwrapsAreCapped(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	stranger, _ := agekey.Generate(true)
	s := manySections(t, f.ns, "costly", 100, awsKey)
	rc, _ := keys.ParseRecipient(stranger.Recipient())
	if err := s.Set(t.Context(), rand.Reader, crypto.Target{Namespace: f.ns, Name: "costly"}, map[string][]byte{"last": []byte("v")}, []keys.Recipient{rc}); err != nil {
		t.Fatal(err)
	}
	calls := func() float64 { return float64(awsKMS.KeyCalls("Decrypt", awsKey)) }
	before := calls()
	if err := k8s.Create(t.Context(), rawSS(t, f.ns, "costly", s)); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, f.ns, "costly", ksealv1.ReasonDecryptError)
	settle(t, time.Second, "KMS calls", calls)
	if n := calls() - before; n > 64 {
		t.Errorf("%v KMS Decrypt calls for one object, want at most 64", n)
	}
	if !strings.Contains(c.Message, "kseal rotate") {
		t.Errorf("message %q does not say how to fold the sections", c.Message)
	}
}

// TestWaitingForConsentCostsNoKMSCall: a SealedSecret whose Secret exists
// without consent is rechecked with a read, not an unwrap.
//
// Guard: stillNotOwned before any key is used.
func TestWaitingForConsentCostsNoKMSCall(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	if err := k8s.Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "squat"}, StringData: map[string]string{"x": "y"}}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(t.Context(), rawSS(t, f.ns, "squat", manySections(t, f.ns, "squat", 20, awsKey))); err != nil {
		t.Fatal(err)
	}
	waitReason(t, f.ns, "squat", ksealv1.ReasonSecretNotOwned)
	calls := func() float64 { return float64(awsKMS.KeyCalls("Decrypt", awsKey)) }
	settle(t, 500*time.Millisecond, "KMS calls of the first unseal", calls)
	// The recheck runs every 200 ms in tests: ten rechecks, no KMS call.
	unchangedOver(t, 2*time.Second, map[string]func() float64{"KMS Decrypt calls while waiting for consent": calls})
}

// TestAPolicyWithoutThisClusterNeverDeletes: a valid policy that does not
// name this controller's cluster (renamed, or --cluster-name missing) would
// deny every cluster-key object; it counts as invalid, so the last valid
// policy stays in force and --policy-revoke-deletes deletes nothing.
//
// Guard: forCluster in the policy store.
func TestAPolicyWithoutThisClusterNeverDeletes(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixtureRevoke(t, true)
	cluster := p.recipient()
	p.setPolicy(t, "cluster")
	if err := k8s.Create(t.Context(), sealed(t, p.a, "db", map[string]string{"k": "v"}, "", cluster)); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, p.a, "db", map[string]string{"k": "v"})
	waitReason(t, p.a, "db", ksealv1.ReasonUnsealed)
	p.setPolicyText(t, strings.ReplaceAll(p.policyText("cluster"), "test", "prod")) // clusters: prod, cluster: {cluster: prod}
	c := policyCondition(t, p.a, "db", ksealv1.ReasonPolicyInvalid)
	if !strings.Contains(c.Message, `does not list this controller's cluster "test"`) {
		t.Errorf("message %q", c.Message)
	}
	exists := func() float64 {
		var s corev1.Secret
		if err := k8s.Get(t.Context(), client.ObjectKey{Namespace: p.a, Name: "db"}, &s); apierrors.IsNotFound(err) {
			return 0
		}
		return 1
	}
	unchangedOver(t, time.Second, map[string]func() float64{"Secret db exists": exists})
	if exists() == 0 {
		t.Fatal("a policy that does not name this cluster deleted a Secret")
	}
}

// TestABrokenPolicyCopyFailsClosed: with the policy ConfigMap deleted and
// its kept copy damaged, a restarted controller denies every unseal; it
// never falls back to "no policy".
//
// Guard: copyBad in the policy store.
func TestABrokenPolicyCopyFailsClosed(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixture(t)
	cluster := p.recipient()
	p.setPolicy(t, "cluster")
	ctx := t.Context()
	copyKey := client.ObjectKey{Namespace: p.ctrlNS, Name: controller.PolicyAppliedConfigMap}
	if err := k8s.Create(ctx, sealed(t, p.c, "loot", map[string]string{"k": "v"}, "", cluster)); err != nil {
		t.Fatal(err)
	}
	waitReason(t, p.c, "loot", ksealv1.ReasonPolicyDenied)
	eventually(t, "kept copy", func() error {
		var cm corev1.ConfigMap
		return k8s.Get(ctx, copyKey, &cm)
	})
	if err := k8s.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: p.ctrlNS, Name: controller.PolicyConfigMap}}); err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := k8s.Get(ctx, copyKey, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data[controller.PolicyKey] += "\nnewField: 1\n" // hand-edited, or written by a newer kseal
	if err := k8s.Update(ctx, &cm); err != nil {
		t.Fatal(err)
	}
	p.halt()
	p.start(time.Hour)
	modify(t, &ksealv1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: p.c, Name: "loot"}}, func(ss *ksealv1.SealedSecret) {
		ss.Annotations = map[string]string{"poke": "1"}
	})
	eventually(t, "the restarted controller to fail closed", func() error {
		var ss ksealv1.SealedSecret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: p.c, Name: "loot"}, &ss); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionPolicy); c == nil || !strings.Contains(c.Message, "does not parse") {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	var s corev1.Secret
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: p.c, Name: "loot"}, &s); !apierrors.IsNotFound(err) {
		t.Fatalf("unsealed in a namespace no service owns after a restart: the policy switched off (%v)", err)
	}
}

// TestReaderGrantsLeaveOthersRolesAlone: a Role or RoleBinding named like a
// reader grant that kseal did not make is neither deleted nor taken over,
// also when it carries kseal's label (TestForeignReaderGrantIsTerminal has
// the unlabelled case); the object is Stalled with ReaderGrantRefused.
//
// Guard: the IsControlledBy checks in syncReaders and writeGrant.
func TestReaderGrantsLeaveOthersRolesAlone(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixture(t)
	ctx := t.Context()
	p.setPolicy(t, "a-key")
	for _, tc := range []struct{ ns, name string }{{p.b, "nogrant"}, {p.a, "grant"}} { // b has no readers (delete path), a has one (grant path)
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: tc.ns, Name: "kseal-read-" + tc.name, Labels: map[string]string{controller.LabelManaged: "platform"}},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}
		if err := k8s.Create(ctx, role); err != nil {
			t.Fatal(err)
		}
		key := p.bKey.Recipient()
		if tc.ns == p.a {
			key = p.aKey.Recipient()
		}
		if err := k8s.Create(ctx, sealed(t, tc.ns, tc.name, map[string]string{"k": "v"}, "", key)); err != nil {
			t.Fatal(err)
		}
		waitSecret(t, tc.ns, tc.name, map[string]string{"k": "v"})
		if tc.ns == p.a {
			c := waitReason(t, tc.ns, tc.name, ksealv1.ReasonReaderGrantRefused)
			if !strings.Contains(c.Message, "was not made by kseal for this SealedSecret") {
				t.Errorf("message %q", c.Message)
			}
		} else {
			waitReason(t, tc.ns, tc.name, ksealv1.ReasonUnsealed)
		}
		intact := func() float64 {
			var got rbacv1.Role
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(role), &got); err != nil || !got.DeletionTimestamp.IsZero() || len(got.OwnerReferences) > 0 || got.Rules[0].Resources[0] != "configmaps" {
				return 0
			}
			return 1
		}
		unchangedOver(t, time.Second, map[string]func() float64{"Role " + role.Name + " intact": intact})
		if intact() == 0 {
			t.Fatalf("%s/%s: a Role kseal did not make was deleted or taken over", tc.ns, role.Name)
		}
	}
}

// TestManySectionsOnTheClusterKeyOpen: the unwrap cap counts KMS calls, not
// keys held in memory, so an object kseal set grew past the cap (every
// section sealed to the cluster key) still opens.
//
// Guard: only remote identities count against the Remote limit (keys.UnwrapBudget).
func TestManySectionsOnTheClusterKeyOpen(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	s := manySections(t, f.ns, "long", 70, f.recipient())
	if err := k8s.Create(t.Context(), rawSS(t, f.ns, "long", s)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := range 70 {
		want[fmt.Sprintf("k%d", i)] = "v"
	}
	waitSecret(t, f.ns, "long", want)
}
