package yamlevents

import (
	"bytes"
	"cmp"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	yamlv3 "go.yaml.in/yaml/v3"
)

// decoded is the node tree yaml.v3's decoder gives for the first document
// of data, as kyaml's yaml.Parse asks it.
func decoded(data []byte) (*yamlv3.Node, error) {
	var n yamlv3.Node
	if err := yamlv3.NewDecoder(bytes.NewReader(data)).Decode(&n); err != nil {
		return nil, err
	}
	return &n, nil
}

// sameTree fails unless SummarizeTree's summary is Summarize's and its
// tree, where it builds one, is the decoder's, field by field. It reports
// whether it built one.
func sameTree(t *testing.T, name string, data []byte) bool {
	t.Helper()
	want, werr := Summarize(data)
	sum, tree, err := SummarizeTree(string(data), 1<<20, nil)
	if (err == nil) != (werr == nil) || !reflect.DeepEqual(sum, want) {
		t.Errorf("%s: SummarizeTree's summary %+v (%v), Summarize's %+v (%v)", name, sum, err, want, werr)
	}
	if tree == nil {
		return false
	}
	dec, derr := decoded(data)
	if derr != nil || !reflect.DeepEqual(tree, dec) {
		t.Errorf("%s: composed tree differs from yaml.v3's (%v):\n%s", name, derr, treeDiff(tree, dec, ""))
	}
	return true
}

// treeDiff names the first node where a and b differ.
func treeDiff(a, b *yamlv3.Node, path string) string {
	switch {
	case a == nil || b == nil:
		return path + ": one is nil"
	case a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Style != b.Style || a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content):
		return path + ": " + strings.NewReplacer("\n", " ").Replace(
			"composed "+nodeString(a)+" decoded "+nodeString(b))
	}
	for i := range a.Content {
		if d := treeDiff(a.Content[i], b.Content[i], path+"/"+a.Content[i].Value); d != "" {
			return d
		}
	}
	if !reflect.DeepEqual(a, b) {
		return path + ": other fields"
	}
	return ""
}

func nodeString(n *yamlv3.Node) string {
	return strings.Join([]string{n.Tag, n.Value, string(rune('0' + n.Kind)), string(rune('0' + n.Style)), string(rune('0' + n.Line)), string(rune('0' + n.Column))}, ",")
}

// TestComposedTreeIsYAMLs: the tree SummarizeTree builds is yaml.v3's, for
// what kseal reads most (which it must build) and for every kind of
// scalar, tag and style; and it builds none where the decoder would place
// comments, anchors or aliases, or where there are too many nodes.
func TestComposedTreeIsYAMLs(t *testing.T) {
	builds := map[string]string{
		"Secret":         "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: n\nstringData:\n  a: b\n",
		"flow":           "{apiVersion: v1, kind: Secret, data: {a: [1, 2]}}\n",
		"JSON":           `{"apiVersion": "v1", "kind": "Secret", "data": {"a": "YQ=="}, "n": 1.5, "b": true, "z": null}`,
		"scalars":        "a: 1\nb: 1.5\nc: true\nd: null\ne: ~\nf: 2001-12-14\ng: 0x1F\nh: 0o17\ni: 0b101\nj: .inf\nk: -.Inf\nl: yes\nm: \"1\"\nn: '2'\no: |\n  lit\np: >\n  fold\nq: 1_000\nr: +1\ns: 1e5\n",
		"tags":           "a: !!str 1\nb: !!binary YQ==\nc: !custom x\nd: !<tag:yaml.org,2002:int> 3\ne: ! x\nf: !!map {a: b}\ng: !!seq [a]\n",
		"directive":      "%TAG !e! tag:example.com,2000:\n---\na: !e!x b\n",
		"merge key":      "a: {b: c}\n<<: {d: e}\n",
		"explicit start": "---\na: b\n...\n",
		"complex key":    "? [a, b]\n: c\n? {d: e}\n: f\n",
		"sequence root":  "- a\n- {b: c}\n- [d]\n",
		"scalar root":    "just text\n",
		"empty values":   "a:\nb: []\nc: {}\nd: ''\n",
		"CRLF":           "a: b\r\nc:\r\n- d\r\n",
		"unicode":        "a: é\nb: \"\\u00e9\"\n",
		"multiline":      "a: b\n  c\nd: \"e\n  f\"\n",
		"indented seq":   "a:\n  - b\n  - c: d\n    e: f\n",
	}
	for name, text := range builds {
		if !sameTree(t, name, []byte(text)) {
			t.Errorf("%s: no tree built", name)
		}
	}
	for name, text := range map[string]string{
		"head comment":    "# c\na: b\n",
		"line comment":    "a: b # c\n",
		"foot comment":    "a: b\n\n# c\n",
		"comment in list": "a:\n- b\n# c\n- d\n",
		"anchor":          "a: &x b\n",
		"alias":           "a: &x b\nc: *x\n",
		"two documents":   "a: b\n---\nc: d\n",
		"empty":           "",
		"only a comment":  "# c\n",
		"many comments":   "a: b\n" + strings.Repeat("k: v\n# c\n\n", 200),
		"comments at end": "a: b\n" + strings.Repeat("# c\n", 200),
	} {
		if sameTree(t, name, []byte(text)) {
			t.Errorf("%s: a tree was built", name)
		}
	}
	if _, tree, _ := SummarizeTree("a: [1, 2, 3]\n", 5, nil); tree != nil {
		t.Error("6 nodes built with a cap of 5")
	}
	if _, tree, _ := SummarizeTree("a: [1, 2, 3]\n", 6, nil); tree == nil {
		t.Error("6 nodes not built with a cap of 6")
	}

	secrets := func(h Header) bool { return h.Kind == "Secret" }
	for text, want := range map[string]bool{
		"apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n":    true,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n": false,
		"kind: ConfigMap\nmetadata: {name: a}\n":                 true, // no apiVersion: not known
		"metadata: {name: a}\napiVersion: v1\nkind: ConfigMap\n": false,
		"- apiVersion: v1\n  kind: ConfigMap\n":                  true, // not a root mapping
		// A document that has not said what it is by unknownMax nodes is
		// left to the parser.
		"data:\n" + strings.Repeat("  k: v\n", unknownMax/2) + "kind: Secret\napiVersion: v1\n":   false,
		"data:\n" + strings.Repeat("  k: v\n", unknownMax/2-4) + "kind: Secret\napiVersion: v1\n": true,
	} {
		if _, tree, _ := SummarizeTree(text, 1<<20, secrets); (tree != nil) != want {
			t.Errorf("%.60q (%d bytes): tree built %v, want %v", text, len(text), tree != nil, want)
		}
	}

	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "*", "*.yaml"))
	built := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(b), "\n---\n") {
			if sameTree(t, f, []byte(doc)) {
				built++
			}
		}
	}
	if built == 0 {
		t.Error("no tree built for a golden document: the test compares nothing")
	}
}

