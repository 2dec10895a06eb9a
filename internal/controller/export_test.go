package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// Internals the external tests check directly.
var (
	StripSealedSecret    = stripSealedSecret
	AnnotationCachedSpec = annotationCachedSpec
	StripSecret          = stripSecret
	AnnotationCachedMeta = annotationCachedMeta
	// AnnotationCachedContentOurs marks a cached Secret only the
	// controller wrote.
	AnnotationCachedContentOurs = annotationCachedContentOurs
	Printable                   = printable
	ErrSpecChanged              = errSpecChanged
)

// FullSpec reads the ciphertext of a cached (stripped) SealedSecret with
// reader, as a reconcile does before decrypting it again: the reason and
// error of the outcome when it refuses, "" and nil when it parsed.
func FullSpec(ctx context.Context, reader client.Reader, ss *ksealv1.SealedSecret) (string, error) {
	r := &Reconciler{APIReader: reader}
	if _, out := r.fullSpec(ctx, ss); out != nil {
		return out.reason, out.err
	}
	return "", nil
}
