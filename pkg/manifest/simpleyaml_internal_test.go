package manifest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var seqStyles = []string{string(yaml.CompactSequenceStyle), string(yaml.WideSequenceStyle)}

// sameAsYAML fails unless writeSimple, where it writes n at all, writes the
// bytes yaml.v3 writes, for both sequence indent styles. It reports
// whether writeSimple wrote n.
func sameAsYAML(t *testing.T, name string, n *yaml.Node) bool {
	t.Helper()
	wrote := false
	for _, seq := range seqStyles {
		want, err := encodeTree(n, seq)
		got, ok := writeSimple(n, seq)
		if !ok {
			continue
		}
		wrote = true
		if err != nil || got != want {
			t.Errorf("%s (%s): writeSimple wrote\n%s\nyaml.v3 writes\n%s(%v)", name, seq, got, want, err)
		}
		root := n
		if root.Kind == yaml.DocumentNode {
			root = root.Content[0]
		}
		if size, ok := simpleSize(root, 0); !ok || len(got) > size {
			t.Errorf("%s (%s): writeSimple wrote %d bytes, over simpleSize's %d", name, seq, len(got), size)
		}
	}
	return wrote
}

func str(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: v}
}

// doc is a document whose mapping holds v under "a", in a sequence under
// "b", and as the second key of a sequence's mapping under "c".
func doc(v *yaml.Node) *yaml.Node {
	c1, c2 := *v, *v
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: []*yaml.Node{
		str("a"), v,
		str("b"), {Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq, Content: []*yaml.Node{str("x"), &c1}},
		str("c"), {Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: []*yaml.Node{
			str("k"), str("v"), str("d"), &c2,
		}}}},
	}}}}
}

