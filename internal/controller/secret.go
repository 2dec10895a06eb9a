package controller

import (
	"context"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// secretMeta is an empty Secret metadata object: the cache holds unsealed
// Secrets as metadata only (their data stays out of the controller's
// memory) and hands them out in this form.
func secretMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// upToDate says, from the cached metadata alone, whether ss's Secret is
// right for ss's current spec, and returns the key IDs that opened it.
// Either this process wrote or verified that very version of it (its
// memory, by UID and resourceVersion), or — after a restart, a failover or
// a move between shards, when that memory is empty — the Secret records
// the spec it was written for and nobody changed it since (verifiedBefore).
// Either way it needs no key and no read of the Secret or the ciphertext.
func (r *Reconciler) upToDate(ctx context.Context, ss *ksealv1.SealedSecret) ([]string, bool) {
	m := secretMeta()
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(ss), m); err != nil {
		return nil, false
	}
	if !metav1.IsControlledBy(m, ss) {
		return nil, false
	}
	// The labels and annotations the template asks for, and the
	// sealed-hash annotation of the current spec.
	want := r.desired(ss, nil)
	if !sameMeta(m, want.Labels, want.Annotations) {
		return nil, false
	}
	if keyIDs, ok := r.written.get(m); ok {
		return keyIDs, true
	}
	// Another version than the one this process wrote or verified: read
	// and compare it. Managed fields are only trusted when there is no
	// memory to go by (a restart): anyone who may write the Secret can
	// name kseal-controller as the field manager of an edit.
	if r.written.known(client.ObjectKeyFromObject(m)) {
		return nil, false
	}
	keyIDs, ok := verifiedBefore(m, ss)
	if ok {
		r.written.set(m, keyIDs)
	}
	return keyIDs, ok
}

// verifiedBefore says whether the Secret m, which is controlled by ss and
// carries the sealed-hash of ss's current spec, was left as the controller
// wrote it, and returns the key IDs the status recorded for this spec.
// The sealed-hash is written only with values that spec opened to (it
// covers the ciphertext and the template), and the managed fields show
// that no one but the controller set the content since (contentOurs). The
// key IDs must be the status's for this very generation and name, section
// by section, a key the spec wraps for; otherwise (a status lost in a
// crash after the Secret was written) the slow path decrypts once.
// Nothing here proves the values right, only that the values the
// controller wrote for this spec are still there, untouched by any other
// field manager.
func verifiedBefore(m *metav1.PartialObjectMetadata, ss *ksealv1.SealedSecret) ([]string, bool) {
	// The controller's writes still own exactly the spec's value names: a
	// key removed by someone else has left its entry.
	owned, ok := m.Annotations[annotationCachedContentOurs]
	if !ok || owned != specNamesDigest(ss) || ss.Status.ObservedGeneration != ss.Generation {
		return nil, false
	}
	keyIDs, wraps := ss.Status.KeyIDs, specKeyIDs(ss)
	if len(keyIDs) != len(wraps) {
		return nil, false
	}
	for i, id := range keyIDs {
		if !slices.Contains(wraps[i], id) {
			return nil, false
		}
	}
	return keyIDs, true
}

// stillNotOwned, for an object waiting for its Secret's owner to consent
// (Ready reason SecretNotOwned, rechecked every AdoptRecheck), looks at the
// Secret before any key is used: waiting must cost one read, not a KMS call
// per section per recheck.
func (r *Reconciler) stillNotOwned(ctx context.Context, ss *ksealv1.SealedSecret) *outcome {
	if c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionReady); c == nil || c.Reason != ksealv1.ReasonSecretNotOwned {
		return nil
	}
	var cur corev1.Secret
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ss.Namespace, Name: ss.Name}, &cur)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return &outcome{reason: ksealv1.ReasonProgressing, message: "reading Secret: " + err.Error(), err: err}
	}
	return r.notOwned(&cur, ss)
}

// notOwned says why the existing Secret cur may not be written for ss
// (SecretNotOwned, rechecked every AdoptRecheck), or nil when ss controls
// it or its owner consented to hand it over.
func (r *Reconciler) notOwned(cur *corev1.Secret, ss *ksealv1.SealedSecret) *outcome {
	if metav1.IsControlledBy(cur, ss) {
		return nil
	}
	if why := adoptRefusal(cur); why != "" {
		return &outcome{reason: ksealv1.ReasonSecretNotOwned, message: why, recheck: r.AdoptRecheck}
	}
	return nil
}

// What apply wrote.
type wrote int

const (
	wroteNothing wrote = iota
	wroteNew           // created the Secret
	wroteChange        // changed (updated, replaced or adopted) an existing one
)

