package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

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
//     the SealedSecret's template asks for, which is all it needs them for;
//   - annotationCachedContentOurs, when its managed fields say that its
//     content (data, stringData, type, immutable) was written by the
//     controller and changed by no one since (contentOurs).
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

// annotationCachedContentOurs holds, in the cache only, for a Secret
// whose content only the controller wrote (contentOurs), the digest of the
// data keys the controller's writes still own (namesDigest); like the other
// cached annotations, no object can carry it.
const annotationCachedContentOurs = "kseal.dev/cached:content-ours"

// FieldManager is the field manager of the controller's writes. The API
// server records, per field, which manager last set it; a Secret whose
// content fields belong to this manager alone has not been changed by
// anyone else since the controller wrote it. Releases before it was set
// explicitly wrote under the same name (the API server takes the binary's
// name from the user agent).
const FieldManager = "kseal-controller"

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
	if names, ok := contentOurs(m.ManagedFields); ok {
		out.Annotations[annotationCachedContentOurs] = namesDigest(names)
	}
	if v, ok := m.Labels[LabelManaged]; ok {
		out.Labels = map[string]string{LabelManaged: v}
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return out
}

// contentFields are the top-level fields of a Secret that hold what it
// gives out, in the managed fields' notation.
var contentFields = []string{"f:data", "f:stringData", "f:type", "f:immutable"}

// contentOurs says whether the managed fields mf show the Secret's content
// set by the controller (FieldManager, an update; its create always sets
// the type) and by no other manager, and returns the data keys the
// controller's entries own. Any other writer that changed a value, added a
// key, or the type is recorded as owning that field; one that removed a key
// is recorded nowhere, but the key leaves the controller's entry, so the
// names returned then lack it (verifiedBefore compares them with the
// spec's). A manager name is what the client says it is, so this tells a
// Secret the controller left alone from one edited by mistake or by a
// tool, not from one edited by someone bent on looking like the
// controller; whoever may write the Secret could edit it after any repair
// anyway. Managed fields that were wiped (another way to edit) hold no
// entry of the controller's: false.
func contentOurs(mf []metav1.ManagedFieldsEntry) ([]string, bool) {
	ours := false
	var names []string
	for _, e := range mf {
		top, owns := contentOf(e.FieldsV1)
		if e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationUpdate && e.Subresource == "" {
			ours = ours || owns
			var data map[string]json.RawMessage
			if raw, ok := top["f:data"]; ok && json.Unmarshal(raw, &data) != nil {
				return nil, false
			}
			for k := range data {
				if name, ok := strings.CutPrefix(k, "f:"); ok && !slices.Contains(names, name) {
					names = append(names, name)
				}
			}
			continue
		}
		if owns {
			return nil, false
		}
	}
	return names, ours
}

// contentOf reads a managed fields entry's top-level field set and says
// whether it holds any of the content fields; one it cannot read counts as
// owning them.
func contentOf(f *metav1.FieldsV1) (map[string]json.RawMessage, bool) {
	if f == nil {
		return nil, false
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(f.GetRawBytes(), &top); err != nil {
		return nil, true
	}
	for _, k := range contentFields {
		if _, ok := top[k]; ok {
			return top, true
		}
	}
	return top, false
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
