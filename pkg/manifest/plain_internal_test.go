package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/manifest/internal/yamlevents"
)

// plainCases writes each tricky scalar, plain and quoted, in each place
// checkKubectlView compares (names, type, labels, annotations, values,
// their keys), in block-style Secrets, encrypted Secrets and
// SealedSecrets.
func plainCases() []string {
	words := []string{"yes", "No", "on", "OFF", "y", "n", "true", "False", "null", "~", "", "0x10", "012", "0o17",
		"0b101", "1e3", "1_000", "123", ".5", "-1", "+1", ".inf", "-.Inf", ".nan", "2001-12-14", "2001-12-14 21:59:43",
		"1:20", "<<", "3q2+7w==", "AM3g/x+Y=", "db", "a b", "x.y/z", "Opaque", "v1", "Secret"}
	var scalars []string
	for _, w := range words {
		scalars = append(scalars, "'"+w+"'", fmt.Sprintf("%q", w))
		if w != "" {
			scalars = append(scalars, w)
		}
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n"
	sealed := "apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: prod\nspec:\n"
	envelope := "  envelope:\n    version: 2\n"
	places := []string{
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: prod\nstringData:\n  a: b\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: %s\nstringData:\n  a: b\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  generateName: %s\n  namespace: prod\nstringData:\n  a: b\n",
		"apiVersion: v1\nkind: %s\nmetadata:\n  name: db\nstringData:\n  a: b\n",
		"apiVersion: %s\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  a: b\n",
		secret + "  labels:\n    app: %s\nstringData:\n  a: b\n",
		secret + "  labels:\n    %s: x\nstringData:\n  a: b\n",
		secret + "  annotations:\n    note: %s\nstringData:\n  a: b\n",
		secret + "  annotations:\n    %s: x\nstringData:\n  a: b\n",
		secret + "type: %s\nstringData:\n  a: b\n",
		secret + "immutable: %s\nstringData:\n  a: b\n",
		secret + "data:\n  a: %s\n",
		secret + "data:\n  %s: eA==\n",
		secret + "stringData:\n  a: %s\n",
		secret + "stringData:\n  %s: x\n",
		secret + "  annotations:\n    kseal.dev/envelope: '{}'\ndata:\n  a: %s\n",
		sealed + "  template:\n    metadata:\n      labels:\n        app: %s\n  encryptedData:\n    a: AAAA\n" + envelope,
		sealed + "  template:\n    metadata:\n      annotations:\n        %s: x\n  encryptedData:\n    a: AAAA\n" + envelope,
		sealed + "  template:\n    type: %s\n  encryptedData:\n    a: AAAA\n" + envelope,
		sealed + "  template:\n    immutable: %s\n  encryptedData:\n    a: AAAA\n" + envelope,
		sealed + "  encryptedData:\n    a: %s\n" + envelope,
		sealed + "  encryptedData:\n    %s: AAAA\n" + envelope,
		sealed + "  encryptedData:\n    a: AAAA\n  envelope:\n    version: %s\n",
	}
	var docs []string
	for _, p := range places {
		for _, s := range scalars {
			docs = append(docs, fmt.Sprintf(p, s))
		}
	}
	return docs
}

// plainReadsAlike fails if a plain document of the stream data is one
// checkKubectlView would refuse: the check skipped for it had something
// to find.
func plainReadsAlike(t testing.TB, data []byte) (plain, caught int) {
	s, err := Parse(data)
	if err != nil {
		if strings.Contains(err.Error(), "kubectl reads") {
			caught++
		}
		return plain, caught
	}
	for _, d := range s.Docs {
		if d.isItem() {
			continue
		}
		sum, err := yamlevents.Summarize([]byte(d.raw))
		if err != nil || sum.NotPlain != "" {
			continue
		}
		plain++
		if err := d.checkKubectlView(); err != nil {
			t.Errorf("plain, but kubectl reads it otherwise: %v\n%s", err, d.raw)
		}
	}
	return plain, caught
}

// TestPlainDocumentsReadAlike: no document the plain rules
// (yamlevents/plain.go) let skip the kubectl view is one the view would
// refuse, over every tricky scalar in every place the view compares; and
// the cases are not idle: many are plain, and the view catches some that
// are not. Guard: each plain rule on scalars (String11 for keys, and for
// the values of compared fields, of spec's compared fields, and below).
func TestPlainDocumentsReadAlike(t *testing.T) {
	var plain, caught int
	for _, doc := range plainCases() {
		p, c := plainReadsAlike(t, []byte(doc))
		plain, caught = plain+p, caught+c
	}
	if plain < 500 || caught < 50 {
		t.Fatalf("%d plain documents, %d caught by the kubectl view: the cases no longer test the rule", plain, caught)
	}
}

// FuzzPlainNeedsNoKubectlView: whatever the input, a plain document is
// one the kubectl view finds nothing in.
func FuzzPlainNeedsNoKubectlView(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if len(dirs) == 0 {
		f.Fatal("no golden cases under testdata/golden")
	}
	for _, dir := range dirs {
		for _, n := range []string{"input.yaml", "sealed.yaml", "encrypted.yaml"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
				f.Add(b)
			}
		}
	}
	for i, doc := range plainCases() {
		if i%7 == 0 {
			f.Add([]byte(doc))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		plainReadsAlike(t, b)
	})
}
