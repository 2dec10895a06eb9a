package policy_test

import (
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/policy"
)

// TestGrantFor: a namespace-bound object opens with its namespace's service
// keys only; an object bound to its name only opens as a shared entry's
// secret, in that entry's services' namespaces, with that entry's keys only;
// scope cluster opens nowhere under a policy.
func TestGrantFor(t *testing.T) {
	p := load(t)
	for _, tc := range []struct {
		name      string
		ns, obj   string
		scope     crypto.Scope
		wantKeys  []string
		wantRule  string
		wantError string
	}{
		{"strict in own namespace", "orders-canary", "db", crypto.ScopeStrict, []string{"ci-aws", "cluster", "gcp"}, "service orders", ""},
		{"namespace scope", "payments", "db", crypto.ScopeNamespace, []string{"ci-aws", "cluster"}, "service payments", ""},
		// The shared entry's name lends nothing to a namespace-bound object.
		{"strict object named like a shared entry", "payments", "webhook", crypto.ScopeStrict, []string{"ci-aws", "cluster"}, "service payments", ""},
		{"strict in unowned namespace", "default", "db", crypto.ScopeStrict, nil, "", `no service owns namespace "default"`},
		// Only the entry's keys: not cluster, which both services hold.
		{"shared in a sharing namespace", "payments", "webhook", crypto.ScopeShared, []string{"ci-aws"}, "shared webhook", ""},
		{"shared in a third namespace", "default", "webhook", crypto.ScopeShared, nil, "", `allowed in the namespaces of [orders payments], not "default"`},
		// Guard: the namespace must be owned by one of the entry's services,
		// not just by some service (billing holds the entry's key, ci-aws).
		{"shared in a namespace of a service outside the entry", "billing", "webhook", crypto.ScopeShared, nil, "", `allowed in the namespaces of [orders payments], not "billing"`},
		{"shared under another name", "orders", "db", crypto.ScopeShared, nil, "", `no shared entry names "db"`},
		{"cluster scope named like the entry", "orders", "webhook", crypto.ScopeCluster, nil, "", "scope cluster binds no name"},
		{"cluster scope in own namespace", "orders", "db", crypto.ScopeCluster, nil, "", "opens nowhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := p.GrantFor(tc.ns, tc.obj, tc.scope)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("got %+v, %v; want error %q", g, err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(g.Keys, tc.wantKeys) || g.Rule != tc.wantRule {
				t.Errorf("got keys %v rule %q, want %v %q", g.Keys, g.Rule, tc.wantKeys, tc.wantRule)
			}
		})
	}
}

func TestCheckTemplate(t *testing.T) {
	svc := &policy.Service{
		AllowTokenTypes:  []string{"kubernetes.io/service-account-token"},
		AllowAnnotations: []string{"reflector.v1.k8s.emberstack.com/reflection-allowed"},
		DenyAnnotations:  []string{"example.com/", "example.com/ok/x"},
	}
	allowOK := &policy.Service{AllowAnnotations: []string{"example.com/ok/"}, DenyAnnotations: []string{""}}
	for _, tc := range []struct {
		name      string
		svc       *policy.Service
		typ       string
		ann       map[string]string
		wantError string
	}{
		{"ordinary", nil, "Opaque", map[string]string{"app.example/x": "y"}, ""},
		{"service account token without a policy", nil, "kubernetes.io/service-account-token", nil, "type kubernetes.io/service-account-token is refused"},
		{"bootstrap token without a grant", svc, "bootstrap.kubernetes.io/token", nil, "type bootstrap.kubernetes.io/token is refused"},
		{"service account token allowed", svc, "kubernetes.io/service-account-token", nil, ""},
		{"replicator by default", nil, "Opaque", map[string]string{"replicator.v1.mittwald.de/replicate-to": "*"}, "annotations replicator.v1.mittwald.de/replicate-to are refused"},
		{"service account annotation by default", nil, "Opaque", map[string]string{"kubernetes.io/service-account.name": "default"}, "kubernetes.io/service-account.name"},
		{"reflector by default", svc, "Opaque", map[string]string{"reflector.v1.k8s.emberstack.com/reflection-auto-enabled": "true"}, "reflection-auto-enabled"},
		{"reflector where the service allows it", svc, "Opaque", map[string]string{"reflector.v1.k8s.emberstack.com/reflection-allowed": "true"}, ""},
		{"service deny", svc, "Opaque", map[string]string{"example.com/x": "1"}, "example.com/x"},
		{"allowlist: other", allowOK, "Opaque", map[string]string{"app.example/x": "1"}, "app.example/x"},
		{"allowlist: listed", allowOK, "Opaque", map[string]string{"example.com/ok/a": "1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := policy.CheckTemplate(tc.svc, tc.typ, tc.ann)
			if tc.wantError == "" && err != nil || tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)) {
				t.Errorf("got %v want %q", err, tc.wantError)
			}
		})
	}
}

func TestAllowTokenTypesIsValidated(t *testing.T) {
	y := "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  k: {age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p}\nservices:\n  s:\n    namespaces: [a]\n    keys: [k]\n    allowTokenTypes: [Opaque]\n"
	_, err := policy.Parse([]byte(y), "p.yaml")
	if err == nil || !strings.Contains(err.Error(), `p.yaml:9: service "s": "Opaque" is not a token type`) {
		t.Errorf("got %v", err)
	}
}
