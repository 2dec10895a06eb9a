package manifest_test

import (
	"bytes"
	"testing"

	"kseal.dev/kseal/pkg/manifest"
)

// TestRenderedIsBytes: a stream rendered into pieces (what the CLI
// writes, piece by piece) is Bytes, and Equal and EndsInNewline say of it
// what they say of those bytes: unchanged, changed and JSON documents, a
// list, separators kept and added, a stream without a last line break.
func TestRenderedIsBytes(t *testing.T) {
	for _, text := range []string{
		"",
		"a: b\n",
		"a: b",
		"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: v\n---\nkind: ConfigMap\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: v\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"t\"}, \"data\": {\"k\": \"dg==\"}}",
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n  stringData:\n    k: v\n",
	} {
		for _, change := range []bool{false, true} {
			s, err := manifest.ParseText(text)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			if change {
				for _, d := range s.Docs {
					if d.Kind == manifest.KindSecret {
						if err := d.SetNamespace("moved"); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			want, err := s.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Render()
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if n, err := r.WriteTo(&got); err != nil || n != int64(len(want)) || r.Len() != len(want) {
				t.Fatalf("%q: wrote %d (%v), Len %d, want %d", text, n, err, r.Len(), len(want))
			}
			if !bytes.Equal(got.Bytes(), want) || !bytes.Equal(r.Bytes(), want) {
				t.Errorf("%q, changed %v: pieces give %q, Bytes %q", text, change, got.Bytes(), want)
			}
			if !r.Equal(string(want)) || r.Equal(string(want)+"x") {
				t.Errorf("%q: Equal wrong on its own bytes", text)
			}
			for i := range want { // every byte changed in turn
				other := bytes.Clone(want)
				other[i] ^= 1
				if r.Equal(string(other)) {
					t.Errorf("%q: Equal to a text that differs at byte %d", text, i)
				}
			}
			if ends := len(want) == 0 || want[len(want)-1] == '\n'; r.EndsInNewline() != ends {
				t.Errorf("%q: EndsInNewline %v, the bytes say %v", text, r.EndsInNewline(), ends)
			}
		}
	}
}
