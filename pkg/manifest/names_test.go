package manifest_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"

	"kseal.dev/kseal/pkg/manifest"
)

// nameCases are names and namespaces as a git writer might spell them,
// with whether the API server takes them as a name (a DNS-1123 subdomain)
// and as a namespace (a DNS-1123 label). They seed FuzzNames too.
var nameCases = []struct {
	name         string
	value        string
	asName, asNS bool
}{
	{"plain", "db", true, true},
	{"digits and dashes", "db-1", true, true},
	{"dots", "db.prod", true, false},
	{"a kubectl option", "--kubeconfig=k8s/tools.yaml", false, false},
	{"leading dash", "-db", false, false},
	{"trailing dash", "db-", false, false},
	{"upper case", "DB", false, false},
	{"underscore", "db_1", false, false},
	{"space", "db 1", false, false},
	{"slash", "db/x", false, false},
	{"newline", "db\nkseal: verified", false, false},
	{"escape sequence", "db\x1b[2J", false, false},
	{"bidi override", "db\u202etxt.exe", false, false},
	{"non-ASCII", "dé", false, false},
	{"empty label between dots", "a..b", false, false},
	{"63 characters", strings.Repeat("a", 63), true, true},
	{"64 characters", strings.Repeat("a", 64), true, false},
	{"253 characters", strings.Repeat("a", 61) + "." + strings.Repeat("b", 191), true, false},
	{"254 characters", strings.Repeat("a", 62) + "." + strings.Repeat("b", 191), false, false},
}

// secretJSON is a Secret (plain or encrypted) or a SealedSecret with the
// given metadata, in JSON so that any string is written exactly.
func secretJSON(kind string, meta map[string]any) string {
	obj := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta, "stringData": map[string]string{"a": "b"}}
	switch kind {
	case "sealed":
		obj = map[string]any{"apiVersion": manifest.SealedAPIVersion, "kind": manifest.SealedKind, "metadata": meta, "spec": map[string]any{}}
	case "encrypted":
		meta["annotations"] = map[string]string{manifest.EnvelopeAnnotation: "{}"}
		obj = map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": map[string]string{"a": "AAAA"}}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

// TestNamesAreWhatTheAPIServerAccepts: a Secret, SealedSecret or encrypted
// Secret, top-level or in a list, has a name the API server accepts and a
// namespace it accepts, or the file is refused naming the document, the
// field and the value (quoted: a newline or escape sequence in it never
// reaches a terminal raw). Other documents are not kseal's to judge.
//
// Guard: checkNameField in checkMetadata.
func TestNamesAreWhatTheAPIServerAccepts(t *testing.T) {
	for _, tc := range nameCases {
		for _, kind := range []string{"plain", "sealed", "encrypted"} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				check := func(doc, field string, ok bool, prefix string) {
					t.Helper()
					_, err := manifest.Parse([]byte(doc))
					if ok {
						if err != nil {
							t.Fatalf("refused %q: %v", tc.value, err)
						}
						return
					}
					want := prefix + field + ": " + strconv.Quote(tc.value)
					if err == nil || !strings.HasPrefix(err.Error(), want) {
						t.Fatalf("got %v\nwant an error starting %q", err, want)
					}
					if strings.ContainsAny(err.Error(), "\n\x1b\u202e") {
						t.Fatalf("the error carries the raw value: %q", err)
					}
				}
				check(secretJSON(kind, map[string]any{"name": tc.value, "namespace": "ns"}), "metadata.name", tc.asName, "doc 1: ")
				check(secretJSON(kind, map[string]any{"name": "db", "namespace": tc.value}), "metadata.namespace", tc.asNS, "doc 1: ")
				list := `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, ` +
					strings.TrimSpace(secretJSON(kind, map[string]any{"name": tc.value, "namespace": "ns"})) + "]}\n"
				check(list, "metadata.name", tc.asName, "doc 1 item 2: ")
			})
		}
	}
	t.Run("other documents are not checked", func(t *testing.T) {
		if _, err := manifest.Parse([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Name, namespace: NS}\n")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a missing name is left to the commands that need one", func(t *testing.T) {
		for _, doc := range []string{
			"apiVersion: v1\nkind: Secret\nmetadata: {namespace: ns}\nstringData: {a: b}\n",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: '', namespace: ns}\nstringData: {a: b}\n",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: , namespace: ns}\nstringData: {a: b}\n",
		} {
			s, err := manifest.Parse([]byte(doc))
			if err != nil {
				t.Fatalf("%q: %v", doc, err)
			}
			if _, err := s.Docs[0].Plain(); err == nil || !strings.Contains(err.Error(), "metadata.name: missing") {
				t.Fatalf("%q: got %v", doc, err)
			}
		}
	})
	t.Run("generateName", func(t *testing.T) {
		for prefix, ok := range map[string]bool{"db-": true, "db": true, "x.": false, "DB-": false, "-db": false, "db\n": false} {
			doc := secretJSON("plain", map[string]any{"generateName": prefix, "namespace": "ns"})
			_, err := manifest.Parse([]byte(doc))
			if ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), "metadata.generateName: "+strconv.Quote(prefix))) {
				t.Errorf("generateName %q: got %v", prefix, err)
			}
		}
	})
	t.Run("a namespace given by -n or a kubeconfig", func(t *testing.T) {
		s, err := manifest.Parse([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {a: b}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Docs[0].SetNamespace("--kubeconfig=x"); err == nil || !strings.Contains(err.Error(), `metadata.namespace: "--kubeconfig=x" is not a namespace`) {
			t.Fatalf("got %v", err)
		}
		if s.Docs[0].Changed() {
			t.Fatal("the refused namespace was written")
		}
	})
}

// FuzzNames: for any string, kseal accepts it as a Secret's name exactly
// when the API server's rule does, and as a namespace likewise.
func FuzzNames(f *testing.F) {
	for _, tc := range nameCases {
		f.Add(tc.value)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || s == "" {
			return // JSON would not carry it exactly; empty is "missing"
		}
		_, err := manifest.Parse([]byte(secretJSON("plain", map[string]any{"name": s, "namespace": "ns"})))
		if want := len(validation.IsDNS1123Subdomain(s)) == 0; want != (err == nil) {
			t.Fatalf("name %q: API server accepts: %v; kseal: %v", s, want, err)
		}
		_, err = manifest.Parse([]byte(secretJSON("plain", map[string]any{"name": "db", "namespace": s})))
		if want := len(validation.IsDNS1123Label(s)) == 0; want != (err == nil) {
			t.Fatalf("namespace %q: API server accepts: %v; kseal: %v", s, want, err)
		}
	})
}
