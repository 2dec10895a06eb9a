package policy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
	_ "kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/keys/awskms"
	"kseal.dev/kseal/pkg/keys/gcpkms"
	"kseal.dev/kseal/pkg/policy"
)

func load(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.Load(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRules(t *testing.T) {
	p := load(t)
	for _, tc := range []struct {
		file, want string
	}{
		{"testdata/apps/orders/db.yaml", `service "orders"`},
		{"testdata/apps/orders/deep/x/y.yaml", `service "orders"`},
		{"testdata/apps/payments/psp.yaml", `service "payments"`},
		{"testdata/shared/webhook.yaml", `shared secret "webhook"`},
		{"testdata/shared/other.yaml", ""},
		{"testdata/apps/ordersx/db.yaml", ""},
	} {
		r, err := p.RuleFor(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if r != nil {
			got = r.String()
		}
		if !strings.HasPrefix(got, tc.want) || (tc.want == "") != (r == nil) {
			t.Errorf("%s: got %q want %q", tc.file, got, tc.want)
		}
	}
}

func TestNamespacesAndGrants(t *testing.T) {
	p := load(t)
	orders, _ := p.RuleFor("testdata/apps/orders/db.yaml")
	shared, _ := p.RuleFor("testdata/shared/webhook.yaml")
	for _, tc := range []struct {
		name      string
		rule      *policy.Rule
		ns, obj   string
		wantError string
	}{
		{"own namespace", orders, "orders-canary", "db", ""},
		{"foreign namespace", orders, "payments", "db", `service "orders" owns namespaces [orders orders-canary], not "payments"`},
		{"shared secret in a sharing service's namespace", orders, "payments", "webhook", ""},
		{"shared path, both namespaces", shared, "payments", "webhook", ""},
		{"shared path, third namespace", shared, "default", "webhook", `allowed in the namespaces of [orders payments], not "default"`},
		{"shared path, a namespace of a service outside the entry", shared, "billing", "webhook", `allowed in the namespaces of [orders payments], not "billing"`},
		// Guard: a service path holds a shared secret only in the entry's
		// namespaces (CheckObject's sharedNamespaces test), not wherever the
		// service is one of the entry's.
		{"shared secret under a service path, outside the entry's namespaces", orders, "billing", "webhook", `service "orders" owns namespaces [orders orders-canary], not "billing"`},
		{"shared secret under a service path, third namespace", orders, "default", "webhook", `service "orders" owns namespaces [orders orders-canary], not "default"`},
		{"shared path, other name", shared, "orders", "other", `reserved for shared secret "webhook"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.CheckObject(tc.rule, tc.ns, tc.obj)
			if tc.wantError == "" && err != nil || tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)) {
				t.Errorf("got %v want %q", err, tc.wantError)
			}
		})
	}
	if cur, acc := p.KeyIDs("cluster"); cur == "" || len(acc) != 1 {
		t.Errorf("cluster key IDs %q %v", cur, acc)
	}
}

// TestKeyRefMatchesTypeAndID: a wrap counts for a key only when its stanza
// type and its key ID both are the key's, so a stanza of another provider
// claiming the key's ID is no wrap for it (policy check would otherwise
// call a file sealed to the key when no provider of that key can open it).
//
// Guard: the type comparison in KeyRef.Matches.
func TestKeyRefMatchesTypeAndID(t *testing.T) {
	p := load(t)
	gcp, aws := p.KeyRefs("gcp"), p.KeyRefs("ci-aws")
	if len(gcp) != 1 || len(aws) != 1 || gcp[0].Type == "" || aws[0].Type == "" || gcp[0].Type == aws[0].Type {
		t.Fatalf("refs %v %v", gcp, aws)
	}
	ref := gcp[0]
	for _, tc := range []struct {
		name, typ, keyID string
		want             bool
	}{
		{"its type and ID", ref.Type, ref.KeyID, true},
		{"another provider's type, its ID", aws[0].Type, ref.KeyID, false},
		{"its type, another ID", ref.Type, aws[0].KeyID, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ref.Matches(tc.typ, tc.keyID); got != tc.want {
				t.Errorf("Matches(%q, %q) = %v, want %v", tc.typ, tc.keyID, got, tc.want)
			}
		})
	}
	// A provider that names no stanza type is matched on the ID alone.
	if !(policy.KeyRef{KeyID: ref.KeyID}).Matches(aws[0].Type, ref.KeyID) {
		t.Errorf("an untyped ref does not match its ID")
	}
}

// A recipients file may hold any registered recipient type (not only age),
// without tripping over types that have no String method.
func TestClusterRecipientsFileOfAnyType(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.pub"), []byte("arn:aws:kms:us-east-1:111122223333:key/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	y := "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nclusters:\n  c: {recipientsFile: c.pub}\nkeys:\n  k: {cluster: c}\n"
	p, err := policy.Parse([]byte(y), filepath.Join(dir, "kseal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := p.KeyIDs("k"); cur != "arn:aws:kms:us-east-1:111122223333:key/x" {
		t.Errorf("current key ID %q", cur)
	}
}

func TestValidationErrorsHaveLines(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown field", "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nservicez: {}\n", "line 3: field servicez not found"},
		{"wrong kind", "apiVersion: v1\nkind: ConfigMap\n", "p.yaml:1: want apiVersion: kseal.dev/v1alpha1 and kind: Policy"},
		{"unknown cluster", "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  k:\n    cluster: nope\n", `p.yaml:5: key "k": unknown cluster "nope"`},
		{"bad recipient", "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  k: {age: age1bad}\n", `p.yaml:4: key "k": malformed recipient`},
		{"bad identity", "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  k: {age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p}\nservices:\n  s:\n    namespaces: [a]\n    keys: [k]\n    writers: [bob]\n", `p.yaml:6: service "s": identity 0 "bob"`},
		{"shared needs two services", "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nshared:\n- name: x\n  services: [a]\n", "p.yaml:4: shared entry 0: name and at least two services are required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse([]byte(tc.yaml), "p.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestRenderAWS checks, through the plan the policy hands to renderers, the key policy grammar: Version, statements with
// Sid/Effect/Principal/Action/Resource, and encryption-context conditions.
func TestRenderAWS(t *testing.T) {
	p := load(t)
	docs := awskms.RenderPolicies(p.Plan(), "")
	doc := docs["arn:aws:kms:us-east-1:111122223333:key/0000-ci"]
	if len(docs) != 1 || doc == nil {
		t.Fatalf("rendered %d policies", len(docs))
	}
	b, _ := json.Marshal(doc)
	var generic struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal(b, &generic); err != nil || generic.Version != "2012-10-17" {
		t.Fatalf("%s: %v", b, err)
	}
	sids := map[string]awskms.Statement{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || s.Resource != "*" || len(s.Action) == 0 || len(s.Principal["AWS"]) == 0 {
			t.Errorf("malformed statement %+v", s)
		}
		if strings.Trim(s.Sid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			t.Errorf("Sid %q is not alphanumeric", s.Sid)
		}
		sids[s.Sid] = s
	}
	if a := sids["KeyAdministration"]; a.Principal["AWS"][0] != "arn:aws:iam::111122223333:root" {
		t.Errorf("admin %v", a.Principal)
	}
	seal := sids["OrdersSeal"]
	if !slices.Equal(seal.Action, []string{"kms:Encrypt"}) || !slices.Equal(seal.Principal["AWS"], []string{"arn:aws:iam::111122223333:role/orders-ci"}) ||
		!slices.Equal(seal.Condition["StringEquals"]["kms:EncryptionContext:kseal-namespace"], []string{"orders", "orders-canary"}) {
		t.Errorf("OrdersSeal %+v", seal)
	}
	open := sids["OrdersOpen"]
	if !slices.Equal(open.Action, []string{"kms:Decrypt"}) || !slices.Contains(open.Principal["AWS"], "arn:aws:iam::111122223333:role/kseal-controller") ||
		slices.Contains(open.Principal["AWS"], "group:orders-oncall@example.com") {
		t.Errorf("OrdersOpen %+v", open)
	}
	// A shared statement opens that one secret: scope shared and its name,
	// never any cluster-scope object (which binds no name).
	for _, id := range []string{"SharedWebhookOpen", "SharedWebhookSeal"} {
		sh := sids[id]
		if !slices.Equal(sh.Condition["StringEquals"]["kms:EncryptionContext:kseal-scope"], []string{"shared"}) ||
			!slices.Equal(sh.Condition["StringEquals"]["kms:EncryptionContext:kseal-name"], []string{"webhook"}) {
			t.Errorf("%s %+v", id, sh)
		}
	}
}

func TestRenderGCP(t *testing.T) {
	p := load(t)
	pols, err := gcpkms.RenderPolicies(p.Plan())
	if err != nil {
		t.Fatal(err)
	}
	pol := pols["projects/proj/locations/global/keyRings/r/cryptoKeys/k"]
	if len(pols) != 1 || pol == nil || len(pol.Bindings) != 2 {
		t.Fatalf("got %+v", pols)
	}
	enc, dec := pol.Bindings[0], pol.Bindings[1]
	if enc.Role != "roles/cloudkms.cryptoKeyEncrypter" || !slices.Equal(enc.Members, []string{"serviceAccount:orders-ci@proj.iam.gserviceaccount.com"}) {
		t.Errorf("encrypter %+v", enc)
	}
	if dec.Role != "roles/cloudkms.cryptoKeyDecrypter" || !slices.Equal(dec.Members, []string{"group:orders-oncall@example.com", "serviceAccount:kseal-controller@proj.iam.gserviceaccount.com"}) {
		t.Errorf("decrypter %+v", dec)
	}
}

func TestFindWalksUp(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, policy.FileName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := policy.Find(deep)
	if err != nil || got != filepath.Join(dir, policy.FileName) {
		t.Errorf("got %q %v", got, err)
	}
}

// FuzzParse runs its seeds with the tests. It is not in make fuzz-smoke:
// this test binary links the AWS and GCP SDKs (for the render tests), which
// slows the fuzzing engine to a few hundred executions a second.
func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "full.yaml"))
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = policy.ParseInCluster(b, "kseal.yaml")
	})
}

// TestSchemaMatchesTypes keeps docs/policy.schema.json in step with the Go
// types: every YAML field of every type is a schema property and back.
func TestSchemaMatchesTypes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	props := func(m any, path ...string) []string {
		for _, p := range path {
			m = m.(map[string]any)[p]
		}
		var out []string
		for k := range m.(map[string]any)["properties"].(map[string]any) {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	// The providers' aliases (keys.Provider.KeyAliases, IdentityAliases)
	// are fields too.
	for _, tc := range []struct {
		v       any
		path    []string
		aliases []string
	}{
		{policy.Policy{}, nil, nil},
		{policy.Cluster{}, []string{"properties", "clusters", "additionalProperties"}, keys.IdentityAliasFields()},
		{policy.Key{}, []string{"properties", "keys", "additionalProperties"}, keys.KeyAliasFields()},
		{policy.Service{}, []string{"properties", "services", "additionalProperties"}, nil},
		{policy.Shared{}, []string{"properties", "shared", "items"}, nil},
	} {
		want := append(yamlFields(tc.v), tc.aliases...)
		slices.Sort(want)
		if got := props(schema, tc.path...); !slices.Equal(got, want) {
			t.Errorf("%T: schema has %v, type has %v", tc.v, got, want)
		}
	}
}

func yamlFields(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := 0; i < rt.NumField(); i++ {
		tag := strings.Split(rt.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	slices.Sort(out)
	return out
}

// TestPolicyFileHoldsThePolicyAlone: policy check does not read kseal.yaml
// as a manifest, so a Secret hidden in a second document would never be
// checked (kubectl -R would apply it): such a file is refused.
//
// Guard: the second Decode in parse.
func TestPolicyFileHoldsThePolicyAlone(t *testing.T) {
	text := "apiVersion: kseal.dev/v1alpha1\nkind: Policy\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: hid}\nstringData: {password: hunter2}\n"
	_, err := policy.ParseInCluster([]byte(text), "kseal.yaml")
	if err == nil || !strings.Contains(err.Error(), "more than one YAML document") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v", err)
	}
}

func TestPolicyFileMayEndInAnEmptyDocument(t *testing.T) {
	for _, tail := range []string{"---\n", "---\n# end\n", "---\n...\n"} {
		if _, err := policy.ParseInCluster([]byte("apiVersion: kseal.dev/v1alpha1\nkind: Policy\n"+tail), "kseal.yaml"); err != nil {
			t.Errorf("%q: %v", tail, err)
		}
	}
}

// A key is {recipient: STRING} for any provider; age, awsKms and gcpKms are
// aliases that name the same key, so existing policies keep working.
func TestRecipientAndAliases(t *testing.T) {
	const (
		age = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
		arn = "arn:aws:kms:us-east-1:111122223333:key/k"
		gcp = "projects/p/locations/l/keyRings/r/cryptoKeys/k"
	)
	y := "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n" +
		"  a1: {recipient: " + age + "}\n  a2: {age: " + age + "}\n" +
		"  w1: {recipient: \"" + arn + "\"}\n  w2: {awsKms: \"" + arn + "\"}\n" +
		"  g1: {recipient: gcpkms:" + gcp + "}\n  g2: {gcpKms: " + gcp + "}\n  g3: {gcpKms: gcpkms:" + gcp + "}\n"
	p, err := policy.Parse([]byte(y), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][]string{{"a1", "a2"}, {"w1", "w2"}, {"g1", "g2", "g3"}} {
		want := p.KeyRefs(pair[0])
		if len(want) != 1 || want[0].Type == "" {
			t.Fatalf("%s: refs %v", pair[0], want)
		}
		for _, other := range pair[1:] {
			if got := p.KeyRefs(other); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: refs %v, want those of %s: %v", other, got, pair[0], want)
			}
		}
	}
	for _, tc := range []struct{ name, key, want string }{
		{"two fields", "{recipient: " + age + ", age: " + age + "}", `key "k": set exactly one of cluster, recipient`},
		{"unknown provider", "{recipient: \"vault9:x\"}", `key "k": unknown recipient type`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse([]byte("apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  k: "+tc.key+"\n"), "p.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// The plan handed to renderers carries each grant's binding and the
// controllers' identities, from identities and the older aliases alike.
func TestPlan(t *testing.T) {
	p := load(t)
	plan := p.Plan()
	if !slices.Contains(plan.Controllers, "arn:aws:iam::111122223333:role/kseal-controller") ||
		!slices.Contains(plan.Controllers, "serviceAccount:kseal-controller@proj.iam.gserviceaccount.com") {
		t.Errorf("controllers %v", plan.Controllers)
	}
	for _, k := range plan.Keys {
		if k.Name == "cluster" {
			t.Errorf("a cluster key is not in the plan")
		}
		for _, g := range k.Grants {
			if g.Shared != "" && (!slices.Equal(g.Binding["kseal-scope"], []string{"shared"}) || !slices.Equal(g.Binding["kseal-name"], []string{g.Shared})) {
				t.Errorf("%s %s: binding %v", k.Name, g.Rule, g.Binding)
			}
			if g.Shared == "" && len(g.Binding["kseal-namespace"]) == 0 {
				t.Errorf("%s %s: binding %v", k.Name, g.Rule, g.Binding)
			}
		}
	}
}

func init() {
	keys.Register(keys.Provider{Name: "keystest", ServiceSettings: func(s map[string]string) error {
		for k := range s {
			if k != "role" {
				return fmt.Errorf("unknown setting %q (known: role)", k)
			}
		}
		return nil
	}})
}

// A service's providers.NAME settings are checked by the provider that
// registered NAME, refused for any other name, and reach renderers.
func TestServiceProviderSettings(t *testing.T) {
	base := "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  k: {recipient: arn:aws:kms:us-east-1:111122223333:key/k}\nservices:\n  s:\n    namespaces: [a]\n    keys: [k]\n    providers:\n"
	p, err := policy.Parse([]byte(base+"      keystest: {role: orders}\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Plan().Keys[0].Grants[0].Services[0].Settings["keystest"]["role"]; got != "orders" {
		t.Errorf("plan settings: role %q", got)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown provider", "      nope: {role: x}\n", `p.yaml:10: service "s": providers.nope: no provider named "nope" takes service settings (known: `},
		{"provider refuses", "      keystest: {rol: x}\n", `p.yaml:10: service "s": providers.keystest: unknown setting "rol"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse([]byte(base+tc.yaml), "p.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}
