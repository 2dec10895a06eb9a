package controller

import (
	"context"
	"errors"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/crypto"
)

// The cache keeps a settled SealedSecret (unsealed, at its current
// generation) without its ciphertext: the encrypted values, the wrapped
// data keys and the MACs are most of its size and are needed only to
// decrypt, which an up-to-date Secret does not need. What the controller
// decides without decrypting stays: the template, the scope, each wrap's
// type and key ID (the policy's grants), and the hash of the whole spec,
// kept in annotationCachedSpec (the Secret's sealed-hash annotation is
// compared with it). When a settled object must be decrypted again (its
// Secret was deleted or edited, or the controller restarted and has not
// verified it yet), the spec is read in full from the API server and must
// hash to the same value.
//
// The annotations it adds are declared with the hashes (spechash.go).

// errSpecChanged: the spec read in full is not the one the cache holds; the
// watch event of the new one brings it.
var errSpecChanged = errors.New("the SealedSecret changed while it was being reconciled")

// stripSealedSecret is the cache transform of SealedSecrets. It drops what
// the controller never reads (managed fields, and the client-side apply
// annotations of kubectl and kubecfg, a second copy of the whole object)
// and strips the ciphertext of a settled object.
func stripSealedSecret(in any) (any, error) {
	ss, ok := in.(*ksealv1.SealedSecret)
	if !ok {
		return in, nil
	}
	if stripped(ss) {
		return ss, nil // transformed before
	}
	ss.ManagedFields = nil
	if !settled(ss) {
		for _, a := range ksealv1.LastAppliedAnnotations {
			if _, ok := ss.Annotations[a]; ok {
				ss.Annotations = maps.Clone(ss.Annotations)
				maps.DeleteFunc(ss.Annotations, isLastApplied)
				break
			}
		}
		return ss, nil
	}
	h := specDigest(ss)
	if h == "" {
		return ss, nil
	}
	annotations := make(map[string]string, len(ss.Annotations)+1)
	for k, v := range ss.Annotations {
		if !isLastApplied(k, v) {
			annotations[k] = v
		}
	}
	annotations[annotationCachedSpec] = h
	annotations[annotationCachedNames] = specNamesDigest(ss)
	ss.Annotations = annotations
	ss.Spec.EncryptedData = nil
	sections := make([]ksealv1.Section, len(ss.Spec.Envelope.Sections))
	for i, sec := range ss.Spec.Envelope.Sections {
		wraps := make([]ksealv1.Wrap, len(sec.Recipients))
		for j, w := range sec.Recipients {
			wraps[j] = ksealv1.Wrap{Type: w.Type, KeyID: w.KeyID}
		}
		sections[i] = ksealv1.Section{Recipients: wraps}
	}
	ss.Spec.Envelope.Sections = sections
	return ss, nil
}

// isLastApplied: k is one of the client-side apply annotations (a second
// copy of the whole object); the signature suits maps.DeleteFunc.
func isLastApplied(k, _ string) bool { return slices.Contains(ksealv1.LastAppliedAnnotations, k) }

// settled: the status says the Secret was unsealed from this generation.
func settled(ss *ksealv1.SealedSecret) bool {
	c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason == ksealv1.ReasonUnsealed &&
		c.ObservedGeneration == ss.Generation && ss.Status.ObservedGeneration == ss.Generation
}

// specKeyIDs lists the key IDs of each section's wraps, as the spec names
// them (crypto.Parse keeps them as they are).
func specKeyIDs(ss *ksealv1.SealedSecret) [][]string {
	out := make([][]string, len(ss.Spec.Envelope.Sections))
	for i, sec := range ss.Spec.Envelope.Sections {
		for _, w := range sec.Recipients {
			out[i] = append(out[i], w.KeyID)
		}
	}
	return out
}

// fullSpec reads the ciphertext of a stripped ss from the API server and
// parses it. The spec read must be the one the cache hashed.
func (r *Reconciler) fullSpec(ctx context.Context, ss *ksealv1.SealedSecret) (*crypto.Sealed, *outcome) {
	var full ksealv1.SealedSecret
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(ss), &full); err != nil {
		return nil, &outcome{reason: ksealv1.ReasonProgressing, message: "reading SealedSecret: " + err.Error(), err: err}
	}
	// The same object at the same generation (any spec change bumps it)
	// with the very spec the cache hashed.
	if full.UID != ss.UID || full.Generation != ss.Generation || specDigest(&full) != ss.Annotations[annotationCachedSpec] {
		return nil, &outcome{reason: ksealv1.ReasonProgressing, message: errSpecChanged.Error(), err: errSpecChanged}
	}
	sealed, err := sealedFromAPI(&full)
	if err != nil {
		return nil, &outcome{reason: ksealv1.ReasonInvalid, message: err.Error()}
	}
	return sealed, nil
}

// cachedPrefix starts the key of every annotation only the cache holds.
const cachedPrefix = "kseal.dev/cached:"
