package vaulttest

import (
	"context"
	"fmt"
	"strings"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// EnableKubernetesAuth mounts Vault's Kubernetes auth method at mount and
// points it at the API server of cfg: TokenReview with the token of a
// reviewer ServiceAccount (default/vault-reviewer) bound to
// system:auth-delegator, the API server's CA, no issuer check (the test
// API server's issuer is not Vault's default).
func (s *Server) EnableKubernetesAuth(ctx context.Context, cfg *rest.Config, mount string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	tok, err := ServiceAccountToken(ctx, cs, "default", "vault-reviewer", "", 3600)
	if err != nil {
		return err
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "vault-reviewer-auth-delegator"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:auth-delegator"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "vault-reviewer", Namespace: "default"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if _, err := s.Vault("", "auth", "enable", "-path="+mount, "kubernetes"); err != nil && !strings.Contains(err.Error(), "path is already in use") {
		return err
	}
	host := cfg.Host
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	_, err = s.Vault(string(cfg.CAData), "write", "auth/"+mount+"/config",
		"kubernetes_host="+host, "kubernetes_ca_cert=-", "token_reviewer_jwt="+tok,
		"disable_iss_validation=true", "disable_local_ca_jwt=true")
	return err
}

// ServiceAccountToken creates ServiceAccount namespace/name (and the
// namespace) if needed and returns a token for it from the TokenRequest API.
func ServiceAccountToken(ctx context.Context, cs kubernetes.Interface, namespace, name, audience string, seconds int64) (string, error) {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if _, err := cs.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", err
	}
	tr := &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &seconds}}
	if audience != "" {
		tr.Spec.Audiences = []string{audience}
	}
	out, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, tr, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for %s/%s: %w", namespace, name, err)
	}
	return out.Status.Token, nil
}