// TestSimpleTreesEncodeAsYAMLDoes: what writeSimple writes is what yaml.v3
// writes, for the documents kseal writes most (which it must take) and for
// every rule it has (each case breaks one, and would differ without it).
func TestSimpleTreesEncodeAsYAMLDoes(t *testing.T) {
	takes := map[string]string{
		"plain Secret":  "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s1\n  namespace: bench\ndata:\n  password: cHctMS05ZTM3NzliMQ==\n  url: 7G9zdGdyZXM6Ly9kYjEuZXhhbXBsZTo1NDMyL2FwcA==\n",
		"SealedSecret":  "apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s1\nspec:\n  encryptedData:\n    a: AGLegFlQB+QO5fhumFjAyXIBycquc3Oo4Q+Bx8TB4k3eVC10uyoq5mBN/nBMJcTbtZLwpKvh\n  envelope:\n    version: 2\n    scope: strict\n    sections:\n    - recipients:\n      - type: x25519\n        keyID: 1e247021357f219c\n        data: YWdl\n      - type: x25519\n        keyID: 2e247021357f219c\n      mac: 9q7TCDdyIt0aV2ckxjNt9t4XsRGiS4C91FaZQ4h39oA=\n    - recipients:\n      - type: a\n    immutable: true\n",
		"sequences":     "a:\n- b\n- c:\n    d: e\n  f:\n  - g\n  - h: i\n    j: k\nl: m\n",
		"digit first":   "a: 7abc/def+g=\nb: 0g\nc: 1-2-3g\nd: 1e247021357f219c\ne: 0abc\n",
		"max key":       strings.Repeat("k", simpleKeyMax) + ": v\n",
		"inner symbols": "a: b-c.d_e/f+g=h\n",
		"base64 firsts": "a: /Sa5lQ62KhMBRkFu/mJVSprEgOt6jxv3x4UsBrbs/00=\nb: +Sa5lQ62KhM=\nc: +abc\nd: +1e2x\n",
	}
	for name, text := range takes {
		n, err := yaml.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !sameAsYAML(t, name, n.Document()) {
			t.Errorf("%s: writeSimple did not take it", name)
		}
	}

	// Each breaks one rule; yaml.v3 writes them otherwise than bare.
	refuses := map[string]string{
		"comment":              "a: b # c\n",
		"head comment":         "# c\na: b\n",
		"foot comment":         "a: b\n# c\n",
		"double quoted":        "a: \"b\"\n",
		"single quoted":        "a: 'b'\n",
		"literal":              "a: |\n  b\n",
		"flow mapping":         "a: {b: c}\n",
		"flow sequence":        "a: [b]\n",
		"empty mapping":        "a: {}\n",
		"empty sequence":       "a: []\n",
		"sequence in sequence": "a:\n- - b\n",
		"anchor":               "a: &x b\nc: *x\n",
		"tag":                  "a: !!binary YQ==\n",
		"null":                 "a:\n",
		"long key":             strings.Repeat("k", simpleKeyMax+1) + ": v\n",
		"float":                "a: 1.5\n",
		"top sequence":         "- a\n",
		"space":                "a: b c\n",
		"colon":                "a: b:c\n",
		"dash first":           "a: -b\n",
		"non-ASCII":            "a: é\n",
	}
	for name, text := range refuses {
		n, err := yaml.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sameAsYAML(t, name, n.Document()) {
			t.Errorf("%s: writeSimple took it", name)
		}
	}

	// Trees kseal builds itself: tags on values a parser would tag
	// otherwise. Each is written quoted or tagged by yaml.v3.
	for name, v := range map[string]*yaml.Node{
		"!!str true":      str("true"),
		"!!str False":     str("False"),
		"!!str NULL":      str("NULL"),
		"!!str yes":       str("yes"),
		"!!str digits":    str("123"),
		"!!str exponent":  str("1e5"),
		"!!str hex":       str("0x1F"),
		"!!str octal":     str("0o17"),
		"!!str binary":    str("0b101"),
		"!!str hex float": str("0x1p-2"),
		"!!str date":      str("2001-12-14"),
		"!!str float":     str("6.8523015e+5"),
		"!!int leading 0": {Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: "012"},
		"!!int letters":   {Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: "abc"},
		"!!bool yes":      {Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: "yes"},
		"!!float":         {Kind: yaml.ScalarNode, Tag: yaml.NodeTagFloat, Value: "1"},
		"!!map on scalar": {Kind: yaml.ScalarNode, Tag: yaml.NodeTagMap, Value: "a"},
		"tagged style":    {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Style: yaml.TaggedStyle, Value: "a"},
		"flow style":      {Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Style: yaml.FlowStyle, Value: "a"},
		"empty":           str(""),
		"alias":           {Kind: yaml.AliasNode, Value: "x"},
		"empty mapping":   {Kind: yaml.MappingNode, Tag: yaml.NodeTagMap},
		"empty sequence":  {Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq},
		"!!str 2^64":      str("18446744073709551616"),
		"!!str 1_":        str("1_"),
		"!!str 1_e5":      str("1_e5"),
		"!!str +_1":       str("+_1"),
		"!!str 0_x1":      str("0_x1"),
		"!!str +.inf":     str("+.inf"),
		"!!str +.Inf":     str("+.Inf"),
		"!!str +5":        str("+5"),
		"!!str +1e5":      str("+1e5"),
		"!!str 1.":        str("1."),
	} {
		if sameAsYAML(t, name, doc(v)) {
			t.Errorf("%s: writeSimple took it", name)
		}
	}
	emptySeq := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: []*yaml.Node{
		str("a"), {Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq},
	}}}}
	if sameAsYAML(t, "empty sequence, block style", emptySeq) {
		t.Error("empty sequence, block style: writeSimple took it")
	}
	for name, v := range map[string]*yaml.Node{
		"!!int":          {Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: "42"},
		"!!bool":         {Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: "false"},
		"untagged":       {Kind: yaml.ScalarNode, Value: "abc"},
		"digit, letter":  str("4h"),
		"dotted version": str("v1.2.3"),
	} {
		if !sameAsYAML(t, name, doc(v)) {
			t.Errorf("%s: writeSimple did not take it", name)
		}
	}

	// Every golden document of the package.
	took := 0
	for _, g := range goldenTrees(t) {
		if sameAsYAML(t, g.file, g.n) {
			took++
		}
	}
	if took == 0 {
		t.Error("writeSimple took no golden document: the test compares nothing")
	}
}

