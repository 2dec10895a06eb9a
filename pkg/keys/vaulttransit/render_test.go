package vaulttransit

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/policy"
)

const testOrigin = "https://vault.example:8200"

// renderPolicy gives orders, payments and billing Vault roles and keys of
// their own; legacy has no role (the controller opens it). stripe is shared
// with the default keys (orders' and payments'), webhook with a key of its
// own, audit (with legacy) with the default keys.
var renderPolicy = strings.ReplaceAll(`apiVersion: kseal.dev/v1alpha1
kind: Policy
keys:
  orders: {recipient: "vault:ORIGIN/v1/transit/keys/orders"}
  payments: {recipient: "vault:ORIGIN/v1/transit/keys/payments"}
  billing: {recipient: "vault:ORIGIN/v1/transit/keys/billing"}
  legacy: {recipient: "vault:ORIGIN/v1/transit/keys/legacy"}
  webhook: {recipient: "vault:ORIGIN/v1/transit/keys/webhook"}
services:
  orders: {namespaces: [orders], serviceAccounts: [orders], keys: [orders], providers: {vault: {role: orders}}}
  payments: {namespaces: [payments], serviceAccounts: [payments], keys: [payments], providers: {vault: {role: payments}}}
  billing: {namespaces: [billing], serviceAccounts: [billing], keys: [billing], providers: {vault: {role: billing}}}
  legacy: {namespaces: [legacy], serviceAccounts: [legacy], keys: [legacy]}
shared:
  - {name: stripe, services: [orders, payments]}
  - {name: webhook, services: [orders, billing], keys: [webhook]}
  - {name: audit, services: [orders, legacy]}
`, "ORIGIN", testOrigin)

// TestRenderedVaultPoliciesLendNoKey evaluates what `kseal policy render
// vault` prints (its JSON, read back as Vault reads policies and Kubernetes
// auth roles) for every ServiceAccount login × key: exactly the listed
// pairs may decrypt, and every holder of a -seal policy encrypts to exactly
// the listed keys. Vault ACLs cannot see the associated data, so a role
// allowed to decrypt with a key opens every wrap to it: payments' role gets
// no decrypt on orders' key although stripe (default keys) is sealed to it
// too, and opens stripe with its own key; the controller's own role opens
// legacy only.
//
// Guard: keys.Plan.BlindOpeners, which keeps a role off a key that a grant
// it does not serve also names.
func TestRenderedVaultPoliciesLendNoKey(t *testing.T) {
	srv := renderVault(t, renderPolicy, nil)
	logins := []string{"orders/orders", "payments/payments", "billing/billing", "legacy/legacy", "kseal-system/kseal-controller", "orders/builder"}
	allowed := map[string]bool{}
	for _, row := range []string{
		"orders/orders decrypt orders", "orders/orders decrypt webhook",
		"payments/payments decrypt payments",
		"billing/billing decrypt billing", "billing/billing decrypt webhook",
		"kseal-system/kseal-controller decrypt legacy",
		"kseal-orders-seal encrypt orders", "kseal-orders-seal encrypt payments", "kseal-orders-seal encrypt webhook", "kseal-orders-seal encrypt legacy",
		"kseal-payments-seal encrypt payments", "kseal-payments-seal encrypt orders",
		"kseal-billing-seal encrypt billing", "kseal-billing-seal encrypt webhook",
		"kseal-legacy-seal encrypt legacy", "kseal-legacy-seal encrypt orders",
	} {
		allowed[row] = true
	}
	allKeys := []string{"orders", "payments", "billing", "legacy", "webhook"}
	for _, login := range logins {
		for _, k := range allKeys {
			for _, op := range []string{"decrypt", "encrypt"} {
				row := fmt.Sprintf("%s %s %s", login, op, k)
				if got := srv.loginMay(t, login, "transit/"+op+"/"+k); got != allowed[row] {
					t.Errorf("%s: allowed %v, want %v", row, got, allowed[row])
				}
			}
		}
	}
	for _, svc := range []string{"orders", "payments", "billing", "legacy"} {
		name := "kseal-" + svc + "-seal"
		for _, k := range allKeys {
			for _, op := range []string{"decrypt", "encrypt"} {
				row := fmt.Sprintf("%s %s %s", name, op, k)
				if got := srv.policyMay(t, name, "transit/"+op+"/"+k); got != allowed[row] {
					t.Errorf("%s: allowed %v, want %v", row, got, allowed[row])
				}
			}
		}
	}
}

