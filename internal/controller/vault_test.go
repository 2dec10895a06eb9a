package controller_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/vaulttest"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/vaulttransit"
)

var vaultBed struct {
	once sync.Once
	s    *vaulttest.Server
	err  error
}

// vaultServer is the real Vault dev server with transit keys orders and
// payments and Kubernetes auth against this package's API server. kseal
// seals to it with the root token (VAULT_ADDR, VAULT_TOKEN).
func vaultServer(t *testing.T) *vaulttest.Server {
	t.Helper()
	s := vaulttest.Shared(t)
	vaultBed.once.Do(func() {
		if vaultBed.err = s.EnableTransit("transit", "orders", "payments"); vaultBed.err != nil {
			return
		}
		vaultBed.err = s.EnableKubernetesAuth(t.Context(), cfg, "kubernetes")
		os.Setenv("VAULT_ADDR", s.Addr)
		os.Setenv("VAULT_TOKEN", vaulttest.RootToken)
	})
	if vaultBed.err != nil {
		t.Fatal(vaultBed.err)
	}
	return s
}

// vaultController returns the controller's Vault identity: Kubernetes auth
// as role, with a token of ServiceAccount kseal-system/kseal-controller.
func vaultController(t *testing.T, s *vaulttest.Server, role, policy string) keys.Identity {
	t.Helper()
	s.MustVault(t, policy, "policy", "write", role, "-")
	s.MustVault(t, "", "write", "auth/kubernetes/role/"+role, "bound_service_account_names=kseal-controller",
		"bound_service_account_namespaces=kseal-system", "token_policies="+role, "token_ttl=1h")
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := vaulttest.ServiceAccountToken(t.Context(), cs, "kseal-system", "kseal-controller", "", 3600)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := vaulttransit.NewControllerIdentity(vaulttransit.Controller{
		Vault: vaulttransit.Config{Addr: s.Addr}, Role: role, TokenFile: f, Kube: cfg, Audience: vaulttransit.DefaultAudience})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

const decryptOrders = `path "transit/decrypt/orders" { capabilities = ["update"] }`

func TestVaultUnsealThroughKubernetesAuth(t *testing.T) {
	needsAPIServer(t)
	s := vaultServer(t)
	f := newFixtureWith(t, time.Hour, nil, vaultController(t, s, "ctl-unseal", decryptOrders))
	ss := sealed(t, f.ns, "vault", map[string]string{"token": "from-vault"}, "", "vault:"+s.KeyURL("transit", "orders"))
	if err := k8s.Create(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, f.ns, "vault", map[string]string{"token": "from-vault"})
	c := waitReason(t, f.ns, "vault", ksealv1.ReasonUnsealed)
	if !strings.Contains(c.Message, "up to date") {
		t.Errorf("message %q", c.Message)
	}
}

func TestVaultSealedIsTransientAndRetried(t *testing.T) {
	needsAPIServer(t)
	s := vaultServer(t)
	f := newFixtureWith(t, time.Hour, nil, vaultController(t, s, "ctl-sealed", decryptOrders))
	// Logged in and working first: then Vault is sealed.
	if err := k8s.Create(t.Context(), sealed(t, f.ns, "before", map[string]string{"k": "v"}, "", "vault:"+s.KeyURL("transit", "orders"))); err != nil {
		t.Fatal(err)
	}
	waitReason(t, f.ns, "before", ksealv1.ReasonUnsealed)
	ss := sealed(t, f.ns, "sealed", map[string]string{"k": "v"}, "", "vault:"+s.KeyURL("transit", "orders"))
	if err := s.Seal(); err != nil {
		t.Fatal(err)
	}
	unsealed := false
	defer func() {
		if !unsealed {
			_ = s.Unseal()
		}
	}()
	if err := k8s.Create(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, f.ns, "sealed", ksealv1.ReasonKeyServiceFailed)
	if !strings.Contains(c.Message, "keys/orders: decrypt: unavailable (sealed, unreachable or overloaded): HTTP 503: Vault is sealed") {
		t.Errorf("message %q", c.Message)
	}
	if err := s.Unseal(); err != nil {
		t.Fatal(err)
	}
	unsealed = true
	// Nothing changes on the object: only the backoff retry brings it back.
	waitSecret(t, f.ns, "sealed", map[string]string{"k": "v"})
	waitReason(t, f.ns, "sealed", ksealv1.ReasonUnsealed)
}

func TestVaultPolicyDenialIsKeyAccessDenied(t *testing.T) {
	needsAPIServer(t)
	s := vaultServer(t)
	f := newFixtureWith(t, time.Hour, nil, vaultController(t, s, "ctl-denied", decryptOrders))
	ss := sealed(t, f.ns, "denied", map[string]string{"k": "v"}, "", "vault:"+s.KeyURL("transit", "payments"))
	if err := k8s.Create(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, f.ns, "denied", ksealv1.ReasonKeyAccessDenied)
	if !strings.Contains(c.Message, "keys/payments: decrypt: permission denied: HTTP 403") || strings.Contains(c.Message, "hvs.") {
		t.Errorf("message %q", c.Message)
	}
}

// TestVaultPerServiceLogin: the policy gives service a the Vault role
// svc-a; the controller opens a's objects as a's own ServiceAccount, and
// Vault's policy for that role — not the controller — refuses a's object
// sealed to a key kseal.yaml grants a but Vault does not.
func TestVaultPerServiceLogin(t *testing.T) {
	needsAPIServer(t)
	s := vaultServer(t)
	n := nsCounter.Add(1)
	a := fmt.Sprintf("svc-vault-%d", n)
	f := newFixtureWith(t, time.Hour, []string{a}, vaultController(t, s, "ctl-none", `path "sys/nothing" { capabilities = ["read"] }`))
	p := &policyFixture{fixture: f, a: a}
	role := "svc-" + a
	s.MustVault(t, decryptOrders, "policy", "write", role, "-")
	s.MustVault(t, "", "write", "auth/kubernetes/role/"+role, "bound_service_account_names=app", "bound_service_account_namespaces="+a,
		"token_policies="+role, "audience="+vaulttransit.DefaultAudience, "token_ttl=10m")
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vaulttest.ServiceAccountToken(t.Context(), cs, a, "app", "", 600); err != nil {
		t.Fatal(err)
	}
	p.setPolicyText(t, fmt.Sprintf(`apiVersion: kseal.dev/v1alpha1
kind: Policy
keys:
  orders: {recipient: %q}
  payments: {recipient: %q}
services:
  a: {namespaces: [%s], serviceAccounts: [app], keys: [orders, payments], providers: {vault: {role: %s}}}
`, "vault:"+s.KeyURL("transit", "orders"), "vault:"+s.KeyURL("transit", "payments"), a, role))
	ctx := t.Context()
	if err := k8s.Create(ctx, sealed(t, a, "own", map[string]string{"k": "orders"}, "", "vault:"+s.KeyURL("transit", "orders"))); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, a, "own", map[string]string{"k": "orders"})
	waitReason(t, a, "own", ksealv1.ReasonUnsealed)

	if err := k8s.Create(ctx, sealed(t, a, "other", map[string]string{"k": "payments"}, "", "vault:"+s.KeyURL("transit", "payments"))); err != nil {
		t.Fatal(err)
	}
	c := waitReason(t, a, "other", ksealv1.ReasonKeyAccessDenied)
	if !strings.Contains(c.Message, "keys/payments: decrypt: permission denied") {
		t.Errorf("message %q", c.Message)
	}
}
