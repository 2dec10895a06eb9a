package yamlevents

import (
	"strings"
	"testing"

	yamlv2 "go.yaml.in/yaml/v2"
	yamlv3 "go.yaml.in/yaml/v3"
)

// TestPlainRules: each rule of plain.go, on a document that breaks only
// it. Guards: each case in plainNode and Summarize.
func TestPlainRules(t *testing.T) {
	const head = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n"
	for _, tc := range []struct{ name, doc, why string }{
		{"a Secret", head + "stringData:\n  password: hunter2\n  'quoted key': \"x\"\n", ""},
		{"a SealedSecret", "apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\nspec:\n  encryptedData:\n    a: AM3g+/=\n  envelope:\n    version: 2\n    sections: []\n", ""},
		{"empty flow collections", head + "  labels: {}\ndata: {}\n", ""},
		{"CRLF", strings.ReplaceAll(head, "\n", "\r\n"), ""},
		{"numbers where kseal compares nothing", head + "spec:\n  replicas: 3\n  on: x\n", "a key YAML 1.1 reads as no string"},
		{"a number in a loose value", head + "spec:\n  replicas: 3\n  paused: yes\n", ""},
		{"a tab", head + "stringData:\n  a: \"x\ty\"\n", "a byte other than printable ASCII and line breaks"},
		{"a lone CR", head + "stringData:\n  a: \"x\ry\"\n", "a byte other than printable ASCII and line breaks"},
		{"non-ASCII", head + "stringData:\n  a: caf\u00e9\n", "a byte other than printable ASCII and line breaks"},
		{"a directive", "%YAML 1.1\n---\n" + head, "a directive"},
		{"an anchor", head + "stringData:\n  a: &x y\n", "an anchor or alias"},
		{"an alias", "x: &x y\n" + head + "stringData:\n  a: *x\n", "an anchor or alias"},
		{"a tag", head + "type: !!str x\n", "a tag"},
		{"a block scalar", head + "stringData:\n  a: |\n    x\n", "a block scalar"},
		{"a flow mapping", head + "stringData: {a: x}\n", "a flow collection that is not empty"},
		{"a merge key", head + "stringData:\n  <<: x\n", "a key YAML 1.1 reads as no string"},
		{"a quoted merge key", head + "stringData:\n  '<<': x\n", "a key YAML 1.1 reads as no string"},
		{"a YAML 1.1 boolean key", head + "  labels:\n    on: x\n", "a key YAML 1.1 reads as no string"},
		{"a number key", head + "data:\n  0x10: eA==\n", "a key YAML 1.1 reads as no string"},
		{"a complex key", head + "? - a\n: x\n", "a key that is not a scalar"},
		{"a repeated key", head + "metadata:\n  name: other\n", "a repeated key"},
		{"a list", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n", "a list"},
		{"a sequence", "- apiVersion: v1\n", "a list"},
		{"a YAML 1.1 boolean label", head + "  labels:\n    a: yes\n", "a value YAML 1.1 reads as no string, or as another"},
		{"a date", head + "type: 2001-12-14\n", "a value YAML 1.1 reads as no string, or as another"},
		{"a number in data", head + "data:\n  a: 1234\n", "a value YAML 1.1 reads as no string, or as another"},
		{"an empty name", "apiVersion: v1\nkind: Secret\nmetadata:\n  name:\n", "a value YAML 1.1 reads as no string, or as another"},
		{"a template label", "apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nspec:\n  template:\n    metadata:\n      labels:\n        a: off\n", "a value YAML 1.1 reads as no string, or as another"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Summarize([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if s.NotPlain != tc.why {
				t.Fatalf("not plain because %q, want %q", s.NotPlain, tc.why)
			}
		})
	}
}

// TestString11MatchesBothReaders: every string String11 accepts reads, as
// a plain scalar, as that same string to yaml v2 (kubectl's reader) and
// v3, over all strings of up to three bytes from the bytes that make YAML
// 1.1 numbers, dates and special words, and a list of known forms. It
// also accepts the plain forms kseal writes (base64, names). Guard:
// special11 and numberByte (remove either, or a byte of them, and a form
// here reads as another type).
func TestString11MatchesBothReaders(t *testing.T) {
	alphabet := []byte("019aefxobBOTZ_+-.:tyYnN~< ")
	var all []string
	for _, a := range alphabet {
		all = append(all, string(a))
		for _, b := range alphabet {
			all = append(all, string([]byte{a, b}))
			for _, c := range alphabet {
				all = append(all, string([]byte{a, b, c}))
			}
		}
	}
	all = append(all, "yes", "Yes", "YES", "no", "NO", "true", "False", "on", "Off", "null", "NULL",
		".nan", ".Inf", "-.inf", "+.INF", "0x1F", "0o17", "0b101", "-0b101", "1_000", "1e3", "1.5e-3", "012",
		"2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2001-12-14T21:59:43Z",
		"1:20", "+1", "-1", ".5", "0.", "1.", "0xFFFFFFFFFFFFFFFFFF", "18446744073709551616", "1e400", "<<")
	accepted := 0
	for _, s := range all {
		if !String11(s) {
			continue
		}
		accepted++
		checkString11(t, s)
	}
	if accepted < 1000 {
		t.Fatalf("String11 accepted only %d of %d strings", accepted, len(all))
	}
	for _, s := range []string{"AM3gFQ2J/MrXhmIrrhavzIID/21Xm6adKSZDwtPzjTr6V6oTmp0stL+p8N9OqC+wNGhd6Py+", "3q2+7w==", "db", "prod", "kubernetes.io/tls", "v1", "Secret", "s1"} {
		if !String11(s) {
			t.Errorf("String11(%q) = false; kseal writes such values", s)
		}
		checkString11(t, s)
	}
}

// checkString11 fails unless both readers read s, written plain, as s.
func checkString11(t testing.TB, s string) {
	t.Helper()
	if s != strings.TrimSpace(s) {
		return // the parser trims a plain scalar: none starts or ends with space
	}
	doc := []byte("k: " + s + "\n")
	var n yamlv3.Node
	if err := yamlv3.Unmarshal(doc, &n); err != nil || len(n.Content) != 1 || len(n.Content[0].Content) != 2 {
		return // not a scalar at all: neither reads it
	}
	if v := n.Content[0].Content[1]; v.Kind != yamlv3.ScalarNode || v.Style != 0 || v.Value != s {
		return // not one plain scalar (a tag, a comment, a flow indicator)
	}
	var v2, v3 map[string]any
	if err := yamlv2.Unmarshal(doc, &v2); err != nil {
		t.Errorf("String11(%q) = true, but yaml v2 fails: %v", s, err)
		return
	}
	if err := yamlv3.Unmarshal(doc, &v3); err != nil {
		t.Errorf("String11(%q) = true, but yaml v3 fails: %v", s, err)
		return
	}
	if got, ok := v2["k"].(string); !ok || got != s {
		t.Errorf("String11(%q) = true, but yaml v2 reads %T %v", s, v2["k"], v2["k"])
	}
	if got, ok := v3["k"].(string); !ok || got != s {
		t.Errorf("String11(%q) = true, but yaml v3 reads %T %v", s, v3["k"], v3["k"])
	}
}

func FuzzString11(f *testing.F) {
	for _, s := range []string{"yes", "0x10", "2001-12-14", "1e3", "AM3g+/=", "-.inf", "1_0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !String11(s) {
			return
		}
		checkString11(t, s)
	})
}