// FuzzComposedTree: for any text, SummarizeTree summarizes as Summarize
// does, and any tree it builds is yaml.v3's.
func FuzzComposedTree(f *testing.F) {
	for _, s := range []string{
		"a: b\n", "a: [1, {b: c}]\n", "a: !!str 1\nb: '2'\nc: |\n  d\n", "- a\n- b: c\n", "? [a]\n: b\n",
		"a: b # c\n", "a: &x b\nc: *x\n", "%TAG !e! tag:e,2000:\n---\na: !e!x b\n", "a: 2001-12-14\nb: 0x1F\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			return
		}
		sameTree(t, "fuzz", []byte(text))
	})
}

// TestComposedValuesShareTheText: a plain or simply quoted value is the
// document's own bytes, not a copy (a sealed document is mostly values);
// one with an escape is a copy, and right.
func TestComposedValuesShareTheText(t *testing.T) {
	text := "apiVersion: v1\nkind: Secret\ndata:\n  a: QUJD\n  b: \"REVG\"\n  c: 'R0hJ'\n  d: \"a\\tb\"\n"
	_, tree, err := SummarizeTree(text, 1<<20, nil)
	if err != nil || tree == nil {
		t.Fatalf("no tree: %v", err)
	}
	inText := func(s string) bool {
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(text)))
		return lo <= p && p+uintptr(len(s)) <= lo+uintptr(len(text))
	}
	data := tree.Content[0].Content[5].Content
	for i, want := range []struct {
		value  string
		shared bool
	}{{"QUJD", true}, {"REVG", true}, {"R0hJ", true}, {"a\tb", false}} {
		v := data[2*i+1].Value
		if v != want.value || inText(v) != want.shared {
			t.Errorf("value %d: %q, shared %v; want %q, shared %v", i, v, inText(v), want.value, want.shared)
		}
	}
}

// resolveTagCases: every first byte, every word resolveMap knows, and
// scalars of each kind resolve tells apart (numbers in each base and
// form, floats, timestamps, the merge key), each also cut short and
// run on.
func resolveTagCases() []string {
	cases := []string{"", "<<", "=", "+", "-", ".", "..", "-.", "+.inf", ".nan", ".NaN", "-.Inf", "1", "-1", "+1", "0x1F", "0o17", "0b101", "017",
		"1_000", "1.5", "1e3", "-1.5e-3", ".5", "5.", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "1:20",
		"9223372036854775808", "-9223372036854775809", "18446744073709551616", "0x", "-0x1", "+0b1", "1__0", "_1", "nan", "Yes", "NO", "off"}
	for k := range resolveMap {
		cases = append(cases, k)
	}
	for c := range 256 {
		cases = append(cases, string(rune(c)), string([]byte{byte(c)}), string([]byte{byte(c), 'x'}), string([]byte{byte(c), '1'}))
	}
	for _, s := range cases[:len(cases):len(cases)] {
		cases = append(cases, s+"x", s+"0", s+" ", "x"+s)
	}
	return cases
}

