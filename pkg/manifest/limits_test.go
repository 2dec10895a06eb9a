package manifest

import (
	"strings"
	"testing"
)

func TestParseLimits(t *testing.T) {
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns}\n"
	for _, tc := range []struct {
		name, in, err string
	}{
		{"many small Secrets exceed the node budget", strings.Repeat("---\n"+secret+"data: {a: YQ==}\n", 8000), "more YAML nodes than kseal reads"},
		{"a huge Secret exceeds the per-document cap", secret + "x: [" + strings.Repeat("a,", MaxNodesPerDocument) + "a]\n", "YAML nodes, more than the"},
		{"aliases in a Secret", secret + "a: &a [1]\nb: *a\n", "anchors and aliases are not supported"},
		{"a document hidden on a separator line", "kind: ConfigMap\n--- " + "{apiVersion: v1, kind: Secret, stringData: {a: b}}\n", "holds 2 YAML documents"},
		{"kind given twice", "apiVersion: v1\nkind: ConfigMap\nkind: Secret\n", "apiVersion or kind appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want %q", err, tc.err)
			}
		})
	}
}

// A large document kseal does not work on is never parsed into a tree,
// and passes through byte for byte.
func TestParsePassesLargeOtherDocumentsAsText(t *testing.T) {
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {x: [" + strings.Repeat("a,", 2*MaxNodesPerDocument) + "a]}\n"
	s, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.Docs[0].node != nil || s.Docs[0].Kind != KindOther {
		t.Fatalf("a ConfigMap was parsed into a tree")
	}
	out, err := s.Bytes()
	if err != nil || string(out) != in {
		t.Fatalf("not passed through: %v", err)
	}
}
