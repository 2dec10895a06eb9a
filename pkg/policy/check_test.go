package policy_test

import (
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/policy"
)

// sealedCase is one object held to one check of CheckSealed: the messages
// that check must report for it, each given by a part of it, in order.
type sealedCase struct {
	name  string
	rule  *policy.Rule
	obj   policy.Sealed
	wants []string
}

// runSealedCases runs each case through CheckSealed and compares only the
// findings of check: a mutant of one rule fails the cases of that rule.
func runSealedCases(t *testing.T, p *policy.Policy, check string, cases []sealedCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range p.CheckSealed(tc.rule, &tc.obj) {
				if f.Check == check {
					got = append(got, f.Message)
				}
			}
			ok := len(got) == len(tc.wants)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.Contains(got[i], tc.wants[i])
			}
			if !ok {
				t.Errorf("%s findings:\n  %s\nwant, in order, ones holding:\n  %s", check, strings.Join(got, "\n  "), strings.Join(tc.wants, "\n  "))
			}
		})
	}
}

// rules returns the rules of the orders service and the webhook shared
// entry of testdata/full.yaml.
func rules(t *testing.T, p *policy.Policy) (orders, shared *policy.Rule) {
	t.Helper()
	orders, err := p.RuleFor("testdata/apps/orders/db.yaml")
	if err != nil || orders == nil {
		t.Fatal(orders, err)
	}
	shared, err = p.RuleFor("testdata/shared/webhook.yaml")
	if err != nil || shared == nil {
		t.Fatal(shared, err)
	}
	return orders, shared
}

// wrapsFor is one section's wraps, one for each named key (its first
// reference), as a sealer holding the policy writes them.
func wrapsFor(t *testing.T, p *policy.Policy, names ...string) []crypto.Wrap {
	t.Helper()
	var out []crypto.Wrap
	for _, n := range names {
		refs := p.KeyRefs(n)
		if len(refs) == 0 {
			t.Fatalf("key %q has no references", n)
		}
		out = append(out, crypto.Wrap{Type: refs[0].Type, KeyID: refs[0].KeyID})
	}
	return out
}

// sealedObj is an object in namespace ns named name, sealed with scope,
// one section per wrap list.
func sealedObj(ns, name string, scope crypto.Scope, sections ...[]crypto.Wrap) policy.Sealed {
	env := crypto.Envelope{Scope: scope}
	for _, ws := range sections {
		env.Sections = append(env.Sections, crypto.Section{Recipients: ws})
	}
	return policy.Sealed{File: "apps/orders/db.yaml", Namespace: ns, Name: name, Envelope: env}
}

// TestCheckSealedCovered: an object outside every service's and shared
// entry's paths is reported as such, and held to nothing else.
func TestCheckSealedCovered(t *testing.T) {
	p := load(t)
	orders, _ := rules(t, p)
	all := wrapsFor(t, p, "cluster", "ci-aws", "gcp")
	runSealedCases(t, p, "covered", []sealedCase{
		{"no rule", nil, sealedObj("orders", "db", crypto.ScopeStrict, all), []string{"not under the paths of any service or shared entry in " + p.Path}},
		{"a service's rule", orders, sealedObj("orders", "db", crypto.ScopeStrict, all), nil},
	})
	// Without a rule nothing else applies, not even the scope rules.
	bare := sealedObj("default", "x", crypto.ScopeCluster)
	if got := p.CheckSealed(nil, &bare); len(got) != 1 {
		t.Errorf("no rule: %v, want the one finding", got)
	}
}

// TestCheckSealedNamespace: a service's object lies in one of its
// namespaces (or is a shared entry's secret where the entry allows it); a
// shared path holds its entry's secret only.
func TestCheckSealedNamespace(t *testing.T) {
	p := load(t)
	orders, shared := rules(t, p)
	runSealedCases(t, p, "namespace", []sealedCase{
		{"own namespace", orders, sealedObj("orders-canary", "db", crypto.ScopeStrict), nil},
		{"foreign namespace", orders, sealedObj("payments", "db", crypto.ScopeStrict), []string{`service "orders" owns namespaces [orders orders-canary], not "payments"`}},
		{"shared secret in a sharing namespace", orders, sealedObj("payments", "webhook", crypto.ScopeShared), nil},
		{"shared path, its entry's name", shared, sealedObj("payments", "webhook", crypto.ScopeShared), nil},
		{"shared path, another name", shared, sealedObj("orders", "other", crypto.ScopeShared), []string{`reserved for shared secret "webhook", not "other"`}},
		{"shared path, a namespace outside the entry", shared, sealedObj("billing", "webhook", crypto.ScopeShared), []string{`allowed in the namespaces of [orders payments], not "billing"`}},
	})
}

