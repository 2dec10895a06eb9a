package controller_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// bigText is n bytes of annotation or data filler.
func bigText(n int) string { return strings.Repeat("x", n) }

// TestStripSecret: of any Secret, the cache keeps kseal's label, the
// controller reference and a digest of labels and annotations; never data,
// other labels, annotations or owner references.
//
// Guard: stripSecret.
func TestStripSecret(t *testing.T) {
	ctrlRef := metav1.OwnerReference{APIVersion: "kseal.dev/v1alpha1", Kind: "SealedSecret", Name: "db", UID: "u-1", Controller: new(true)}
	other := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "u-2"}
	meta := metav1.ObjectMeta{
		Name: "db", Namespace: "tenant", UID: "s-1", ResourceVersion: "7",
		Labels:          map[string]string{controller.LabelManaged: controller.ManagedSecret, "app": "db"},
		Annotations:     map[string]string{"tenant/blob": bigText(4096), ksealv1.LastAppliedAnnotations[0]: `{"data":{"identity":"secret"}}`},
		OwnerReferences: []metav1.OwnerReference{other, ctrlRef},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}
	for _, tc := range []struct {
		name string
		in   client.Object
	}{
		{"metadata", &metav1.PartialObjectMetadata{ObjectMeta: *meta.DeepCopy()}},
		{"typed", &corev1.Secret{ObjectMeta: *meta.DeepCopy(), Data: map[string][]byte{"password": []byte("p1")}, StringData: map[string]string{"u": "v"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := controller.StripSecret(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			o := out.(client.Object)
			if s, ok := o.(*corev1.Secret); ok && (s.Data != nil || s.StringData != nil) {
				t.Errorf("cached Secret keeps its data")
			}
			if got := o.GetLabels(); !maps.Equal(got, map[string]string{controller.LabelManaged: controller.ManagedSecret}) {
				t.Errorf("labels %v: want only %s", got, controller.LabelManaged)
			}
			if got := slices.Collect(maps.Keys(o.GetAnnotations())); !slices.Equal(got, []string{controller.AnnotationCachedMeta}) {
				t.Errorf("annotations %v: want only the digest", got)
			}
			if refs := o.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != ctrlRef.UID {
				t.Errorf("owner references %v: want only the controller's", refs)
			}
			if o.GetManagedFields() != nil || o.GetName() != "db" || o.GetNamespace() != "tenant" || o.GetUID() != "s-1" || o.GetResourceVersion() != "7" {
				t.Errorf("identity or managed fields wrong: %+v", o)
			}
			again, _ := controller.StripSecret(o)
			if again.(client.Object).GetAnnotations()[controller.AnnotationCachedMeta] != o.GetAnnotations()[controller.AnnotationCachedMeta] {
				t.Error("a second run changes the digest")
			}
		})
	}
}

// TestCacheHoldsNoTenantSecretContent: a tenant who labels its own Secrets
// kseal.dev/managed (even forging kseal's owner reference) gets them into
// the controller's cache only as a few hundred bytes each: the manager's
// cache, read directly, holds neither their annotations nor their data,
// nor the last-applied copy on a cluster key; and the controller's own
// Secrets still count as up to date from the cache alone.
//
// Guard: the Secret cache transform (setup.go, stripSecret).
func TestCacheHoldsNoTenantSecretContent(t *testing.T) {
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	ss := sealed(t, f.ns, "app", map[string]string{"password": "p1"}, "  annotations: {team: payments}\n", f.recipient())
	if err := k8s.Create(ctx, ss); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, f.ns, "app", map[string]string{"password": "p1"})
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ss), ss); err != nil {
		t.Fatal(err)
	}
	ref := metav1.OwnerReference{APIVersion: "kseal.dev/v1alpha1", Kind: "SealedSecret", Name: ss.Name, UID: ss.UID, Controller: new(true)}
	for i := range 4 {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: fmt.Sprintf("tenant-%d", i),
				Labels:      map[string]string{controller.LabelManaged: controller.ManagedSecret, "tenant": "yes"},
				Annotations: map[string]string{"tenant/blob": bigText(200 << 10)}},
			Data: map[string][]byte{"blob": []byte(bigText(256 << 10))},
		}
		if i%2 == 1 {
			s.OwnerReferences = []metav1.OwnerReference{ref}
		}
		if err := k8s.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// A cluster key restored with kubectl apply: the annotation is removed
	// (TestKeySecretLosesLastApplied); in the meantime it must not be cached.
	cached := func(ns string) (map[string]metav1.PartialObjectMetadata, error) {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		if err := f.mgr.GetCache().List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		out := map[string]metav1.PartialObjectMetadata{}
		for _, m := range list.Items {
			out[m.Name] = m
		}
		return out, nil
	}
	var all map[string]metav1.PartialObjectMetadata
	eventually(t, "the tenant's Secrets in the cache", func() (err error) {
		if all, err = cached(f.ns); err != nil {
			return err
		}
		if len(all) != 5 {
			return fmt.Errorf("%d cached", len(all))
		}
		return nil
	})
	keys, err := cached(f.ctrlNS)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(all, keys)
	for name, m := range all {
		size := 0
		for k, v := range m.Annotations {
			size += len(k) + len(v)
		}
		for k, v := range m.Labels {
			size += len(k) + len(v)
		}
		// The controller's own Secrets also carry the digest of the
		// value names it wrote (annotationCachedContentOurs): one more
		// fixed-size annotation.
		want := 1
		if _, ours := m.Annotations[controller.AnnotationCachedContentOurs]; ours {
			want = 2
		}
		if _, ok := m.Annotations[controller.AnnotationCachedMeta]; !ok || len(m.Annotations) != want || len(m.Labels) != 1 || size > 200+110*(want-1) || len(m.OwnerReferences) > 1 {
			t.Errorf("cached Secret %s keeps %d bytes of labels and annotations (%d annotations, labels %v, %d owner references): want kseal's label and the digests only",
				name, size, len(m.Annotations), m.Labels, len(m.OwnerReferences))
		}
	}
	// A typed read through the cache (nothing in the controller does one)
	// would start an informer with the same transform: no data either.
	var typed corev1.Secret
	if err := f.mgr.GetCache().Get(ctx, types.NamespacedName{Namespace: f.ns, Name: "tenant-0"}, &typed); err != nil {
		t.Fatal(err)
	}
	if typed.Data != nil || typed.Annotations["tenant/blob"] != "" {
		t.Errorf("a typed cached Secret keeps data (%d keys) or the tenant's annotation", len(typed.Data))
	}

	// The controller still recognises its own Secret as up to date from the
	// digest: a policy-free poke of the SealedSecret decrypts nothing.
	opened := func() float64 { return metric(t, "kseal_unwrap_attempts_total", map[string]string{"result": "opened"}) }
	settle(t, 500*time.Millisecond, "unwraps", opened)
	before := opened()
	modify(t, ss, func(ss *ksealv1.SealedSecret) { ss.Annotations = map[string]string{"poke": "1"} })
	settle(t, 500*time.Millisecond, "unwraps", opened)
	if after := opened(); after != before {
		t.Errorf("a reconcile of an up-to-date object unwrapped %v data keys: the digest no longer matches the template", after-before)
	}
}

