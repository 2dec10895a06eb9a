package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/crypto"
)

// parsedJSONNode is what envelopeNode did before jsonNode: the JSON text
// parsed as YAML, then every style reset to block.
func parsedJSONNode(t *testing.T, j []byte) (*yaml.Node, error) {
	t.Helper()
	n, err := yaml.Parse(string(j))
	if err != nil {
		return nil, err
	}
	var block func(*yaml.Node)
	block = func(n *yaml.Node) {
		n.Style = 0
		for _, c := range n.Content {
			block(c)
		}
	}
	block(n.YNode())
	return n.YNode(), nil
}

func encodeNode(t *testing.T, n *yaml.Node) string {
	t.Helper()
	var b bytes.Buffer
	if err := yaml.NewEncoder(&b).Encode(n); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// FuzzJSONNode: the tree jsonNode builds from JSON encodes to the same YAML
// as the tree yaml.Parse gives for the same text (what sealing wrote
// before), so sealed output is unchanged byte for byte.
func FuzzJSONNode(f *testing.F) {
	f.Add([]byte(`{"version":2,"scope":"strict","sections":[{"recipients":[{"type":"mlkem768x25519","keyID":"ab","data":"AA=="}],"mac":"AA=="}]}`))
	f.Add([]byte(`{"a":[1,-2.5,1e3,true,false,null,"yes","no","0x10","1:20","~","",": x","- y","#","a\nb","\u003c\u0026\u003e"],"b":{},"c":[]}`))
	f.Add([]byte(`{"removed":[{"field":"data.k","section":9}],"x":"2001-12-14","y":"null","z":" lead","w":"trail "}`))
	f.Fuzz(func(t *testing.T, j []byte) {
		var v map[string]any
		if json.Unmarshal(j, &v) != nil {
			return
		}
		// Envelopes are what encoding/json writes: compact, escaped.
		j, _ = json.Marshal(v)
		want, err := parsedJSONNode(t, j)
		if err != nil {
			return
		}
		got, err := jsonNode(j)
		if err != nil {
			t.Fatalf("jsonNode(%s): %v", j, err)
		}
		if g, w := encodeNode(t, got), encodeNode(t, want); g != w {
			t.Fatalf("jsonNode(%s) encodes as\n%s\nyaml.Parse as\n%s", j, g, w)
		}
	})
}

// FuzzNodeObjectJSON: what nodeObjectJSON gives crypto.Parse (the parser
// the controller uses) parses to the same envelope as what
// RNode.MarshalJSON gave it, or is refused. Only trees checkStrict lets
// through are tried: Doc.Sealed sees no other. The texts themselves may
// differ where MarshalJSON's detour through YAML text changed the value:
// an implicit null (`{a}`, `a:` in flow) came back as "" and now stays
// null, as kubectl (and so the controller) reads it.
func FuzzNodeObjectJSON(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if len(dirs) == 0 {
		f.Fatal("no golden cases under testdata/golden")
	}
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "sealed.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		s, err := Parse(b)
		if err != nil {
			f.Fatal(err)
		}
		for _, d := range s.Docs {
			if env, _ := d.node.Pipe(yaml.Lookup("spec", "envelope")); env != nil {
				text, _ := env.String()
				f.Add(text)
			}
		}
	}
	f.Add("version: 2\nscope: strict\nsections:\n- recipients:\n  - type: x\n    keyID: y\n    data: AA==\n  mac: AA==\n")
	f.Add("a: 0x10\nb: 1e3\nc: yes\nd: ~\ne: !!binary aGk=\nf: 2001-12-14\n")
	f.Add("a: 1\na: 2\n")
	f.Add("- 1\n- {a: b}\n")
	f.Add("a: !!str 1\nb: !!int \"2\"\nc: .inf\nd: -.nan\n")
	f.Add("? !!binary dmVyc2lvbg==\n: 2\n~: x\n1: y\n")
	f.Add("b: [-0, 0, 007, -12, 123456789012345678901, 1_0, 0x1, +3]\na: \"<&>\\u2028\\xff\"\nc: [True, false, yes]\n")
	f.Add("z: 1\na: {y: \"2\", b: [x, 'y']}\n")
	f.Fuzz(func(t *testing.T, text string) {
		rn, err := yaml.Parse(text)
		if err != nil || (rn.YNode().Kind != yaml.MappingNode && rn.YNode().Kind != yaml.SequenceNode) {
			return
		}
		if checkStrict(rn.YNode(), "") != nil {
			return
		}
		got, gerr := nodeObjectJSON(rn.YNode())
		if gerr != nil {
			return // refused: never looser than before
		}
		// The fast path writes what the general path writes, byte for
		// byte, where it writes anything.
		if fast, ok := simpleJSON(rn.YNode()); ok {
			if slow, err := decodedJSON(rn.YNode()); err != nil || !bytes.Equal(fast, slow) {
				t.Fatalf("%q: simpleJSON gives %s, the general path %s (%v)", text, fast, slow, err)
			}
		}
		want, werr := rn.MarshalJSON()
		sg, perr := crypto.Parse(got, nil)
		if perr != nil {
			return
		}
		if werr != nil {
			t.Fatalf("%q: only nodeObjectJSON renders it: %s", text, got)
		}
		sw, err := crypto.Parse(want, nil)
		if err != nil {
			t.Fatalf("%q: parses only through nodeObjectJSON: %s; MarshalJSON gave %s: %v", text, got, want, err)
		}
		eg, _ := json.Marshal(sg.Envelope)
		ew, _ := json.Marshal(sw.Envelope)
		if !bytes.Equal(eg, ew) {
			t.Fatalf("%q: envelopes differ:\n%s\n%s", text, eg, ew)
		}
	})
}

