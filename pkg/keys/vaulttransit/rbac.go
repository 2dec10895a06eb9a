package vaulttransit

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LoginRoleName names the Role (and RoleBinding) that lets the controller
// request tokens of a namespace's service ServiceAccounts.
const LoginRoleName = "kseal-vault-login"

// KubeList is a v1 List, which `kubectl apply -f -` takes as JSON.
type KubeList struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Items      []any  `json:"items"`
}

// renderRBAC returns, per namespace of a service with a Vault role, a Role
// that may create tokens (TokenRequest) of exactly the ServiceAccount the
// controller logs in as for that service there, and a RoleBinding of it to
// the controller's ServiceAccount. The controller holds no other
// serviceaccounts/token permission: it can mint tokens only for the
// accounts the policy names.
func renderRBAC(svcs []renderService, o renderOptions) *KubeList {
	byNS := map[string][]string{}
	for _, s := range svcs {
		if s.Role == "" || len(s.Keys) == 0 {
			continue
		}
		for _, ns := range s.Namespaces {
			if sa := serviceAccountFor(s.ServiceAccounts, ns); sa != "" {
				byNS[ns] = append(byNS[ns], sa)
			}
		}
	}
	cns, cname, _ := strings.Cut(o.ControllerSA, "/")
	list := &KubeList{APIVersion: "v1", Kind: "List", Items: []any{}}
	labels := map[string]string{"app.kubernetes.io/managed-by": "kseal-policy-render"}
	for _, ns := range sortedKeysOf(byNS) {
		list.Items = append(list.Items,
			&rbacv1.Role{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
				ObjectMeta: metav1.ObjectMeta{Name: LoginRoleName, Namespace: ns, Labels: labels},
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"serviceaccounts/token"},
					Verbs: []string{"create"}, ResourceNames: sortedCopy(byNS[ns])}},
			},
			&rbacv1.RoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
				ObjectMeta: metav1.ObjectMeta{Name: LoginRoleName, Namespace: ns, Labels: labels},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: LoginRoleName},
				Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: cname, Namespace: cns}},
			})
	}
	return list
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return sortedCopy(out)
}