// TestKeySecretLosesLastApplied: a cluster key Secret applied with kubectl
// (or kubecfg) apply carries a clear copy of itself, private key included,
// in an annotation; the controller removes it and keeps using the key.
//
// Guard: Keyring.dropLastApplied.
func TestKeySecretLosesLastApplied(t *testing.T) {
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	f.recipient()
	for _, annotation := range ksealv1.LastAppliedAnnotations {
		t.Run(annotation, func(t *testing.T) {
			id, err := agekey.Generate(true)
			if err != nil {
				t.Fatal(err)
			}
			name := "kseal-key-restored-" + strings.Split(annotation, ".")[0]
			key := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: f.ctrlNS, Name: name,
					Labels:      map[string]string{controller.LabelManaged: controller.ManagedClusterKey},
					Annotations: map[string]string{annotation: fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","stringData":{"identity":%q}}`, id.SecretString())}},
				Data: map[string][]byte{controller.KeyField: []byte(id.SecretString()), controller.RecipientField: []byte(id.Recipient())},
			}
			if err := k8s.Create(ctx, key); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the last-applied annotation to be removed", func() error {
				var got corev1.Secret
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(key), &got); err != nil {
					return err
				}
				if _, ok := got.Annotations[annotation]; ok {
					return fmt.Errorf("%s still there", annotation)
				}
				if string(got.Data[controller.KeyField]) != id.SecretString() {
					t.Fatal("the key Secret's data changed")
				}
				return nil
			})
			ss := sealed(t, f.ns, name, map[string]string{"k": "v"}, "", id.Recipient())
			if err := k8s.Create(ctx, ss); err != nil {
				t.Fatal(err)
			}
			waitSecret(t, f.ns, name, map[string]string{"k": "v"})
		})
	}
}
