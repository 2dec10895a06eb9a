package manifest

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var seqIndentCases = []string{
	"", "a: b\n", "a:\n- b\n", "a:\n  - b\n", "a:\n    - b\n", "- a\n- b\n", "a: b - c\n", "a:\n-\tb\n", "a:\n  -\n    b\n",
	"# - c\na:\n  - b\n", "a:\n# c\n  # d\n  - b\n", "a: # c\n  - b\n", "a: b:\n  - c\nd:\n- e\n", "x:\n  a:\n  - b\n", "x:\n  a:\n    - b\n",
	"a:\n\n  - b\nc:\n  - d\n", "a:\n   - b\nc:\n  - d\n", "#a:\n  - b\n", "  - a\n", "a:\n - b\n  - c\n", "a:  \n  - b\n", "a:\n  -  b\n", "a:\t\n  - b\n",
	"s:\n    - recipients:\n      - type: x\n", "a: '#':\n  - b\n", "a:\n  - b\n- c\n", "a: |\n  - b\n", "a:\n- b\nc:\n  - d\n", "kind: Secret\ndata:\n  k: LS0t\n", "a: x- \n", "a:\r\n  - b\r\n",
}

// TestSeqIndentStyleIsKyamls: seqIndentStyle gives what kyaml's
// DeriveSeqIndentStyle gives, for documents with sequences of each
// style, without, and with "- " elsewhere.
func TestSeqIndentStyleIsKyamls(t *testing.T) {
	cases := append([]string{}, seqIndentCases...)
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, string(b))
	}
	wide := 0
	for _, raw := range cases {
		got, want := seqIndentStyle(raw), yaml.DeriveSeqIndentStyle(raw)
		if got != want {
			t.Errorf("seqIndentStyle(%q) = %s, kyaml gives %s", raw, got, want)
		}
		if want == string(yaml.WideSequenceStyle) {
			wide++
		}
	}
	if wide == 0 {
		t.Error("no case is wide: the test tells nothing apart")
	}
}

// FuzzSeqIndentStyle: for any text, seqIndentStyle is kyaml's
// DeriveSeqIndentStyle.
func FuzzSeqIndentStyle(f *testing.F) {
	for _, s := range seqIndentCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if got, want := seqIndentStyle(raw), yaml.DeriveSeqIndentStyle(raw); got != want {
			t.Errorf("seqIndentStyle(%q) = %s, kyaml gives %s", raw, got, want)
		}
	})
}
