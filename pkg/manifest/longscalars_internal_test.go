package manifest

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// sameEncoding fails unless n encodes to the same bytes through stand-ins,
// and through encodeYAML's fast paths (writeSimple first), as yaml.v3
// writes it, for both sequence indent styles, and is left as it was. It
// returns how many long scalars n has.
func sameEncoding(t *testing.T, name string, n *yaml.Node) int {
	t.Helper()
	count := 0
	if s := swapLongScalars(n); s != nil {
		count = len(s.nodes)
		s.restore()
	}
	for _, seq := range []string{string(yaml.CompactSequenceStyle), string(yaml.WideSequenceStyle)} {
		want, werr := encodeYAML(n, seq, false)
		got, gerr := encodeYAML(n, seq, true)
		if (werr == nil) != (gerr == nil) || got != want {
			t.Errorf("%s (%s): with stand-ins\n%s(%v)\nyaml.v3 writes\n%s(%v)", name, seq, got, gerr, want, werr)
		}
		if text, ok := encodeStandIns(n, seq); count > 0 && werr == nil && !ok {
			t.Errorf("%s (%s): the stand-ins did not come out once each", name, seq)
		} else if ok && text != want {
			t.Errorf("%s (%s): with stand-ins\n%s\nyaml.v3 writes\n%s", name, seq, text, want)
		}
		if again, _ := encodeYAML(n, seq, false); again != want {
			t.Errorf("%s: encoding with stand-ins changed the tree", name)
		}
	}
	return count
}

// longB64 is n bytes of base64 text, a letter first unless digitFirst.
func longB64(n int, digitFirst bool) string {
	b := make([]byte, n)
	rand.Read(b)
	s := base64.StdEncoding.EncodeToString(b)
	if digitFirst {
		return "7" + s[1:]
	}
	return "Q" + s[1:]
}

// TestLongScalarsEncodeAsYAMLDoes: documents with long base64 values in
// every place and style, and every golden document of the package, encode
// to the bytes yaml.v3 writes for them.
func TestLongScalarsEncodeAsYAMLDoes(t *testing.T) {
	long := func() string { return longB64(300, false) }
	cases := map[string]string{
		"block mapping":       "a: LONG\nb: LONG\n",
		"block sequence":      "a:\n- LONG\n- short\n- LONG\n",
		"nested":              "spec:\n  envelope:\n    sections:\n    - recipients:\n      - data: LONG\n        keyID: ab\n      mac: LONG\n",
		"double quoted":       "a: \"LONG\"\nb: 'LONG'\n",
		"literal and folded":  "a: |\n  LONG\nb: >\n  LONG\n",
		"flow mapping":        "a: {b: LONG, c: LONG, d: e}\nf: LONG\n",
		"flow sequence":       "a: [LONG, LONG, x]\n",
		"comments":            "# head\na: LONG # line\n# foot\nb:\n  # head\n  - LONG # line\n",
		"long key":            "LONG: LONG\n",
		"complex key":         "? [LONG]\n: LONG\n",
		"anchor and alias":    "a: &x LONG\nb: *x\n",
		"tags":                "a: !!str LONG\nb: !!binary LONG\nc: !custom LONG\n",
		"digit first":         "a: DIGIT\n",
		"all digits":          "a: 1234567890123456789012345678901234567890123456789012345678901234567890\nb: 1234567890123456789012345678901234567890123456789012345678901234567890e5\n",
		"stand-in look-alike": "a: LONG\nb: kseal0011223344556677x0x\n# kseal\n",
		"in a list":           "apiVersion: v1\nkind: List\nitems:\n- data: {a: LONG}\n- data:\n    a: LONG\n",
	}
	for name, text := range cases {
		for strings.Contains(text, "LONG") {
			text = strings.Replace(text, "LONG", long(), 1)
		}
		text = strings.ReplaceAll(text, "DIGIT", longB64(300, true))
		n, err := yaml.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sameEncoding(t, name, n.Document())
	}

	// Trees kseal builds itself, beyond what a parser gives.
	num := strings.Repeat("1234567890", 7)
	for name, n := range map[string]*yaml.Node{
		"!!str digits":      {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: num},
		"untagged digits":   {Kind: yaml.ScalarNode, Value: num},
		"!!float digits":    {Kind: yaml.ScalarNode, Tag: yaml.NodeTagFloat, Value: num + "e5"},
		"!!int letters":     {Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: long()},
		"!!str true":        {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: "true"},
		"!!str yes":         {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: "yes"},
		"!!str Null":        {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: "Null"},
		"colon space":       {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: long() + ": " + long()},
		"space hash":        {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: long() + " #" + long()},
		"line break":        {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: long() + "\n" + long()},
		"quote":             {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Style: yaml.DoubleQuotedStyle, Value: long() + "\"" + long()},
		"!!binary":          {Kind: yaml.ScalarNode, Tag: "!!binary", Value: long()},
		"literal, no break": {Kind: yaml.ScalarNode, Style: yaml.LiteralStyle, Value: long()},
		"folded, no break":  {Kind: yaml.ScalarNode, Style: yaml.FoldedStyle, Value: long()},
		"tagged style":      {Kind: yaml.ScalarNode, Style: yaml.TaggedStyle, Tag: yaml.NodeTagString, Value: long()},
		"flow style":        {Kind: yaml.ScalarNode, Style: yaml.FlowStyle, Value: long()},
		"double quoted":     {Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Tag: yaml.NodeTagString, Value: long()},
		"single quoted":     {Kind: yaml.ScalarNode, Style: yaml.SingleQuotedStyle, Value: long()},
	} {
		c1, c2 := *n, *n
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: "a"}, n,
			{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: "b"}, {Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq, Content: []*yaml.Node{&c1}},
			{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: "c"}, {Kind: yaml.MappingNode, Style: yaml.FlowStyle, Tag: yaml.NodeTagMap, Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: "d"}, &c2,
				{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: "e"}, {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: "f"}}},
		}}
		if got, want := sameEncoding(t, name, &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}), map[bool]int{true: 3}[longScalar(n)]; got != want {
			t.Errorf("%s: %d long scalars, want %d", name, got, want)
		}
	}

	swapped := 0
	for _, g := range goldenTrees(t) {
		swapped += sameEncoding(t, g.file, g.n)
	}
	if swapped == 0 {
		t.Error("no golden document has a long scalar: the test compares nothing")
	}
}

