package controller_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

const saToken = "  annotations: {kubernetes.io/service-account.name: default}\ntype: kubernetes.io/service-account-token\n"

// TestTemplatesCannotMintSideEffectSecrets: a tenant's template cannot make
// the token controllers mint a credential, nor ask a replicator to copy the
// Secret out of its namespace, unless the policy allows it for the service.
func TestTemplatesCannotMintSideEffectSecrets(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	for _, tc := range []struct {
		name, extra, msg string
	}{
		{"sa-token", saToken, "type kubernetes.io/service-account-token is refused"},
		{"bootstrap-token-abcdef", "type: bootstrap.kubernetes.io/token\n", "type bootstrap.kubernetes.io/token is refused"},
		{"replicated", "  annotations: {replicator.v1.mittwald.de/replicate-to: \"*\"}\n", "annotations replicator.v1.mittwald.de/replicate-to are refused"},
		{"reflected", "  annotations: {reflector.v1.k8s.emberstack.com/reflection-auto-enabled: \"true\"}\n", "reflector.v1.k8s.emberstack.com/reflection-auto-enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := k8s.Create(ctx, sealed(t, f.ns, tc.name, map[string]string{"token": "t"}, tc.extra, rcp)); err != nil {
				t.Fatal(err)
			}
			c := waitReason(t, f.ns, tc.name, ksealv1.ReasonTemplateRefused)
			if !strings.Contains(c.Message, tc.msg) {
				t.Errorf("message %q", c.Message)
			}
			waitEvent(t, f.ns, "SealedSecret", tc.name, ksealv1.ReasonTemplateRefused)
			var s corev1.Secret
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: tc.name}, &s); !apierrors.IsNotFound(err) {
				t.Errorf("Secret written: %v", err)
			}
		})
	}
}

// TestPolicyAllowsTokenTypesPerService: a service listed with
// allowTokenTypes (and the annotation prefix the type needs) gets its token
// Secret; another service does not.
func TestPolicyAllowsTokenTypesPerService(t *testing.T) {
	needsAPIServer(t)
	p := newPolicyFixture(t)
	text := strings.Replace(p.policyText("a-key"), "keys: [a-key]}", `keys: [a-key], allowTokenTypes: [kubernetes.io/service-account-token], allowAnnotations: ["kubernetes.io/service-account."]}`, 1)
	p.setPolicyText(t, text)
	ctx := t.Context()
	if err := k8s.Create(ctx, sealed(t, p.a, "a-token", map[string]string{"token": "t"}, saToken, p.aKey.Recipient())); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, sealed(t, p.b, "b-token", map[string]string{"token": "t"}, saToken, p.bKey.Recipient())); err != nil {
		t.Fatal(err)
	}
	s := waitSecret(t, p.a, "a-token", map[string]string{"token": "t"})
	if s.Type != corev1.SecretTypeServiceAccountToken {
		t.Errorf("type %s", s.Type)
	}
	c := waitReason(t, p.b, "b-token", ksealv1.ReasonTemplateRefused)
	if !strings.Contains(c.Message, "allowTokenTypes") {
		t.Errorf("message %q", c.Message)
	}

	// Where the template may be a token, an existing token Secret is still
	// never adopted, whatever its annotations say.
	existing := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.a, Name: "existing-token", Annotations: map[string]string{ksealv1.AnnotationAdopt: "true", corev1.ServiceAccountNameKey: "default"}},
		Type:       corev1.SecretTypeServiceAccountToken,
		StringData: map[string]string{"token": "original"},
	}
	if err := k8s.Create(ctx, existing); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, sealed(t, p.a, "existing-token", map[string]string{"token": "sealed"}, saToken, p.aKey.Recipient())); err != nil {
		t.Fatal(err)
	}
	c = waitReason(t, p.a, "existing-token", ksealv1.ReasonSecretNotOwned)
	if !strings.Contains(c.Message, "is a token Secret") {
		t.Errorf("message %q", c.Message)
	}
	settled(t, p.a, "existing-token")
	secretUntouched(t, p.a, "existing-token", map[string]string{"token": "original"})
}
