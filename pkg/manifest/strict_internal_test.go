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

// checkStrictWalk is checkStrict as it was before it built paths only
// for errors (c0016f9): a map of each mapping's keys, and every path
// built on the way down. FuzzCheckStrictIsTheWalk holds checkStrict to
// it, so that a change to this check stays the check it was.
func checkStrictWalk(n *yaml.Node, path string) error {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return fmt.Errorf("%s: anchors and aliases are not supported in Secrets", orTop(path))
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			if err := checkStrictWalk(c, p); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: keys must be strings", orTop(path))
			}
			p := joinField(path, k.Value)
			if k.Tag == "!!merge" || k.Value == "<<" {
				return fmt.Errorf("%s: merge keys (<<) are not supported in Secrets", p)
			}
			if seen[k.Value] {
				return fmt.Errorf("%s: key given twice", p)
			}
			seen[k.Value] = true
			if err := checkStrictWalk(n.Content[i+1], p); err != nil {
				return err
			}
		}
	}
	return nil
}

// FuzzCheckStrictIsTheWalk: for any YAML, checkStrict refuses what the
// old walk refuses, with the same message, under any top path.
func FuzzCheckStrictIsTheWalk(f *testing.F) {
	for _, s := range seqIndentCases {
		f.Add(s, "")
	}
	for _, s := range []string{"a: {b: 1, b: 2}\n", "items:\n- {a: 1, c: {d: 1, d: 2}}\n", "a: [1, {<<: {b: 1}}]\n", "a: [1, &x 2]\n", "? [a]\n: b\n",
		"{k0: v, k1: v, k2: v, k3: v, k4: v, k5: v, k6: v, k7: v, k8: v, k9: v, k10: v, k11: v, k12: v, k13: v, k14: v, k15: v, k16: v, k3: v}\n"} {
		f.Add(s, "items[3]")
	}
	f.Fuzz(func(t *testing.T, doc, top string) {
		if len(doc) > 4096 {
			return
		}
		n, err := yaml.Parse(doc)
		if err != nil {
			return
		}
		got, want := checkStrict(n.YNode(), top), checkStrictWalk(n.YNode(), top)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q under %q: %v; the old walk: %v", doc, top, got, want)
		}
	})
}