// apply creates or updates the Secret. It returns what it wrote, or an
// outcome when it must not or could not. The cache holds metadata only, so
// an existing Secret is read in full from the API server; that happens
// only when the cheap check (upToDate) could not vouch for it.
func (r *Reconciler) apply(ctx context.Context, ss *ksealv1.SealedSecret, values map[string][]byte, keyIDs []string) (wrote, *outcome) {
	want := r.desired(ss, values)
	key := client.ObjectKeyFromObject(want)
	err := r.Client.Get(ctx, key, secretMeta()) // cache: managed Secrets only
	if apierrors.IsNotFound(err) {
		r.written.creating(key, ss.UID)
		if err = r.Client.Create(ctx, want); err == nil {
			r.written.set(want, keyIDs)
			return wroteNew, nil
		}
		r.written.forget(key)
		if !apierrors.IsAlreadyExists(err) {
			return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "creating Secret: " + err.Error(), err: err}
		}
		// It exists but is not managed (so not in the cache).
	} else if err != nil {
		return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "reading Secret: " + err.Error(), err: err}
	}
	var cur corev1.Secret
	if err := r.APIReader.Get(ctx, key, &cur); err != nil {
		// Not found: deleted since the cache saw it; the retry creates it.
		return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "reading Secret: " + err.Error(), err: err}
	}
	if out := r.notOwned(&cur, ss); out != nil {
		return wroteNothing, out
	}
	if !metav1.IsControlledBy(&cur, ss) {
		log.FromContext(ctx).Info("adopting Secret: its owner consented", "secret", cur.Namespace+"/"+cur.Name, "annotation", ksealv1.AnnotationAdopt)
	}
	if same(&cur, want) {
		r.written.set(&cur, keyIDs)
		return wroteNothing, nil
	}
	if cur.Immutable != nil && *cur.Immutable && !sameContent(&cur, want) {
		// An immutable Secret's data and type cannot be changed, only
		// replaced. Its metadata can: a Secret handed over with the same
		// content (an adoption, a label change) is updated in place and
		// never disappears.
		if err := r.Client.Delete(ctx, &cur, client.Preconditions{UID: &cur.UID}); err != nil && !apierrors.IsNotFound(err) {
			return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "replacing immutable Secret: " + err.Error(), err: err}
		}
		if err := r.Client.Create(ctx, want); err != nil {
			return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "replacing immutable Secret: " + err.Error(), err: err}
		}
		r.written.set(want, keyIDs)
		return wroteChange, nil
	}
	cur.Labels, cur.Annotations, cur.Type, cur.Immutable, cur.Data, cur.StringData = want.Labels, want.Annotations, want.Type, want.Immutable, want.Data, nil
	cur.OwnerReferences = want.OwnerReferences
	if err := r.Client.Update(ctx, &cur); err != nil {
		return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "updating Secret: " + err.Error(), err: err}
	}
	r.written.set(&cur, keyIDs)
	return wroteChange, nil
}

// desired is the Secret the SealedSecret describes.
func (r *Reconciler) desired(ss *ksealv1.SealedSecret, values map[string][]byte) *corev1.Secret {
	t := ss.Spec.Template
	labels := maps.Clone(t.Metadata.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelManaged] = ManagedSecret
	typ := t.Type
	if typ == "" {
		typ = corev1.SecretTypeOpaque
	}
	annotations := maps.Clone(t.Metadata.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[ksealv1.AnnotationSealedHash] = specHash(ss)
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: ss.Name, Namespace: ss.Namespace, Labels: labels, Annotations: annotations},
		Type:       typ,
		Immutable:  t.Immutable,
		Data:       values,
	}
	_ = controllerutil.SetControllerReference(ss, s, r.Scheme)
	return s
}

func same(cur, want *corev1.Secret) bool {
	return maps.Equal(cur.Labels, want.Labels) && maps.Equal(cur.Annotations, want.Annotations) &&
		sameContent(cur, want) &&
		len(cur.OwnerReferences) == len(want.OwnerReferences) && metav1.IsControlledBy(cur, &metav1.ObjectMeta{UID: want.OwnerReferences[0].UID})
}

// sameContent: what an immutable Secret keeps for good (type, data, the
// flag itself) is what want holds.
func sameContent(cur, want *corev1.Secret) bool {
	return cur.Type == want.Type && boolEq(cur.Immutable, want.Immutable) && len(cur.StringData) == 0 &&
		maps.EqualFunc(cur.Data, want.Data, func(a, b []byte) bool { return string(a) == string(b) })
}

func boolEq(a, b *bool) bool {
	return (a != nil && *a) == (b != nil && *b)
}
