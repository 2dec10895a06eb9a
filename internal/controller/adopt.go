package controller

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// adoptRefusal says why an existing Secret the SealedSecret does not control
// may not be adopted, or "" when its owner consented and nothing forbids it.
// The consent is the annotation kseal.dev/adopt: "true" on the Secret,
// written by whoever may write that Secret; nothing on the SealedSecret
// counts, since whoever creates SealedSecrets in the namespace writes that.
func adoptRefusal(cur *corev1.Secret) string {
	if owner := metav1.GetControllerOf(cur); owner != nil {
		// The owner reference is whatever the Secret's writer put there:
		// quoted, so that no control character reaches a terminal.
		return fmt.Sprintf("Secret %s exists and is controlled by %s %q; kseal never adopts a Secret another controller owns", cur.Name, printable(owner.Kind), owner.Name)
	}
	switch cur.Type {
	case corev1.SecretTypeServiceAccountToken, corev1.SecretTypeBootstrapToken:
		return fmt.Sprintf("Secret %s exists and is a token Secret (type %s); kseal never adopts token Secrets", cur.Name, cur.Type)
	}
	if cur.Labels[LabelManaged] == ManagedClusterKey {
		return fmt.Sprintf("Secret %s exists and holds a kseal cluster key; kseal never adopts it", cur.Name)
	}
	if cur.Annotations[ksealv1.AnnotationAdopt] != "true" {
		return fmt.Sprintf("Secret %s exists and is not managed by this SealedSecret; whoever owns it may hand it over by annotating the Secret %s=true", cur.Name, ksealv1.AnnotationAdopt)
	}
	return ""
}