// FuzzLongScalars: any YAML text, with LONG standing for a long base64
// value, encodes with stand-ins to what yaml.v3 writes.
func FuzzLongScalars(f *testing.F) {
	for _, s := range []string{
		"a: LONG\n", "a: [LONG, b]\n", "a:\n- LONG\n- {b: LONG}\n", "a: 'LONG' # c\n", "LONG: LONG\n",
		"a: !!str LONG\nb: &x LONG\nc: *x\n", "a: |\n  LONG\n", "- - LONG\n  - LONG\n",
	} {
		f.Add(s, uint16(100), false)
	}
	f.Fuzz(func(t *testing.T, text string, size uint16, digitFirst bool) {
		if strings.Count(text, "LONG") > 20 || len(text) > 4096 {
			return
		}
		v := longB64(int(size%2048)+48, digitFirst)
		n, err := yaml.Parse(strings.ReplaceAll(text, "LONG", v))
		if err != nil {
			return
		}
		sameEncoding(t, "fuzz", n.Document())
	})
}

// TestStandInsFill: the output is taken only when every stand-in is in it
// exactly once, with an index it was given.
func TestStandInsFill(t *testing.T) {
	n := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "a"}, {Kind: yaml.ScalarNode, Value: longB64(100, false)},
		{Kind: yaml.ScalarNode, Value: "b"}, {Kind: yaml.ScalarNode, Value: longB64(100, false)},
	}}}}
	s := swapLongScalars(n)
	defer s.restore()
	a, b := n.Content[0].Content[1].Value, n.Content[0].Content[3].Value
	if got, ok := s.fill("a: " + a + "\nb: " + b + "\n"); !ok || got != "a: "+s.values[0]+"\nb: "+s.values[1]+"\n" {
		t.Fatalf("fill = %q, %v", got, ok)
	}
	for name, text := range map[string]string{
		"one missing":  "a: " + a + "\n",
		"none":         "a: x\n",
		"twice":        a + a + b,
		"unknown":      a + b + standInNonce() + "7x",
		"not a number": a + b + standInNonce() + "zx",
		"unterminated": a + b + standInNonce() + "1",
	} {
		if got, ok := s.fill(text); ok {
			t.Errorf("%s: fill took %q", name, got)
		}
	}
}

// goldenTree is the tree of a document of a golden file the package reads.
type goldenTree struct {
	file string
	n    *yaml.Node
}

// goldenTrees parses every golden file of the package (skipping those it
// refuses) and returns the trees of their documents.
func goldenTrees(t *testing.T) []goldenTree {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	var trees []goldenTree
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(b)
		if err != nil {
			continue // golden inputs the package refuses
		}
		for _, d := range s.Docs {
			if d.node != nil && !d.isItem() {
				trees = append(trees, goldenTree{f, d.node.Document()})
			}
		}
	}
	return trees
}
