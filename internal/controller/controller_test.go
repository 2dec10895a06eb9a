package controller_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
	"kseal.dev/kseal/pkg/keys/agekey"
)

func TestUnsealUpdateAndDriftRepair(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()

	ss := sealed(t, f.ns, "db", map[string]string{"user": "admin", "password": "hunter2"}, "type: kubernetes.io/basic-auth\n", rcp)
	if err := k8s.Create(ctx, ss); err != nil {
		t.Fatal(err)
	}
	s := waitSecret(t, f.ns, "db", map[string]string{"user": "admin", "password": "hunter2"})
	c := waitReason(t, f.ns, "db", ksealv1.ReasonUnsealed)
	if c.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %s", c.Status)
	}
	if s.Type != corev1.SecretTypeBasicAuth || s.Labels["app"] != "demo" {
		t.Errorf("template not applied: type %q labels %v", s.Type, s.Labels)
	}
	if !metav1.IsControlledBy(s, ss) {
		t.Errorf("Secret is not controlled by the SealedSecret: %v", s.OwnerReferences)
	}
	var got ksealv1.SealedSecret
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ss), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.ObservedGeneration != got.Generation || len(got.Status.KeyIDs) != 1 || got.Status.KeyIDs[0] != agekey.KeyID(rcp) {
		t.Errorf("status %+v", got.Status)
	}

	t.Run("update flows to the Secret", func(t *testing.T) {
		upd := sealed(t, f.ns, "db", map[string]string{"user": "admin", "password": "rotated"}, "type: kubernetes.io/basic-auth\n", rcp)
		modify(t, &got, func(got *ksealv1.SealedSecret) { got.Spec = upd.Spec })
		waitSecret(t, f.ns, "db", map[string]string{"user": "admin", "password": "rotated"})
	})
	t.Run("a Secret edited by hand is restored", func(t *testing.T) {
		modify(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "db"}}, func(cur *corev1.Secret) {
			cur.Data["password"] = []byte("tampered")
			cur.Data["extra"] = []byte("x")
		})
		waitSecret(t, f.ns, "db", map[string]string{"user": "admin", "password": "rotated"})
	})
	t.Run("a Secret deleted by hand comes back", func(t *testing.T) {
		if err := k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "db"}}); err != nil {
			t.Fatal(err)
		}
		waitSecret(t, f.ns, "db", map[string]string{"user": "admin", "password": "rotated"})
	})
}

func TestBadInputIsTerminal(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	other, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		ss     func() *ksealv1.SealedSecret
		reason string
		msg    string
	}{
		{"tampered value", func() *ksealv1.SealedSecret {
			ss := sealed(t, f.ns, "tampered", map[string]string{"k": "v"}, "", rcp)
			b, _ := base64.StdEncoding.DecodeString(string(ss.Spec.EncryptedData["k"]))
			b[len(b)-1] ^= 1
			ss.Spec.EncryptedData["k"] = ksealv1.Base64(base64.StdEncoding.EncodeToString(b))
			return ss
		}, ksealv1.ReasonIntegrityFailed, "integrity check failed"},
		{"moved to another name", func() *ksealv1.SealedSecret {
			ss := sealed(t, f.ns, "original", map[string]string{"k": "v"}, "", rcp)
			ss.Name = "moved"
			return ss
		}, ksealv1.ReasonIntegrityFailed, "sealed for " + f.ns + "/original, found as " + f.ns + "/moved — renamed by a kustomize namePrefix/namespace?"},
		{"sealed to another key", func() *ksealv1.SealedSecret {
			return sealed(t, f.ns, "foreign", map[string]string{"k": "v"}, "", other.Recipient())
		}, ksealv1.ReasonNoMatchingKey, "tried x25519 " + other.KeyID()},
		{"truncated value", func() *ksealv1.SealedSecret {
			ss := sealed(t, f.ns, "truncated", map[string]string{"k": "v"}, "", rcp)
			ss.Spec.EncryptedData["k"] = ss.Spec.EncryptedData["k"][:12]
			return ss
		}, ksealv1.ReasonInvalid, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := tc.ss()
			if err := k8s.Create(ctx, ss); err != nil {
				t.Fatal(err)
			}
			c := waitReason(t, f.ns, ss.Name, tc.reason)
			if !strings.Contains(c.Message, tc.msg) || strings.Contains(c.Message, "AGE-SECRET-KEY") {
				t.Errorf("message %q", c.Message)
			}
			var s corev1.Secret
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: ss.Name}, &s); !apierrors.IsNotFound(err) {
				t.Errorf("a Secret was written for bad input: %v", err)
			}
		})
	}
	// Terminal: once every object has its condition, the controller does
	// not reconcile them again. A retry loop that writes the same status
	// each time would still count reconciles and failures.
	unchangedOver(t, 2*time.Second, map[string]func() float64{
		"reconciles": func() float64 { return metric(t, "kseal_reconcile_duration_seconds", nil) },
		"IntegrityFailed errors": func() float64 {
			return metric(t, "kseal_unseal_errors_total", map[string]string{"reason": ksealv1.ReasonIntegrityFailed})
		},
		"NoMatchingKey errors": func() float64 {
			return metric(t, "kseal_unseal_errors_total", map[string]string{"reason": ksealv1.ReasonNoMatchingKey})
		},
		"InvalidSealedSecret errors": func() float64 {
			return metric(t, "kseal_unseal_errors_total", map[string]string{"reason": ksealv1.ReasonInvalid})
		},
	})
}