// TestCheckSealedSharedScope: a shared entry's secret is sealed with scope
// shared; a service's secret is not held to it.
func TestCheckSealedSharedScope(t *testing.T) {
	p := load(t)
	orders, shared := rules(t, p)
	const want = "shared secret sealed with scope %s; the controller opens a shared secret only with scope shared"
	runSealedCases(t, p, "shared-scope", []sealedCase{
		{"scope shared", shared, sealedObj("orders", "webhook", crypto.ScopeShared), nil},
		{"scope strict", shared, sealedObj("orders", "webhook", crypto.ScopeStrict), []string{strings.Replace(want, "%s", "strict", 1)}},
		{"scope namespace", shared, sealedObj("orders", "webhook", crypto.ScopeNamespace), []string{strings.Replace(want, "%s", "namespace", 1)}},
		{"scope cluster", shared, sealedObj("orders", "webhook", crypto.ScopeCluster), []string{strings.Replace(want, "%s", "cluster", 1)}},
		{"a service's secret, scope strict", orders, sealedObj("orders", "db", crypto.ScopeStrict), nil},
	})
}

// TestCheckSealedUnboundScope: a service's secret is bound to its
// namespace; scopes shared and cluster are refused under a service's path.
func TestCheckSealedUnboundScope(t *testing.T) {
	p := load(t)
	orders, shared := rules(t, p)
	runSealedCases(t, p, "unbound-scope", []sealedCase{
		{"scope strict", orders, sealedObj("orders", "db", crypto.ScopeStrict), nil},
		{"scope namespace", orders, sealedObj("orders", "db", crypto.ScopeNamespace), nil},
		{"scope shared", orders, sealedObj("orders", "db", crypto.ScopeShared), []string{"sealed with scope shared, which is not bound to a namespace"}},
		{"scope cluster", orders, sealedObj("orders", "db", crypto.ScopeCluster), []string{"sealed with scope cluster, which is not bound to a namespace"}},
		{"a shared entry's secret, scope shared", shared, sealedObj("orders", "webhook", crypto.ScopeShared), nil},
	})
}

// TestCheckSealedRecipients: each section is sealed to every key of the
// rule and to nothing else; a wrap counts for a key only with the key's
// type and ID both.
func TestCheckSealedRecipients(t *testing.T) {
	p := load(t)
	orders, shared := rules(t, p)
	all := wrapsFor(t, p, "cluster", "ci-aws", "gcp")
	gcp := wrapsFor(t, p, "gcp")[0]
	aws := wrapsFor(t, p, "ci-aws")[0]
	forged := crypto.Wrap{Type: aws.Type, KeyID: gcp.KeyID} // another provider's type, gcp's ID
	stranger := crypto.Wrap{Type: "X25519", KeyID: "age1stranger"}
	runSealedCases(t, p, "recipients", []sealedCase{
		{"exactly the rule's keys", orders, sealedObj("orders", "db", crypto.ScopeStrict, all), nil},
		{"the rule's keys in another order", orders, sealedObj("orders", "db", crypto.ScopeStrict, reversed(all)), nil},
		{"a key missing", orders, sealedObj("orders", "db", crypto.ScopeStrict, wrapsFor(t, p, "cluster", "ci-aws")),
			[]string{`section 0: missing recipient for key "gcp" (service "orders"); fix with kseal reencrypt -i apps/orders/db.yaml`}},
		{"an extra wrap", orders, sealedObj("orders", "db", crypto.ScopeStrict, append(slices.Clone(all), stranger)),
			[]string{`section 0: extra recipient X25519 age1stranger, not a key of service "orders"`}},
		{"a key's ID under another type", orders, sealedObj("orders", "db", crypto.ScopeStrict, append(wrapsFor(t, p, "cluster", "ci-aws"), forged)),
			[]string{`section 0: missing recipient for key "gcp"`, "section 0: extra recipient " + forged.Type + " " + forged.KeyID}},
		{"the second section short", orders, sealedObj("orders", "db", crypto.ScopeStrict, all, wrapsFor(t, p, "cluster", "gcp")),
			[]string{`section 1: missing recipient for key "ci-aws"`}},
		{"a shared entry's keys only", shared, sealedObj("orders", "webhook", crypto.ScopeShared, all),
			sortedExtras(all[0], gcp)},
	})
}

func reversed(ws []crypto.Wrap) []crypto.Wrap {
	out := slices.Clone(ws)
	slices.Reverse(out)
	return out
}

// sortedExtras is the extra-recipient findings of section 0 for ws, in the
// order they are reported (sorted by type and key ID).
func sortedExtras(ws ...crypto.Wrap) []string {
	var out []string
	for _, w := range ws {
		out = append(out, "section 0: extra recipient "+w.Type+" "+w.KeyID+",")
	}
	slices.Sort(out)
	return out
}

// TestCheckSealedOrder: the findings of several checks come in the order
// policy check prints them.
func TestCheckSealedOrder(t *testing.T) {
	p := load(t)
	orders, _ := rules(t, p)
	o := sealedObj("payments", "db", crypto.ScopeCluster, wrapsFor(t, p, "cluster"))
	var got []string
	for _, f := range p.CheckSealed(orders, &o) {
		got = append(got, f.Check)
	}
	if want := []string{"namespace", "unbound-scope", "recipients", "recipients"}; !slices.Equal(got, want) {
		t.Errorf("checks %v, want %v", got, want)
	}
}
