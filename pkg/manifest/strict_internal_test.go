package manifest

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestCheckStrictNamesThePath: checkStrict's message names where it
// found what it refuses, through mappings (short ones, whose keys are
// compared, and long ones, whose keys go in a map) and sequences, after
// the path it was given.
func TestCheckStrictNamesThePath(t *testing.T) {
	long := func(dup string) string {
		var b strings.Builder
		for i := range 2 * shortMapping {
			fmt.Fprintf(&b, "k%d: v\n", i)
		}
		return b.String() + dup + ": v\n"
	}
	for _, tc := range []struct{ top, doc, want string }{
		{"", "a: {b: 1, b: 2}\n", "a.b: key given twice"},
		{"", "items:\n- a: 1\n- {a: 1, c: {d: 1, d: 2}}\n", "items[1].c.d: key given twice"},
		{"", "a:\n- - {x: 1}\n  - {x: 1, x: 2}\n", "a[0][1].x: key given twice"},
		{"", long("k7"), "k7: key given twice"},
		{"", "a: {" + strings.TrimSuffix(strings.ReplaceAll(long("k3"), "\n", ", "), ", ") + "}\n", "a.k3: key given twice"},
		{"", "a: [1, {<<: {b: 1}}]\n", "a[1].<<: merge keys (<<) are not supported"},
		{"", "a: [1, &x 2]\n", "a[1]: anchors and aliases"},
		{"", "&x {a: b}\n", "document: anchors and aliases"},
		{"items[3]", "a: {b: 1, b: 2}\n", "items[3].a.b: key given twice"},
		{"", "? [a]\n: b\n", "document: keys must be strings"},
		{"", "a: {? [a]\n : b}\n", "a: keys must be strings"},
	} {
		n, err := yaml.Parse(tc.doc)
		if err != nil {
			t.Fatalf("%q: %v", tc.doc, err)
		}
		err = checkStrict(n.YNode(), tc.top)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q under %q: %v, want %q", tc.doc, tc.top, err, tc.want)
		}
	}
	for _, ok := range []string{"a: {b: 1, c: 2}\n", long("other"), "a: [{x: 1}, {x: 1}]\n"} {
		n, err := yaml.Parse(ok)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkStrict(n.YNode(), ""); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
