package awskms_test

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/policy"
)

// renderPolicy is a kseal.yaml with keys used by one service (orders,
// payments), a key every service lists (common), and a shared entry with
// the default keys (the union of its services'). billing is in no shared
// entry. ParseInCluster: no cluster recipients file to read.
const renderPolicy = `apiVersion: kseal.dev/v1alpha1
kind: Policy
clusters:
  prod: {recipientsFile: prod.pub, identities: ["arn:aws:iam::111122223333:role/kseal-controller"]}
keys:
  orders: {recipient: "arn:aws:kms:us-east-1:111122223333:key/orders"}
  payments: {recipient: "arn:aws:kms:us-east-1:111122223333:key/payments"}
  common: {recipient: "arn:aws:kms:us-east-1:111122223333:key/common"}
services:
  orders:
    namespaces: [orders, orders-canary]
    keys: [orders, common]
    writers: ["arn:aws:iam::111122223333:role/orders-ci"]
    readers: ["arn:aws:iam::111122223333:role/orders-deploy"]
  payments:
    namespaces: [payments]
    keys: [payments, common]
    writers: ["arn:aws:iam::111122223333:role/payments-ci"]
    readers: ["arn:aws:iam::111122223333:role/payments-deploy"]
  billing:
    namespaces: [billing]
    keys: [common]
    readers: ["arn:aws:iam::111122223333:role/billing-deploy"]
shared:
  - name: stripe
    services: [orders, payments]
`

// TestRenderedKeyPoliciesLendNoKey evaluates the key policies `kseal policy
// render aws` prints (its JSON, read back as AWS reads it) for every
// principal × key × encryption context × operation: exactly the listed
// pairs are allowed. Every cross-service pair is denied — a reader opens
// its own namespaces' wraps and the shared secrets of its entries, also
// with another service's key (the encryption context decides) — and so is
// every other principal of the key's account, whose own IAM policy is
// taken to allow everything: the account root keeps key administration
// only.
//
// Guards: the encryption-context conditions of the grant statements, and
// adminActions instead of kms:* in the KeyAdministration statement.
func TestRenderedKeyPoliciesLendNoKey(t *testing.T) {
	docs := renderAWS(t, renderPolicy)
	const acct = "arn:aws:iam::111122223333:"
	principals := []string{"orders-deploy", "orders-ci", "payments-deploy", "payments-ci", "billing-deploy", "kseal-controller", "intruder"}
	contexts := map[string]map[string]string{
		"strict orders/db":        {"kseal-scope": "strict", "kseal-namespace": "orders", "kseal-name": "db"},
		"strict orders-canary/db": {"kseal-scope": "strict", "kseal-namespace": "orders-canary", "kseal-name": "db"},
		"namespace payments":      {"kseal-scope": "namespace", "kseal-namespace": "payments"},
		"strict billing/db":       {"kseal-scope": "strict", "kseal-namespace": "billing", "kseal-name": "db"},
		"strict default/db":       {"kseal-scope": "strict", "kseal-namespace": "default", "kseal-name": "db"},
		"shared stripe":           {"kseal-scope": "shared", "kseal-name": "stripe"},
		"strict payments/stripe":  {"kseal-scope": "strict", "kseal-namespace": "payments", "kseal-name": "stripe"},
		"shared other":            {"kseal-scope": "shared", "kseal-name": "other"},
		"cluster":                 {"kseal-scope": "cluster"},
	}
	// "principal action key context": everything not listed is denied.
	allowed := map[string]bool{}
	for _, line := range []string{
		"orders-deploy Decrypt orders strict orders/db", "orders-deploy Decrypt orders strict orders-canary/db", "orders-deploy Decrypt orders shared stripe",
		"orders-deploy Decrypt common strict orders/db", "orders-deploy Decrypt common strict orders-canary/db", "orders-deploy Decrypt common shared stripe",
		"orders-deploy Decrypt payments shared stripe",
		"orders-ci Encrypt orders strict orders/db", "orders-ci Encrypt orders strict orders-canary/db", "orders-ci Encrypt orders shared stripe",
		"orders-ci Encrypt common strict orders/db", "orders-ci Encrypt common strict orders-canary/db", "orders-ci Encrypt common shared stripe",
		"orders-ci Encrypt payments shared stripe",
		"payments-deploy Decrypt payments namespace payments", "payments-deploy Decrypt payments strict payments/stripe", "payments-deploy Decrypt payments shared stripe",
		"payments-deploy Decrypt common namespace payments", "payments-deploy Decrypt common strict payments/stripe", "payments-deploy Decrypt common shared stripe",
		"payments-deploy Decrypt orders shared stripe",
		"payments-ci Encrypt payments namespace payments", "payments-ci Encrypt payments strict payments/stripe", "payments-ci Encrypt payments shared stripe",
		"payments-ci Encrypt common namespace payments", "payments-ci Encrypt common strict payments/stripe", "payments-ci Encrypt common shared stripe",
		"payments-ci Encrypt orders shared stripe",
		"billing-deploy Decrypt common strict billing/db",
		"kseal-controller Decrypt orders strict orders/db", "kseal-controller Decrypt orders strict orders-canary/db", "kseal-controller Decrypt orders shared stripe",
		"kseal-controller Decrypt payments namespace payments", "kseal-controller Decrypt payments strict payments/stripe", "kseal-controller Decrypt payments shared stripe",
		"kseal-controller Decrypt common strict orders/db", "kseal-controller Decrypt common strict orders-canary/db", "kseal-controller Decrypt common namespace payments",
		"kseal-controller Decrypt common strict payments/stripe", "kseal-controller Decrypt common strict billing/db", "kseal-controller Decrypt common shared stripe",
	} {
		allowed[line] = true
	}
	for _, pr := range principals {
		for _, key := range []string{"orders", "payments", "common"} {
			doc := docs["arn:aws:kms:us-east-1:111122223333:key/"+key]
			if doc == nil {
				t.Fatalf("no key policy for key %s", key)
			}
			for cn, ctx := range contexts {
				for _, action := range []string{"Decrypt", "Encrypt", "ReEncryptFrom", "GenerateDataKey", "CreateGrant"} {
					row := fmt.Sprintf("%s %s %s %s", pr, action, key, cn)
					if got := doc.allows(t, acct+"role/"+pr, "kms:"+action, ctx); got != allowed[row] {
						t.Errorf("%s: allowed %v, want %v", row, got, allowed[row])
					}
				}
			}
			// Administration stays with the account (its IAM decides).
			if !doc.allows(t, acct+"role/intruder", "kms:PutKeyPolicy", nil) || !doc.allows(t, acct+"role/intruder", "kms:ScheduleKeyDeletion", nil) {
				t.Errorf("key %s: the account lost key administration", key)
			}
		}
	}
}

