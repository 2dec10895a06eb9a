package cli

import (
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/manifest"
)

// TestForeignDocsCannotHide: a document kseal cannot open is found however
// its apiVersion or sops key is spelled and whatever its size, and a
// Secret in a list sops encrypted is one of them (seal must not take sops'
// ciphertexts for values).
func TestForeignDocsCannotHide(t *testing.T) {
	bitnami := "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: shop\nspec:\n  encryptedData:\n    password: AgBy3i4O\n"
	big := bitnami + "  padding:\n" + strings.Repeat("  - a\n", 70000)
	for _, tc := range []struct {
		name, doc, what, object string
		item                    bool // the document's first list item
	}{
		{"bitnami", bitnami, "bitnami", "shop/db", false},
		{"bitnami, apiVersion escaped", strings.Replace(bitnami, "apiVersion: bitnami.com/v1alpha1", `apiVersion: "bitnami.com\x2Fv1alpha1"`, 1), "bitnami", "shop/db", false},
		{"bitnami over the tree cap", big, "bitnami", "(too large to read its name)", false},
		{"sops, key escaped", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n\"\\x73ops\":\n  mac: x\n", "sops", "c", false},
		{"a Secret in a list sops encrypted", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n    namespace: ns\n  stringData:\n    k: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n  mac: x\n", "sops", "ns/s", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := manifest.Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			d := s.Docs[0]
			if tc.item {
				d = itemOf(t, s)
			}
			f, ok := foreignDoc(d)
			if !ok || !strings.Contains(f.what, tc.what) || f.object != tc.object {
				t.Errorf("foreignDoc = %+v, %v; want %s, object %q", f, ok, tc.what, tc.object)
			}
		})
	}
}

// itemOf returns the first document of s that is a list item.
func itemOf(t *testing.T, s *manifest.Stream) *manifest.Doc {
	t.Helper()
	for _, d := range s.Docs {
		if d.Item() >= 0 {
			return d
		}
	}
	t.Fatal("no list item among the documents")
	return nil
}