// TestRenderVaultRefusesALentKey: where a service would be left none of a
// grant's keys to decrypt with — every one also opens secrets its role may
// not read — render (and vault-rbac) refuses, naming the grant, the key and
// the fix. The services without a role count as one, the controller: one
// key for all of them is fine.
func TestRenderVaultRefusesALentKey(t *testing.T) {
	head := strings.ReplaceAll("apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  orders: {recipient: \"vault:ORIGIN/v1/transit/keys/orders\"}\n  payments: {recipient: \"vault:ORIGIN/v1/transit/keys/payments\"}\nservices:\n", "ORIGIN", testOrigin)
	const (
		orders   = "  orders: {namespaces: [orders], serviceAccounts: [orders], keys: [orders], providers: {vault: {role: orders}}}\n"
		payments = "  payments: {namespaces: [payments], serviceAccounts: [payments], keys: [payments], providers: {vault: {role: payments}}}\n"
	)
	for _, tc := range []struct{ name, rest, want string }{
		{"shared entry naming one service's key", orders + payments + "shared:\n  - {name: stripe, services: [orders, payments], keys: [orders]}\n",
			`shared secret "stripe" (services orders, payments): service "payments" may be given none of its keys to unwrap with (key "orders" also opens the secrets of service "orders"), since Vault ACLs cannot see which secret a wrap is bound to; give shared entry "stripe" keys: of its own`},
		{"two roles on one key", orders + "  payments: {namespaces: [payments], serviceAccounts: [payments], keys: [orders], providers: {vault: {role: payments}}}\n",
			`service "orders" may be given none of its keys to unwrap with (key "orders" also opens the secrets of service "payments"), since Vault ACLs cannot see which secret a wrap is bound to; give service "orders" a key of its own`},
		{"a role and the controller on one key", orders + "  payments: {namespaces: [payments], keys: [orders]}\n",
			`service "payments" may be given none of its keys to unwrap with (key "orders" also opens the secrets of service "orders")`},
		{"one key for the services without a role", "  orders: {namespaces: [orders], keys: [orders]}\n  payments: {namespaces: [payments], keys: [orders]}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol, err := policy.ParseInCluster([]byte(head+tc.rest), "kseal.yaml")
			if err != nil {
				t.Fatal(err)
			}
			for _, target := range []string{"vault", "vault-rbac"} {
				r, _ := keys.LookupRenderer(target)
				_, err := r.Renderer.Render(pol.Plan(), nil)
				if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
					t.Fatalf("%s: got %v\nwant %q", target, err, tc.want)
				}
			}
		})
	}
}

// renderedServer is one Vault server of the rendered output, as read back
// from its JSON.
type renderedServer struct {
	Policies map[string]struct {
		Path map[string]struct {
			Capabilities []string `json:"capabilities"`
		} `json:"path"`
	} `json:"policies"`
	Roles map[string]struct {
		BoundServiceAccountNames      []string `json:"bound_service_account_names"`
		BoundServiceAccountNamespaces []string `json:"bound_service_account_namespaces"`
		TokenPolicies                 []string `json:"token_policies"`
	} `json:"roles"`
}

func renderVault(t *testing.T, text string, opts map[string]string) *renderedServer {
	t.Helper()
	pol, err := policy.ParseInCluster([]byte(text), "kseal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := renderJSON[map[string]*renderedServer](t, pol, "vault", opts)
	if len(out) != 1 || out[testOrigin] == nil {
		t.Fatalf("want one server %s, got %v", testOrigin, out)
	}
	return out[testOrigin]
}

// loginMay reports whether ServiceAccount NAMESPACE/NAME, logging in with
// Kubernetes auth to any role that binds it, gets a token that may update
// path.
func (s *renderedServer) loginMay(t *testing.T, login, path string) bool {
	t.Helper()
	ns, name, _ := strings.Cut(login, "/")
	for rp, r := range s.Roles {
		if !strings.HasPrefix(rp, "auth/kubernetes/role/") {
			t.Fatalf("role path %q", rp)
		}
		bound := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
		if !bound(r.BoundServiceAccountNames, name) || !bound(r.BoundServiceAccountNamespaces, ns) {
			continue
		}
		for _, p := range r.TokenPolicies {
			if s.policyMay(t, p, path) {
				return true
			}
		}
	}
	return false
}

// policyMay reports whether policy name allows update on path. The
// rendered policies name exact paths; a glob fails the test rather than
// being guessed at.
func (s *renderedServer) policyMay(t *testing.T, name, path string) bool {
	t.Helper()
	p, ok := s.Policies[name]
	if !ok {
		return false
	}
	for pp := range p.Path {
		if strings.ContainsAny(pp, "*+") {
			t.Fatalf("policy %s: glob path %q is not evaluated here", name, pp)
		}
	}
	caps := p.Path[path].Capabilities
	return slices.Contains(caps, "update") && !slices.Contains(caps, "deny")
}