// TestRenderedAdminOption: --set admin=ARN moves administration, and the
// admin principal may not use the key either.
func TestRenderedAdminOption(t *testing.T) {
	const admin = "arn:aws:iam::111122223333:role/kms-admin"
	docs := renderAWS(t, renderPolicy, "admin", admin)
	doc := docs["arn:aws:kms:us-east-1:111122223333:key/orders"]
	ctx := map[string]string{"kseal-scope": "strict", "kseal-namespace": "orders", "kseal-name": "db"}
	if !doc.allows(t, admin, "kms:PutKeyPolicy", nil) || doc.allows(t, admin, "kms:Decrypt", ctx) || doc.allows(t, admin, "kms:Encrypt", ctx) {
		t.Errorf("admin %s: want administration only", admin)
	}
	if doc.allows(t, "arn:aws:iam::111122223333:role/intruder", "kms:PutKeyPolicy", nil) {
		t.Errorf("the account root still administers the key")
	}
}

func renderAWS(t *testing.T, text string, opts ...string) map[string]*keyPolicy {
	t.Helper()
	pol, err := policy.ParseInCluster([]byte(text), "kseal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, ok := keys.LookupRenderer("aws")
	if !ok {
		t.Fatal("no renderer aws")
	}
	o := map[string]string{}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	v, err := r.Renderer.Render(pol.Plan(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var docs map[string]*keyPolicy
	if err := json.Unmarshal(b, &docs); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return docs
}

// keyPolicy is a rendered key policy as AWS reads it: strings or lists of
// them where IAM takes either.
type keyPolicy struct {
	Version   string
	Statement []struct {
		Effect    string
		Principal json.RawMessage
		Action    json.RawMessage
		NotAction json.RawMessage
		Resource  json.RawMessage
		Condition map[string]map[string]json.RawMessage
	}
}

// allows evaluates the key policy for principal doing action with the
// encryption context ctx: some Allow statement matches and no Deny does.
// The account root (or the bare account ID) as principal stands for every
// principal of that account, whose IAM policy is taken to allow anything
// (the worst case). Anything the evaluator does not know fails the test
// rather than being guessed.
func (d *keyPolicy) allows(t *testing.T, principal, action string, ctx map[string]string) bool {
	t.Helper()
	if d.Version != "2012-10-17" {
		t.Fatalf("Version %q", d.Version)
	}
	account := strings.Split(principal, ":")[4]
	allow := false
	for _, s := range d.Statement {
		if len(s.NotAction) > 0 {
			t.Fatalf("NotAction is not evaluated here")
		}
		if res := strs(t, s.Resource); !slices.Equal(res, []string{"*"}) {
			t.Fatalf("Resource %v: a key policy names the key as *", res)
		}
		if !principalMatches(t, s.Principal, principal, account) || !actionMatches(strs(t, s.Action), action) || !conditionsHold(t, s.Condition, ctx) {
			continue
		}
		switch s.Effect {
		case "Deny":
			return false
		case "Allow":
			allow = true
		default:
			t.Fatalf("Effect %q", s.Effect)
		}
	}
	return allow
}

func principalMatches(t *testing.T, raw json.RawMessage, principal, account string) bool {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			t.Fatalf("Principal %q", star)
		}
		return true
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("Principal %s: %v", raw, err)
	}
	for kind, v := range m {
		if kind != "AWS" {
			t.Fatalf("Principal kind %q is not evaluated here", kind)
		}
		for _, p := range strs(t, v) {
			root := strings.HasSuffix(p, ":root") && strings.Split(p, ":")[4] == account
			if p == "*" || p == principal || p == account || root {
				return true
			}
		}
	}
	return false
}

func actionMatches(patterns []string, action string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

func conditionsHold(t *testing.T, cond map[string]map[string]json.RawMessage, ctx map[string]string) bool {
	for op, m := range cond {
		if op != "StringEquals" {
			t.Fatalf("condition operator %q is not evaluated here", op)
		}
		for k, v := range m {
			ck, ok := strings.CutPrefix(k, "kms:EncryptionContext:")
			if !ok {
				t.Fatalf("condition key %q is not evaluated here", k)
			}
			got, present := ctx[ck]
			if !present || !slices.Contains(strs(t, v), got) {
				return false
			}
		}
	}
	return true
}

// strs reads an IAM value that may be one string or a list of them.
func strs(t *testing.T, raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		t.Fatalf("%s: want a string or a list of strings", raw)
	}
	return many
}
