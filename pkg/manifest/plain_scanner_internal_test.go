package manifest

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	yaml2 "go.yaml.in/yaml/v2"
	yaml3 "go.yaml.in/yaml/v3"

	"kseal.dev/kseal/pkg/manifest/internal/yamlevents"
)

// treeOfNode and treeOfV2 reduce what yaml v3 and v2 read to the same
// shape: mappings of strings, sequences, and scalars as text (v2's
// non-strings marked with their type).
func treeOfNode(n *yaml3.Node) any {
	switch n.Kind {
	case yaml3.DocumentNode:
		return treeOfNode(n.Content[0])
	case yaml3.MappingNode:
		m := map[string]any{}
		for i := 0; i < len(n.Content); i += 2 {
			m[n.Content[i].Value] = treeOfNode(n.Content[i+1])
		}
		return m
	case yaml3.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			s = append(s, treeOfNode(c))
		}
		return s
	case yaml3.ScalarNode:
		return n.Value
	}
	return fmt.Sprintf("?%v", n.Kind)
}

func treeOfV2(v any) any {
	switch v := v.(type) {
	case map[any]any:
		m := map[string]any{}
		for k, x := range v {
			m[fmt.Sprint(k)] = treeOfV2(x)
		}
		return m
	case []any:
		s := []any{}
		for _, c := range v {
			s = append(s, treeOfV2(c))
		}
		return s
	case string:
		return v
	}
	return fmt.Sprintf("%T:%v", v, v)
}

var plainDiffWords = []string{"a", "b c", "x:y", "x#y", "a-b", "-a", "'q", "q'", "\"q", "a!b", "%x", "@x", "`x", "x,y", "[x", "x]", "{x", "x}", "a?", "?a", "a :b", "a\\b", "x|y", "x>y", "&x", "*x", "!x", "=", "a  b", "Secret", "v1", "NaN", "inf", "0x1p3", "1a", "2001-12-14x", "a=b"}
var plainDiffEscapes = []string{"\\x41", "\\u0041", "\\U00000041", "\\N", "\\_", "\\L", "\\P", "\\/", "\\t", "\\ ", "\\\"", "\\\\", "\\e", "\\0", "\\a", "\\b", "\\n", "\\r", "\\v", "\\f", "'", "#", ": ", " #", "\\\n  x", "\n  y", "\n\n  z"}

func plainDiffScalar(r *rand.Rand, ind int) string {
	w := plainDiffWords[r.Intn(len(plainDiffWords))]
	pad := strings.Repeat(" ", ind+1+r.Intn(3))
	switch r.Intn(7) {
	case 0:
		return "'" + strings.ReplaceAll(w, "'", "''") + "'"
	case 1:
		var b strings.Builder
		b.WriteString("\"")
		for i := r.Intn(4); i >= 0; i-- {
			e := plainDiffEscapes[r.Intn(len(plainDiffEscapes))]
			e = strings.ReplaceAll(e, "\n  ", "\n"+pad)
			b.WriteString(e)
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(w, "\\", "\\\\"), "\"", "\\\""))
		}
		b.WriteString("\"")
		return b.String()
	case 2:
		// multi-line plain
		return "foo" + "\n" + pad + w + []string{"", "\n" + pad + "bar", "\n\n" + pad + "baz", "\n" + pad + "#c"}[r.Intn(4)]
	case 3:
		return "'multi\n" + pad + "line''s\n\n" + pad + "x'"
	}
	return w
}

