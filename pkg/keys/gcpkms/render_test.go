package gcpkms_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/policy"
)

const keyPrefix = "projects/p/locations/global/keyRings/r/cryptoKeys/"

// renderPolicy gives each service a key of its own; stripe is shared with
// the default keys (the union of its services': orders and payments),
// webhook with a key of its own. ParseInCluster: no cluster recipients
// file to read.
const renderPolicy = `apiVersion: kseal.dev/v1alpha1
kind: Policy
clusters:
  prod: {recipientsFile: prod.pub, identities: ["serviceAccount:kseal@p.iam.gserviceaccount.com"]}
keys:
  orders: {recipient: "gcpkms:projects/p/locations/global/keyRings/r/cryptoKeys/orders"}
  payments: {recipient: "gcpkms:projects/p/locations/global/keyRings/r/cryptoKeys/payments"}
  billing: {recipient: "gcpkms:projects/p/locations/global/keyRings/r/cryptoKeys/billing"}
  webhook: {recipient: "gcpkms:projects/p/locations/global/keyRings/r/cryptoKeys/webhook"}
services:
  orders:
    namespaces: [orders]
    keys: [orders]
    writers: ["serviceAccount:orders-ci@p.iam.gserviceaccount.com"]
    readers: ["group:orders@example.com"]
  payments:
    namespaces: [payments]
    keys: [payments]
    writers: ["serviceAccount:payments-ci@p.iam.gserviceaccount.com"]
    readers: ["group:payments@example.com"]
  billing:
    namespaces: [billing]
    keys: [billing]
    readers: ["group:billing@example.com"]
shared:
  - name: stripe
    services: [orders, payments]
  - name: webhook
    services: [orders, billing]
    keys: [webhook]
`

// TestRenderedIAMLendsNoKey evaluates the IAM policies `kseal policy render
// gcp` prints (its JSON, read back as Cloud KMS reads it) for every
// principal × key × operation: exactly the listed pairs are allowed. Cloud
// KMS IAM cannot see the additional authenticated data, so a reader holding
// a key would open every wrap to it: orders' readers get no decrypt on
// payments' key although stripe (default keys) is sealed to it too, and
// open stripe with orders' own key. Writers may encrypt to every key of
// their grants (sealing needs them all and opens nothing).
//
// Guard: keys.Plan.BlindOpeners, which keeps a reader off a key that a
// grant without its service also names.
func TestRenderedIAMLendsNoKey(t *testing.T) {
	pols, err := renderGCP(t, renderPolicy)
	if err != nil {
		t.Fatal(err)
	}
	principals := map[string]string{
		"orders-readers": "group:orders@example.com", "payments-readers": "group:payments@example.com",
		"billing-readers": "group:billing@example.com", "orders-ci": "serviceAccount:orders-ci@p.iam.gserviceaccount.com",
		"payments-ci": "serviceAccount:payments-ci@p.iam.gserviceaccount.com", "controller": "serviceAccount:kseal@p.iam.gserviceaccount.com",
		"other": "user:someone@example.com",
	}
	allowed := map[string]bool{}
	for _, row := range []string{
		"orders-readers decrypt orders", "orders-readers decrypt webhook",
		"payments-readers decrypt payments",
		"billing-readers decrypt billing", "billing-readers decrypt webhook",
		"orders-ci encrypt orders", "orders-ci encrypt payments", "orders-ci encrypt webhook",
		"payments-ci encrypt payments", "payments-ci encrypt orders",
		"controller decrypt orders", "controller decrypt payments", "controller decrypt billing", "controller decrypt webhook",
	} {
		allowed[row] = true
	}
	for name, member := range principals {
		for _, key := range []string{"orders", "payments", "billing", "webhook"} {
			pol := pols[keyPrefix+key]
			if pol == nil {
				t.Fatalf("no IAM policy for key %s", key)
			}
			for _, op := range []string{"decrypt", "encrypt"} {
				row := fmt.Sprintf("%s %s %s", name, op, key)
				if got := pol.allows(t, member, op); got != allowed[row] {
					t.Errorf("%s: allowed %v, want %v", row, got, allowed[row])
				}
			}
		}
	}
}