// TestResolveTagIsResolves: resolveTag gives every scalar the tag
// resolve gives it.
func TestResolveTagIsResolves(t *testing.T) {
	for _, v := range resolveTagCases() {
		if got, want := resolveTag(v), resolveTagOf(v); got != want {
			t.Errorf("resolveTag(%q) = %s, resolve gives %s", v, got, want)
		}
	}
}

// FuzzResolveTag: for any scalar, resolveTag is resolve's tag.
func FuzzResolveTag(f *testing.F) {
	for _, v := range resolveTagCases() {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := resolveTag(v), resolveTagOf(v); got != want {
			t.Errorf("resolveTag(%q) = %s, resolve gives %s", v, got, want)
		}
	})
}

func resolveTagOf(v string) string {
	tag, _ := resolve("", v)
	return tag
}

// TestSlabTreeGrowsApart: a tree of a document fastEvents reads has its
// nodes and their Content from one slab each (composer.slabs). Each
// Content is capped at its length, so that a node given another child
// (kyaml's SetField appends) never writes over the next node's: after one
// appended to every collection, the tree is yaml.v3's with the same
// appends.
func TestSlabTreeGrowsApart(t *testing.T) {
	for _, text := range []string{sealedDoc, "a:\n  b: c\n  d:\n  - e\n  - f\ng: h\n"} {
		_, tree, err := SummarizeTree(text, 1<<20, nil)
		if err != nil || tree == nil {
			t.Fatalf("no tree: %v", err)
		}
		want, err := decoded([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		var grow func(n *yamlv3.Node)
		grow = func(n *yamlv3.Node) {
			for _, k := range n.Content {
				grow(k)
			}
			if n.Kind == yamlv3.MappingNode || n.Kind == yamlv3.SequenceNode {
				n.Content = append(n.Content, &yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!str", Value: "added"})
			}
		}
		grow(tree)
		grow(want)
		if d := treeDiff(tree, want, ""); d != "" {
			t.Errorf("%.30q: %s", text, d)
		}
	}
}

// TestSlabTreeIsTwoArrays: the tree of a sealed object read by
// fastEvents takes its nodes, once keep has taken its header, from one
// array, and every collection's Content from one other, each piece right
// after the one before (composer.slabs). A node allocated alone again
// (composer.node) or a Content of its own (composer.close) fails it. (By
// addresses, not by counting allocations: under the race detector
// sync.Pool drops what it is given, and the reader's memory with it.)
func TestSlabTreeIsTwoArrays(t *testing.T) {
	keep := func(h Header) bool { return h.Kind == "SealedSecret" }
	_, tree, err := SummarizeTree(sealedDoc, 1<<20, keep)
	if err != nil || tree == nil {
		t.Fatalf("no tree: %v", err)
	}
	var nodes []uintptr
	type piece struct{ at, n uintptr }
	var contents []piece
	var walk func(n *yamlv3.Node)
	walk = func(n *yamlv3.Node) {
		nodes = append(nodes, uintptr(unsafe.Pointer(n)))
		if len(n.Content) > 0 && n.Kind != yamlv3.DocumentNode {
			contents = append(contents, piece{uintptr(unsafe.Pointer(&n.Content[0])), uintptr(len(n.Content))})
		}
		for _, k := range n.Content {
			walk(k)
		}
	}
	walk(tree)
	// The document, its root mapping, and apiVersion and kind with their
	// values come before keep has the header.
	const before = 6
	slices.Sort(nodes)
	run, best := 1, 1
	for i := 1; i < len(nodes); i++ {
		if nodes[i]-nodes[i-1] == unsafe.Sizeof(yamlv3.Node{}) {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	if len(nodes) < 40 || best != len(nodes)-before {
		t.Errorf("%d nodes, %d of them one after another in memory; want all but %d", len(nodes), best, before)
	}
	slices.SortFunc(contents, func(a, b piece) int { return cmp.Compare(a.at, b.at) })
	ptr := unsafe.Sizeof((*yamlv3.Node)(nil))
	for i := 1; i < len(contents); i++ {
		if prev := contents[i-1]; contents[i].at != prev.at+prev.n*ptr {
			t.Fatalf("Content %d of %d does not follow the one before in memory", i, len(contents))
		}
	}
}