func TestAdmissionRejectsMalformedObjects(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ss := sealed(t, f.ns, "bad", map[string]string{"k": "v"}, "", rcp)
	ss.Spec.Envelope.Scope = "galaxy"
	err := k8s.Create(t.Context(), ss)
	if err == nil || !strings.Contains(err.Error(), "spec.envelope.scope") {
		t.Fatalf("got %v", err)
	}
	ss = sealed(t, f.ns, "bad", map[string]string{"k": "v"}, "", rcp)
	ss.Spec.EncryptedData["k"] = "not base64!"
	if err := k8s.Create(t.Context(), ss); err == nil {
		t.Fatal("non-base64 value admitted")
	}
}

func TestKeyRotationAndRestart(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, 2*time.Second)
	ctx := t.Context()
	first := f.recipient()
	a := sealed(t, f.ns, "a", map[string]string{"k": "old-key"}, "", first)
	if err := k8s.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, f.ns, "a", map[string]string{"k": "old-key"})

	var second string
	eventually(t, "a renewed cluster key", func() error {
		if second = f.recipient(); second == first {
			return errUnchanged
		}
		return nil
	})
	b := sealed(t, f.ns, "b", map[string]string{"k": "new-key"}, "", second)
	if err := k8s.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, f.ns, "b", map[string]string{"k": "new-key"})

	// A new controller process with a long renew period picks up the
	// stored keys: both objects unseal again after their Secrets vanish.
	f.halt()
	var list corev1.SecretList
	if err := k8s.List(ctx, &list, client.InNamespace(f.ctrlNS), client.MatchingLabels{controller.LabelManaged: controller.ManagedClusterKey}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) < 2 {
		t.Fatalf("%d keys stored, want at least 2", len(list.Items))
	}
	for _, n := range []string{"a", "b"} {
		if err := k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
	f.start(time.Hour)
	waitSecret(t, f.ns, "a", map[string]string{"k": "old-key"})
	waitSecret(t, f.ns, "b", map[string]string{"k": "new-key"})
	var got ksealv1.SealedSecret
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(a), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.KeyIDs) != 1 || got.Status.KeyIDs[0] != agekey.KeyID(first) {
		t.Errorf("a opened with %v, want the first key %s", got.Status.KeyIDs, agekey.KeyID(first))
	}
}

type unchanged struct{}

func (unchanged) Error() string { return "recipient unchanged" }

var errUnchanged error = unchanged{}