// bareAll strips every style and comment of n, so that the fuzzer's
// scalars reach writeSimple's rules.
func bareAll(n *yaml.Node) {
	n.Style, n.HeadComment, n.LineComment, n.FootComment = 0, "", "", ""
	for _, c := range n.Content {
		bareAll(c)
	}
}

// FuzzSimpleTrees: any YAML text, as parsed and with its styles and
// comments stripped, is written by writeSimple as yaml.v3 writes it, or
// left to yaml.v3.
func FuzzSimpleTrees(f *testing.F) {
	for _, s := range []string{
		"a: b\n", "a:\n- b\n- c: d\n  e: f\n", "a: 'true'\nb: \"123\"\nc: 1e5\n", "a: {b: c}\n", "a: 0x1F\nb: 2001-12-14\n",
		"a: !!int 3\nb: !!bool true\nc: !!str 4\n", "a: b # c\n", "- a\n", "? [a]\n: b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			return
		}
		n, err := yaml.Parse(text)
		if err != nil {
			return
		}
		sameAsYAML(t, "fuzz", n.Document())
		bareAll(n.Document())
		sameAsYAML(t, "fuzz, bare", n.Document())
	})
}

// TestSimpleNumberLikeStrings: every string of one to three bytes of the
// characters numbers, dates and YAML's special floats are made of, as a
// !!str value and as a key, is written as yaml.v3 writes it. (An
// independent review found "1_" written plain, which yaml.v3 and kubectl
// read as the number 1.)
func TestSimpleNumberLikeStrings(t *testing.T) {
	const alphabet = "0129_+-.eExXoObBpPinfIN:/="
	var all []string
	for _, a := range alphabet {
		all = append(all, string(a))
		for _, b := range alphabet {
			all = append(all, string(a)+string(b))
			for _, c := range alphabet {
				all = append(all, string(a)+string(b)+string(c))
			}
		}
	}
	for _, v := range all {
		sameAsYAML(t, v, &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: []*yaml.Node{
			str("a"), str(v), str(v), str("b"),
		}}}})
	}
}

// TestSimpleSizeOfDeepFlow: a tree writeSimple does not write is not
// sized first. Flow collections nest without indentation, so a small
// file can hold many scalars deep down; sizing them before the shape was
// checked asked for gigabytes (an independent review's file of 118 KB
// made one request of 1.8 GB, and kseal seal died of it).
func TestSimpleSizeOfDeepFlow(t *testing.T) {
	const depth, scalars = 2000, 5000
	var keys strings.Builder
	for i := range scalars {
		fmt.Fprintf(&keys, "k%d: v, ", i)
	}
	for name, text := range map[string]string{
		"sequences": "a: " + strings.Repeat("[", depth) + strings.Repeat("b, ", scalars) + strings.Repeat("]", depth) + "\n",
		"mappings":  "a: " + strings.Repeat("{b: ", depth) + "{" + keys.String() + "}" + strings.Repeat("}", depth) + "\n",
	} {
		n, err := yaml.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, ok := simpleSize(n.YNode(), 0); ok {
			t.Errorf("%s: simpleSize sized a flow collection", name)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, ok := writeSimple(n.Document(), "compact")
		runtime.ReadMemStats(&after)
		if ok {
			t.Errorf("%s: writeSimple took a flow collection", name)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: writeSimple allocated %d bytes for a tree it does not write (%d bytes of text)", name, grew, len(text))
		}
	}
}