// TestSimpleJSONIsTheGeneralPath: where simpleJSON writes an envelope it
// writes what the general path writes; every other spelling goes to the
// general path. Guards: decimal, the repeated-key and tag checks in
// appendSimpleMap and appendSimple, appendJSONString's escapes.
func TestSimpleJSONIsTheGeneralPath(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		fast       bool
	}{
		{"an envelope", "version: 2\nscope: strict\nsealedFor: {namespace: n, name: x, template: AA==}\nsections:\n- recipients:\n  - {type: x, keyID: y, data: AA==}\n  mac: AA==\n", true},
		{"keys sorted", "z: 1\na: {y: \"2\", b: [x, 'y', true]}\n", true},
		{"escapes", "a: \"<&>\\u2028\\t\\\"\\\\\"\n", true},
		{"HTML", "a: \"x<y&z>\"\n", true},
		{"negative", "a: -12\n", true},
		{"a leading zero", "a: 007\n", false},
		{"minus zero", "a: -0\n", false},
		{"hex", "a: 0x10\n", false},
		{"underscores", "a: 1_000\n", false},
		{"too long for int64", "a: 123456789012345678901\n", false},
		{"a float", "a: 1.5\n", false},
		{"True", "a: True\n", false},
		{"null", "a: null\n", false},
		{"a date", "a: 2001-12-14\n", false},
		{"binary", "a: !!binary aGk=\n", false},
		{"a repeated key", "a: 1\na: 2\n", false},
		{"an anchor", "a: &x 1\nb: 2\n", false},
		{"a merge key", "b: &x {c: 1}\n<<: *x\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rn, err := yaml.Parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			fast, ok := simpleJSON(rn.YNode())
			if ok != tc.fast {
				t.Fatalf("fast path taken: %v, want %v (%s)", ok, tc.fast, fast)
			}
			if !ok {
				return
			}
			slow, err := decodedJSON(rn.YNode())
			if err != nil || !bytes.Equal(fast, slow) {
				t.Fatalf("simpleJSON gives %s, the general path %s (%v)", fast, slow, err)
			}
		})
	}
}

// TestJSONNodeRefusesInvalidJSON: jsonNode reads what json.Marshal wrote,
// but takes nothing that is not JSON (its scanner is its own).
func TestJSONNodeRefusesInvalidJSON(t *testing.T) {
	for _, bad := range []string{
		``, `{`, `[`, `{"a":}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `"abc`, `"a\`, `tru`, `nul`,
		`01`, `-`, `1.`, `.5`, `1e`, `+1`, `{"a":1}x`, `{"a":1} {}`, `{1:2}`, `{a:1}`, "\"a\x01\"", `{"a":1 "b":2}`, `[1 2]`,
		`"\x"`, `'a'`, `NaN`, `Infinity`,
	} {
		if n, err := jsonNode([]byte(bad)); err == nil {
			t.Errorf("jsonNode(%q) = %s, want an error", bad, encodeNode(t, n))
		}
	}
	for _, good := range []string{` { "a" : [ 1 , -2.5e+3 , true , null , "x\n\u00e9" ] } `, `[]`, `{}`, `-0`, `0.5`} {
		got, err := jsonNode([]byte(good))
		if err != nil {
			t.Errorf("jsonNode(%q): %v", good, err)
			continue
		}
		want, err := parsedJSONNode(t, []byte(good))
		if err != nil {
			t.Fatal(err)
		}
		if g, w := encodeNode(t, got), encodeNode(t, want); g != w {
			t.Errorf("jsonNode(%q) encodes as\n%s\nyaml.Parse as\n%s", good, g, w)
		}
	}
}
