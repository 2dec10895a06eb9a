package manifest

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// FuzzNodeAtIsKyamlLookup: nodeAt finds the node kyaml's Lookup finds, and
// fails where it fails, over the paths kseal looks up. Guard: each case
// of nodeAt (the null step, the kind check, the first of repeated keys).
func FuzzNodeAtIsKyamlLookup(f *testing.F) {
	for _, s := range []string{
		"spec:\n  envelope: {version: 2}\n  template: {metadata: {labels: {a: b}}}\n",
		"spec: ~\nmetadata: 3\n",
		"spec: [a]\ndata: {a: 1, a: 2}\n",
		"spec: {template: null, encryptedData: {}}\n",
		"metadata: {labels: !!null x}\n",
	} {
		f.Add(s)
	}
	paths := [][]string{{"spec", "envelope"}, {"spec", "template", "metadata", "labels"}, {"metadata"}, {"data"},
		{"metadata", "labels"}, {"spec", "encryptedData"}, {"spec", "template", "type"}, {"a"}, {}}
	f.Fuzz(func(t *testing.T, text string) {
		n, err := yaml.Parse(text)
		if err != nil {
			return
		}
		for _, p := range paths {
			want, werr := n.Pipe(yaml.Lookup(p...))
			got, gerr := nodeAt(n, p...)
			if (werr != nil) != (gerr != nil) || (werr != nil && werr.Error() != gerr.Error()) {
				t.Fatalf("%q %v: error %v, kyaml's %v", text, p, gerr, werr)
			}
			if want.IsNil() != got.IsNil() || (!want.IsNil() && want.YNode() != got.YNode()) {
				t.Fatalf("%q %v: found %v, kyaml %v", text, p, got, want)
			}
		}
	})
}