func plainDiffMapping(r *rand.Rand, b *strings.Builder, ind, depth int, seen map[string]bool) {
	n := 1 + r.Intn(4)
	for i := 0; i < n; i++ {
		sp := strings.Repeat(" ", ind)
		k := fmt.Sprintf("k%d", r.Intn(50))
		if seen[k] {
			continue
		}
		seen[k] = true
		if r.Intn(8) == 0 {
			b.WriteString(sp + "#" + []string{"", " c", "c: d", "- x"}[r.Intn(4)] + "\n")
		}
		if r.Intn(10) == 0 {
			b.WriteString(strings.Repeat(" ", r.Intn(6)) + "# odd\n")
		}
		key := k
		switch r.Intn(6) {
		case 0:
			key = "'" + k + "'"
		case 1:
			key = "\"" + k + "\""
		}
		explicit := r.Intn(10) == 0
		if explicit {
			b.WriteString(sp + "? " + key + "\n" + sp + ":")
		} else {
			b.WriteString(sp + key + ":")
		}
		trail := []string{"", " ", " # c", "#c", "  #c"}[r.Intn(5)]
		switch c := r.Intn(8); {
		case c == 0 && depth < 4:
			b.WriteString(trail + "\n")
			step := 1 + r.Intn(3)
			plainDiffMapping(r, b, ind+step, depth+1, map[string]bool{})
		case c == 1 && depth < 4:
			b.WriteString(trail + "\n")
			sind := ind + r.Intn(2)*(1+r.Intn(2))
			for j := r.Intn(3); j >= 0; j-- {
				b.WriteString(strings.Repeat(" ", sind) + "- " + plainDiffScalar(r, sind+1) + "\n")
			}
		case c == 2:
			b.WriteString(" " + []string{"{}", "[]", "{ }", "[ ]"}[r.Intn(4)] + trail + "\n")
		default:
			b.WriteString(" " + plainDiffScalar(r, ind) + trail + "\n")
		}
	}
}

func plainDiffDoc(r *rand.Rand) string {
	var b strings.Builder
	if r.Intn(4) == 0 {
		b.WriteString("---\n")
	}
	b.WriteString("apiVersion: v1\nkind: Secret\n")
	plainDiffMapping(r, &b, 0, 0, map[string]bool{"apiVersion": true, "kind": true})
	if r.Intn(4) == 0 {
		b.WriteString("...\n")
	}
	s := b.String()
	if r.Intn(5) == 0 {
		s = strings.ReplaceAll(s, "\n", "\r\n")
	}
	return s
}

// TestPlainDocumentsParseAlike: the scanners of yaml v2 (kubectl's) and
// v3 (kseal's) build the same tree, string for string, from every plain
// document among 20,000 generated ones: random indentation, explicit and
// quoted keys, multi-line plain and quoted scalars, every escape, comments
// in odd places, empty flow collections, nested sequences, a leading ---, a
// trailing ... and CRLF. TestPlainDocumentsReadAlike holds the fields kseal
// compares; this holds the structure around them. It guards no single
// rule (TestPlainRules does): it is the evidence for the premise plain.go
// rests on, that the two scanners agree on such text.
func TestPlainDocumentsParseAlike(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var plain, v2err, diffs int
	for range 20000 {
		doc := plainDiffDoc(r)
		sum, err := yamlevents.Summarize([]byte(doc))
		if err != nil || sum.NotPlain != "" {
			continue
		}
		plain++
		var n yaml3.Node
		if err := yaml3.Unmarshal([]byte(doc), &n); err != nil {
			t.Errorf("plain, but yaml v3 refuses it: %v\n%s", err, doc)
			continue
		}
		var v any
		if err := yaml2.Unmarshal([]byte(doc), &v); err != nil {
			v2err++ // kubectl refuses it: nothing applied
			continue
		}
		if a, b := treeOfNode(&n), treeOfV2(v); !reflect.DeepEqual(a, b) {
			if diffs++; diffs < 5 {
				t.Errorf("plain, but read otherwise:\n%q\nv3 %#v\nv2 %#v", doc, a, b)
			}
		}
	}
	if plain < 5000 {
		t.Fatalf("only %d of 20000 generated documents are plain: the generator no longer tests the rule", plain)
	}
	t.Logf("%d plain documents, %d refused by v2, %d read otherwise", plain, v2err, diffs)
}