// TestRenderRefusesALentKey: where a service with readers would be left
// none of a grant's keys — every one also opens secrets it may not read —
// render refuses, naming the grant, the key and the fix. A key several
// services list is fine while none of them has readers: only the
// controllers decrypt with it.
func TestRenderRefusesALentKey(t *testing.T) {
	const head = "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  orders: {recipient: \"gcpkms:" + keyPrefix + "orders\"}\n  payments: {recipient: \"gcpkms:" + keyPrefix + "payments\"}\n"
	for _, tc := range []struct{ name, services, want string }{
		{"shared entry naming one service's key",
			"services:\n  orders: {namespaces: [orders], keys: [orders], readers: [\"group:o@example.com\"]}\n  payments: {namespaces: [payments], keys: [payments], readers: [\"group:p@example.com\"]}\nshared:\n  - {name: stripe, services: [orders, payments], keys: [orders]}\n",
			`shared secret "stripe" (services orders, payments): service "payments" may be given none of its keys to unwrap with (key "orders" also opens the secrets of service "orders"), since Cloud KMS IAM cannot see which secret a wrap is bound to; give shared entry "stripe" keys: of its own`},
		{"two services on one key",
			"services:\n  orders: {namespaces: [orders], keys: [orders], readers: [\"group:o@example.com\"]}\n  payments: {namespaces: [payments], keys: [orders]}\n",
			`service "orders" may be given none of its keys to unwrap with (key "orders" also opens the secrets of service "payments"), since Cloud KMS IAM cannot see which secret a wrap is bound to; give service "orders" a key of its own`},
		{"one key for services without readers",
			"services:\n  orders: {namespaces: [orders], keys: [orders], writers: [\"serviceAccount:o@p.iam.gserviceaccount.com\"]}\n  payments: {namespaces: [payments], keys: [orders]}\n",
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderGCP(t, head+tc.services)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

func renderGCP(t *testing.T, text string) (map[string]*iamPolicy, error) {
	t.Helper()
	pol, err := policy.ParseInCluster([]byte(text), "kseal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, ok := keys.LookupRenderer("gcp")
	if !ok {
		t.Fatal("no renderer gcp")
	}
	v, err := r.Renderer.Render(pol.Plan(), nil)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]*iamPolicy
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return out, nil
}

// iamPolicy is a rendered CryptoKey IAM policy as Cloud KMS reads it.
type iamPolicy struct {
	Bindings []struct {
		Role      string          `json:"role"`
		Members   []string        `json:"members"`
		Condition json.RawMessage `json:"condition"`
	} `json:"bindings"`
}

// allows reports whether member may use the key for op ("encrypt",
// "decrypt"): some binding of a role holding that permission names the
// member. A role or a condition the evaluator does not know fails the test.
func (p *iamPolicy) allows(t *testing.T, member, op string) bool {
	t.Helper()
	perms := map[string][]string{
		"roles/cloudkms.cryptoKeyEncrypter":          {"encrypt"},
		"roles/cloudkms.cryptoKeyDecrypter":          {"decrypt"},
		"roles/cloudkms.cryptoKeyEncrypterDecrypter": {"encrypt", "decrypt"},
	}
	for _, b := range p.Bindings {
		ops, ok := perms[b.Role]
		if !ok {
			t.Fatalf("role %q is not evaluated here", b.Role)
		}
		if len(b.Condition) > 0 && string(b.Condition) != "null" {
			t.Fatalf("binding conditions are not evaluated here")
		}
		if slices.Contains(ops, op) && (slices.Contains(b.Members, member) || slices.Contains(b.Members, "allUsers") || slices.Contains(b.Members, "allAuthenticatedUsers")) {
			return true
		}
	}
	return false
}
