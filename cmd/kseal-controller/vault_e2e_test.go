package main_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/internal/envtestutil"
	"kseal.dev/kseal/internal/vaulttest"
)

// TestVaultEndToEnd is the Vault story with the real binaries: kseal.yaml
// gives orders and payments Vault roles; `kseal policy render vault` is
// written to the real Vault with the vault CLI and `kseal policy render
// vault-rbac` applied with kubectl; kseal-controller runs as its
// ServiceAccount with the installed RBAC plus that, logs in to Vault with
// Kubernetes auth (--vault-auth-role), and opens each service's objects as
// that service's own ServiceAccount — its own role may open nothing.
func TestVaultEndToEnd(t *testing.T) {
	envtestutil.Require(t, cluster)
	v := vaulttest.Shared(t)
	if err := v.EnableTransit("transit", "orders", "payments"); err != nil {
		t.Fatal(err)
	}
	if err := v.EnableKubernetesAuth(t.Context(), cluster.Config, "kubernetes"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAULT_ADDR", v.Addr)
	t.Setenv("VAULT_TOKEN", vaulttest.RootToken)
	r := &runner{t: t, kubeconfig: kubeconfig(t, cluster), dir: t.TempDir()}
	r.must(nil, "kubectl", "apply", "-f", filepath.Join(root, "config", "install.yaml"))
	for _, ns := range []string{"orders", "payments"} {
		r.must(nil, "kubectl", "create", "namespace", ns)
		r.must(nil, "kubectl", "-n", ns, "create", "serviceaccount", ns)
	}
	policy := fmt.Sprintf(`apiVersion: kseal.dev/v1alpha1
kind: Policy
keys:
  orders: {recipient: "vault:%[1]s/v1/transit/keys/orders"}
  payments: {recipient: "vault:%[1]s/v1/transit/keys/payments"}
services:
  orders: {namespaces: [orders], serviceAccounts: [orders], paths: [orders.yaml], keys: [orders], providers: {vault: {role: orders}}}
  payments: {namespaces: [payments], serviceAccounts: [payments], paths: [payments.yaml], keys: [payments], providers: {vault: {role: payments}}}
`, v.Addr)
	if err := os.WriteFile(filepath.Join(r.dir, "kseal.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	var rendered map[string]struct {
		Policies map[string]json.RawMessage `json:"policies"`
		Roles    map[string]json.RawMessage `json:"roles"`
	}
	if err := json.Unmarshal([]byte(r.must(nil, "kseal", "policy", "render", "vault")), &rendered); err != nil {
		t.Fatal(err)
	}
	for name, p := range rendered[v.Addr].Policies {
		v.MustVault(t, string(p), "policy", "write", name, "-")
	}
	for path, role := range rendered[v.Addr].Roles {
		v.MustVault(t, string(role), "write", path, "-")
	}
	r.must([]byte(r.must(nil, "kseal", "policy", "render", "vault-rbac")), "kubectl", "apply", "-f", "-")
	r.must(nil, "kubectl", "-n", "kseal-system", "create", "configmap", "kseal-policy", "--from-file=kseal.yaml")

	r.asServiceAccount(cluster)
	tokenFile := filepath.Join(r.dir, "sa-token")
	if err := os.WriteFile(tokenFile, []byte(r.saToken()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctrl := r.startController("--vault-addr="+v.Addr, "--vault-auth-role=kseal-controller", "--vault-token-file="+tokenFile)
	defer func() {
		ctrl.stop()
		noForbidden(t, ctrl.log.String())
		if strings.Contains(ctrl.log.String(), "hvs.") {
			t.Error("a Vault token in the controller's log")
		}
	}()
	for _, ns := range []string{"orders", "payments"} {
		secret := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: %s}\nstringData: {password: %s-pw}\n", ns, ns)
		if err := os.WriteFile(filepath.Join(r.dir, ns+".yaml"), []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
		r.must([]byte(r.must(nil, "kseal", "seal", "-f", ns+".yaml")), "kubectl", "apply", "-f", "-")
	}
	for _, ns := range []string{"orders", "payments"} {
		poll(t, ns+"'s Secret", func() error {
			out, err := r.run(nil, "kubectl", "-n", ns, "get", "secret", "db", "-o", "jsonpath={.data.password}")
			if err != nil {
				return err
			}
			if b, _ := base64.StdEncoding.DecodeString(out); string(b) != ns+"-pw" {
				return fmt.Errorf("password is %q", b)
			}
			return nil
		})
	}
}
