package vaulttransit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"kseal.dev/kseal/internal/vaulttest"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/policy"
)

func kube(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(kubeCfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// controllerToken writes a token of kseal-system/kseal-controller to a file,
// as the kubelet projects it into the controller's pod.
func controllerToken(t *testing.T) string {
	t.Helper()
	tok, err := vaulttest.ServiceAccountToken(t.Context(), kube(t), "kseal-system", "kseal-controller", "", 3600)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func rootWrap(t *testing.T, key string, b keys.Binding) *keys.Stanza {
	t.Helper()
	_, r := tokenIdentity(t, vaulttest.RootToken, key)
	s, err := r.Wrap(t.Context(), bytes.Repeat([]byte{9}, 32), b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestControllerLoginAndRelogin: the controller logs in with Kubernetes
// auth, keeps its token, logs in again when the token is revoked (a 403)
// and before it expires, and a denial after a fresh login is terminal.
func TestControllerLoginAndRelogin(t *testing.T) {
	requireKube(t)
	vault.MustVault(t, `path "transit/decrypt/orders" { capabilities = ["update"] }`, "policy", "write", "test-controller", "-")
	vault.MustVault(t, "", "write", "auth/kubernetes/role/test-controller", "bound_service_account_names=kseal-controller",
		"bound_service_account_namespaces=kseal-system", "token_policies=test-controller", "token_ttl=1h")
	now := time.Now()
	id, err := NewControllerIdentity(Controller{Vault: Config{Addr: vault.Addr}, Role: "test-controller", TokenFile: controllerToken(t), Kube: kubeCfg,
		now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	login := id.ts.(*kubeLogin)
	s := rootWrap(t, "orders", binding)
	open := func(wantLogins int) {
		t.Helper()
		if _, err := id.Unwrap(t.Context(), s, binding); err != nil {
			t.Fatal(err)
		}
		if login.logins != wantLogins {
			t.Fatalf("logins %d, want %d", login.logins, wantLogins)
		}
	}
	open(1)
	open(1) // the token is kept
	vault.MustVault(t, "", "token", "revoke", login.tok)
	open(2) // 403 → log in again → opens
	now = now.Add(50 * time.Minute)
	open(3) // within the last fifth of the lease: a fresh login first
	tok := login.tok
	_, err = id.Unwrap(t.Context(), rootWrap(t, "payments", binding), binding)
	if !errors.Is(err, keys.ErrAccessDenied) || login.logins != 4 {
		t.Fatalf("denied: %v (logins %d)", err, login.logins)
	}
	if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), login.tok) {
		t.Fatalf("token in %q", err)
	}
}

func TestControllerLoginRefusedIsTerminal(t *testing.T) {
	requireKube(t)
	id, err := NewControllerIdentity(Controller{Vault: Config{Addr: vault.Addr}, Role: "no-such-role", TokenFile: controllerToken(t), Kube: kubeCfg})
	if err != nil {
		t.Fatal(err)
	}
	_, err = id.Unwrap(t.Context(), rootWrap(t, "orders", binding), binding)
	if !errors.Is(err, keys.ErrAccessDenied) || !strings.Contains(err.Error(), `role "no-such-role"`) {
		t.Fatalf("got %v", err)
	}
}

// applyRendered writes the rendered policies and roles to Vault with the
// real vault CLI, in the forms docs/vault.md gives.
func applyRendered(t *testing.T, out map[string]*VaultServer) {
	t.Helper()
	s := out[vault.Addr]
	if s == nil {
		t.Fatalf("nothing rendered for %s: %v", vault.Addr, out)
	}
	for name, p := range s.Policies {
		b, _ := json.Marshal(p)
		vault.MustVault(t, string(b), "policy", "write", name, "-")
	}
	for path, r := range s.Roles {
		b, _ := json.Marshal(r)
		vault.MustVault(t, string(b), "write", path, "-")
	}
}

// TestRenderedPoliciesPerServiceLogin applies the rendered Vault side and
// shows that Vault lets the orders ServiceAccount open orders' objects and
// refuses it payments', with the controller logging in as each service —
// also while a shared entry with the default keys (orders' and payments')
// names both keys: each role opens the shared secret with its own key.
func TestRenderedPoliciesPerServiceLogin(t *testing.T) {
	requireKube(t)
	pol, err := policy.Parse([]byte(fmt.Sprintf(`apiVersion: kseal.dev/v1alpha1
kind: Policy
keys:
  orders: {recipient: "vault:%s"}
  payments: {recipient: "vault:%s"}
services:
  orders: {namespaces: [orders], serviceAccounts: [orders], keys: [orders], providers: {vault: {role: orders}}}
  payments: {namespaces: [payments], serviceAccounts: [payments], keys: [payments], providers: {vault: {role: payments}}}
shared:
  - {name: stripe, services: [orders, payments]}
`, vault.KeyURL(mount, "orders"), vault.KeyURL(mount, "payments"))), "kseal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts := map[string]string{"controllerRole": "render-controller"}
	applyRendered(t, renderJSON[map[string]*VaultServer](t, pol, "vault", opts))
	cs := kube(t)
	for _, ns := range []string{"orders", "payments"} {
		if _, err := vaulttest.ServiceAccountToken(t.Context(), cs, ns, ns, "", 600); err != nil {
			t.Fatal(err)
		}
	}
	// The controller runs with the rendered TokenRequest RBAC only.
	applyRBAC(t, renderJSON[rbacList](t, pol, "vault-rbac", nil))
	asController := rest.CopyConfig(kubeCfg)
	asController.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:kseal-system:kseal-controller"}
	id, err := NewControllerIdentity(Controller{Vault: Config{Addr: vault.Addr}, Role: "render-controller", TokenFile: controllerToken(t), Kube: asController, Audience: DefaultAudience})
	if err != nil {
		t.Fatal(err)
	}
	orders := keys.Caller{Service: "orders", Namespace: "orders", ServiceAccounts: []string{"orders"}, Settings: map[string]map[string]string{"vault": {"role": "orders"}}}
	payments := keys.Caller{Service: "payments", Namespace: "payments", ServiceAccounts: []string{"payments"}, Settings: map[string]map[string]string{"vault": {"role": "payments"}}}
	ob := keys.Binding{"kseal-scope": "strict", "kseal-namespace": "orders", "kseal-name": "db"}
	pb := keys.Binding{"kseal-scope": "strict", "kseal-namespace": "payments", "kseal-name": "db"}
	ow, pw := rootWrap(t, "orders", ob), rootWrap(t, "payments", pb)
	ctxO, ctxP := keys.WithCaller(t.Context(), orders), keys.WithCaller(t.Context(), payments)

	audit := filepath.Join(t.TempDir(), "audit.log")
	vault.MustVault(t, "", "audit", "enable", "-path=kseal-test", "file", "file_path="+audit)
	t.Cleanup(func() { _, _ = vault.Vault("", "audit", "disable", "kseal-test") })
	if _, err := id.Unwrap(ctxO, ow, ob); err != nil {
		t.Fatalf("orders opens its own: %v", err)
	}
	// Vault's audit log names the service's ServiceAccount as the caller.
	if !auditNames(t, audit, "transit/decrypt/orders", "orders", "orders") {
		t.Errorf("the audit log does not name orders/orders for the decrypt")
	}
	_, err = id.Unwrap(ctxO, pw, pb)
	if !errors.Is(err, keys.ErrAccessDenied) || !strings.Contains(err.Error(), "HTTP 403") || !strings.Contains(err.Error(), "keys/payments") {
		t.Fatalf("Vault must refuse orders payments' key: %v", err)
	}
	if _, err := id.Unwrap(ctxP, pw, pb); err != nil {
		t.Fatalf("payments opens its own: %v", err)
	}
	if _, err := id.Unwrap(t.Context(), ow, ob); !errors.Is(err, keys.ErrAccessDenied) {
		t.Fatalf("the controller's own role may open nothing here: %v", err)
	}
	if got := id.services.logins(); got["orders/orders/orders"] != 2 || got["payments/payments/payments"] != 1 {
		// orders: one login, and one more after the 403 on payments' key.
		t.Fatalf("logins per identity: %v", got)
	}
	sb := keys.Binding{"kseal-scope": "shared", "kseal-name": "stripe"}
	if _, err := id.Unwrap(ctxO, rootWrap(t, "orders", sb), sb); err != nil {
		t.Errorf("orders opens the shared secret with its own key: %v", err)
	}
	if _, err := id.Unwrap(ctxP, rootWrap(t, "payments", sb), sb); err != nil {
		t.Errorf("payments opens the shared secret with its own key: %v", err)
	}
	// The RBAC names exactly the service's account: another is refused by
	// the API server, before Vault is asked.
	other := keys.Caller{Service: "orders", Namespace: "orders", ServiceAccounts: []string{"orders", "builder"}, Settings: map[string]map[string]string{"vault": {"role": "orders", "serviceAccount": "builder"}}}
	if _, err := vaulttest.ServiceAccountToken(t.Context(), cs, "orders", "builder", "", 600); err != nil {
		t.Fatal(err)
	}
	_, err = id.Unwrap(keys.WithCaller(t.Context(), other), ow, ob)
	if !errors.Is(err, keys.ErrAccessDenied) || !strings.Contains(err.Error(), "ServiceAccount orders/builder: TokenRequest") {
		t.Fatalf("TokenRequest outside the rendered RBAC: %v", err)
	}
}

// renderJSON renders pol for target as kseal policy render does, and
// decodes its JSON output into T.
func renderJSON[T any](t *testing.T, pol *policy.Policy, target string, opts map[string]string) T {
	t.Helper()
	r, ok := keys.LookupRenderer(target)
	if !ok {
		t.Fatalf("no renderer %q", target)
	}
	v, err := r.Renderer.Render(pol.Plan(), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v\n%s", target, err, b)
	}
	return out
}

type rbacList struct {
	Items []json.RawMessage `json:"items"`
}

func applyRBAC(t *testing.T, l rbacList) {
	t.Helper()
	cs := kube(t)
	if len(l.Items) != 4 {
		t.Fatalf("want a Role and a RoleBinding in each of 2 namespaces, got %d items", len(l.Items))
	}
	for _, raw := range l.Items {
		var meta metav1.TypeMeta
		_ = json.Unmarshal(raw, &meta)
		var err error
		switch meta.Kind {
		case "Role":
			var o rbacv1.Role
			if err = json.Unmarshal(raw, &o); err == nil {
				_, err = cs.RbacV1().Roles(o.Namespace).Create(t.Context(), &o, metav1.CreateOptions{})
			}
		case "RoleBinding":
			var o rbacv1.RoleBinding
			if err = json.Unmarshal(raw, &o); err == nil {
				_, err = cs.RbacV1().RoleBindings(o.Namespace).Create(t.Context(), &o, metav1.CreateOptions{})
			}
		default:
			t.Fatalf("unexpected %s", raw)
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

// auditNames reports whether the audit log at path has a request to
// apiPath made with a token of ServiceAccount namespace/name.
func auditNames(t *testing.T, path, apiPath, namespace, name string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e struct {
			Type string `json:"type"`
			Auth struct {
				Metadata map[string]string `json:"metadata"`
			} `json:"auth"`
			Request struct {
				Path string `json:"path"`
			} `json:"request"`
		}
		if json.Unmarshal(line, &e) != nil || e.Type != "request" || e.Request.Path != apiPath {
			continue
		}
		if e.Auth.Metadata["service_account_namespace"] == namespace && e.Auth.Metadata["service_account_name"] == name {
			return true
		}
	}
	return false
}
