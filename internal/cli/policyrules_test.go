package cli

import (
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/manifest"
)

// parseOne parses a single-document manifest.
func parseOne(t *testing.T, text string) *manifest.Doc {
	t.Helper()
	s, err := manifest.Parse([]byte(text))
	if err != nil || len(s.Docs) != 1 {
		t.Fatalf("parse: %v (%d docs)", err, len(s.Docs))
	}
	return s.Docs[0]
}

// wantFindings compares findings with parts of them, one for each, in
// order.
func wantFindings(t *testing.T, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.Contains(got[i], want[i])
	}
	if !ok {
		t.Errorf("findings:\n  %s\nwant, in order, ones holding:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// TestPlainSecretFindings: a plain Secret with values is plaintext in git;
// a sops file only where sops left a value unencrypted; a last-applied copy
// holds the values even when data and stringData are gone.
func TestPlainSecretFindings(t *testing.T) {
	const head = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\n"
	const plaintext = "plaintext Secret committed; seal it: kseal seal -i apps/db.yaml"
	const sopsMeta = "sops: {mac: 'ENC[x]', version: 3.9.0}\n"
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"no values", head, nil},
		{"empty data", head + "data: {}\n", nil},
		{"null data", head + "data: null\n", nil},
		{"data", head + "data: {password: aHVudGVyMg==}\n", []string{plaintext}},
		{"stringData", head + "stringData: {password: hunter2}\n", []string{plaintext}},
		{"data not a mapping", head + "data: hunter2\n", []string{plaintext}},
		{"sops, every value encrypted", head + "data: {password: 'ENC[AES256_GCM,data:x]'}\n" + sopsMeta, nil},
		{"sops, a value left plain", head + "data: {password: 'ENC[AES256_GCM,data:x]', user: admin}\n" + sopsMeta,
			[]string{"sops-encrypted Secret with values left in plaintext: data.user (check encrypted_regex"}},
		{"sops without a mac is no sops file", head + "data: {password: 'ENC[x]'}\nsops: {version: 3.9.0}\n", []string{plaintext}},
		{"last-applied copy, no values left",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations: {" + lastApplied + ": '{}'}\n",
			[]string{"metadata.annotations[" + lastApplied + "] holds a copy of the Secret as last applied"}},
		{"values and a last-applied copy",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations: {" + lastApplied + ": '{}'}\nstringData: {a: b}\n",
			[]string{plaintext, "holds a copy of the Secret as last applied"}},
		// A sops file's annotations are sops's to judge (its mac covers them).
		{"sops with a last-applied copy",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations: {" + lastApplied + ": '{}'}\ndata: {a: 'ENC[x]'}\n" + sopsMeta, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFindings(t, plainSecretFindings(parseOne(t, tc.doc), "apps/db.yaml"), tc.want)
		})
	}
}

// TestSealedLastApplied: a sealed object carrying a last-applied copy (of
// itself, or in its template) is reported; one without is not.
func TestSealedLastApplied(t *testing.T) {
	const head = "apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\n"
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"none", head + "metadata: {name: db}\nspec: {template: {metadata: {annotations: {a: b}}}}\n", nil},
		{"on the object", head + "metadata:\n  name: db\n  annotations: {" + lastApplied + ": '{}'}\n",
			[]string{"metadata.annotations[" + lastApplied + "] holds a copy of the object as last applied"}},
		{"in the template", head + "metadata: {name: db}\nspec: {template: {metadata: {annotations: {" + lastApplied + ": '{}'}}}}\n",
			[]string{"spec.template.metadata.annotations[" + lastApplied + "] holds a copy of the object as last applied"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFindings(t, sealedLastApplied(parseOne(t, tc.doc)), tc.want)
		})
	}
}
