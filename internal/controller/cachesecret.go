package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The cache sees every Secret labelled kseal.dev/managed, and anyone who
// may create a Secret can put that label on one: the label selects what
// the controller watches, it does not prove the Secret is kseal's. A
// tenant's labelled Secrets must not grow the controller, so the cache
// keeps of each one only what the controller decides with, a few hundred
// bytes whatever the Secret holds:
//
//   - name, namespace, UID, resourceVersion and the deletion timestamp;
//   - the controller owner reference (which SealedSecret owns it), none of
//     the other owner references;
//   - the kseal.dev/managed label (unsealed Secret or cluster key);
//   - in annotationCachedMeta, the SHA-256 of all its labels and
//     annotations: upToDate compares it with the labels and annotations
//     the SealedSecret's template asks for, which is all it needs them for.
//
// Data, other labels and annotations (kubectl's last-applied copy
// included, which on a cluster key Secret is the private key) never reach
// the cache. The informer still decodes each watch event in full, but that
// is garbage the moment the transform returns.
//
// annotationCachedMeta, like annotationCachedSpec, is not a valid
// annotation key: nobody can hand the controller a digest it did not
// compute, and an object carrying it was stripped already.
const annotationCachedMeta = "kseal.dev/cached:meta-sha256"

// stripSecret is the cache transform of Secrets, for the metadata-only
// informer the controller uses and for a typed one should any code ever
// read a Secret through the cache.
func stripSecret(in any) (any, error) {
	switch o := in.(type) {
	case *metav1.PartialObjectMetadata:
		if _, done := o.Annotations[annotationCachedMeta]; done {
			return o, nil
		}
		o.ObjectMeta = strippedMeta(&o.ObjectMeta)
		return o, nil
	case *corev1.Secret:
		if _, done := o.Annotations[annotationCachedMeta]; done {
			return o, nil
		}
		return &corev1.Secret{TypeMeta: o.TypeMeta, ObjectMeta: strippedMeta(&o.ObjectMeta)}, nil
	}
	return in, nil
}

// strippedMeta is what the cache keeps of a Secret's metadata.
func strippedMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp,
		Annotations: map[string]string{annotationCachedMeta: metaDigest(m.Labels, m.Annotations)},
	}
	if v, ok := m.Labels[LabelManaged]; ok {
		out.Labels = map[string]string{LabelManaged: v}
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return out
}

// metaDigest hashes labels and annotations in one canonical form
// (encoding/json sorts map keys); nil and empty maps hash alike.
func metaDigest(labels, annotations map[string]string) string {
	b, _ := json.Marshal([2]map[string]string{nonNil(labels), nonNil(annotations)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// sameMeta says whether the cached (stripped) Secret metadata m has exactly
// the labels and annotations want has.
func sameMeta(m *metav1.PartialObjectMetadata, labels, annotations map[string]string) bool {
	h, ok := m.Annotations[annotationCachedMeta]
	return ok && h == metaDigest(labels, annotations)
}
