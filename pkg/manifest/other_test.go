package manifest

import (
	"strings"
	"testing"
)

func TestOtherTree(t *testing.T) {
	big := "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  items:\n" + strings.Repeat("  - a\n", maxOtherNodes)
	for _, tc := range []struct {
		name, doc string
		want      bool
	}{
		{"a small mapping", "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n", true},
		{"a top-level sequence (kyaml's accessors panic on it)", "- a\n- b\n- c\n", false},
		{"a scalar", "just text\n", false},
		{"a mapping over the node cap", big, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Docs[0].OtherTree() != nil; got != tc.want {
				t.Errorf("OtherTree() != nil is %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTypeMetaWithoutATree(t *testing.T) {
	s, err := Parse([]byte("apiVersion: kseal.dev/v1alpha1\nkind: SecretGenerator\nmetadata:\n  name: app\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := s.Docs[0]
	if d.Node() != nil {
		t.Fatal("a document kseal passes through got a tree")
	}
	if av, kind := d.TypeMeta(); av != SealedAPIVersion || kind != "SecretGenerator" {
		t.Errorf("TypeMeta() = %q, %q", av, kind)
	}
}
