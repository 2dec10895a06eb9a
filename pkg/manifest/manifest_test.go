package manifest_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/internal/testkeys"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/golden/<dir>/<name>, or writes it with
// -update.
func golden(t *testing.T, dir, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", dir, name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}

// sealAll seals every plain Secret of the stream deterministically.
func sealAll(t *testing.T, s *manifest.Stream, encrypted bool) {
	t.Helper()
	for _, d := range s.Docs {
		if d.Kind != manifest.KindSecret {
			continue
		}
		vals, err := d.Plain()
		if err != nil {
			t.Fatal(err)
		}
		sl, err := crypto.Seal(t.Context(), &testkeys.Reader{Seed: d.Object()}, crypto.ScopeStrict, d.Target(), vals, []keys.Recipient{testkeys.ClearRecipient{}})
		if err != nil {
			t.Fatal(err)
		}
		if encrypted {
			err = d.ToEncrypted(sl)
		} else {
			err = d.ToSealedSecret(sl)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func openAll(t *testing.T, s *manifest.Stream) {
	t.Helper()
	for _, d := range s.Docs {
		if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
			continue
		}
		sl, err := d.Sealed()
		if err != nil {
			t.Fatal(err)
		}
		o, err := crypto.Open(t.Context(), sl, d.Target(), []keys.Identity{testkeys.ClearIdentity{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.ToPlain(o.Values); err != nil {
			t.Fatal(err)
		}
	}
}

func bytesOf(t *testing.T, s *manifest.Stream) []byte {
	t.Helper()
	b, err := s.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func reparse(t *testing.T, b []byte) *manifest.Stream {
	t.Helper()
	s, err := manifest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// goldenDirs lists the folders of testdata/golden: every one holding an
// input.yaml is a case, and a tree with none fails rather than passes.
func goldenDirs(t testing.TB) []string {
	t.Helper()
	ins, err := filepath.Glob(filepath.Join("testdata", "golden", "*", "input.yaml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden cases under testdata/golden (%v)", err)
	}
	var dirs []string
	for _, in := range ins {
		dirs = append(dirs, filepath.Base(filepath.Dir(in)))
	}
	return dirs
}

// TestGolden seals each input into both forms and opens them again.
func TestGolden(t *testing.T) {
	for _, dir := range goldenDirs(t) {
		t.Run(dir, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "golden", dir, "input.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, form := range []struct {
				name      string
				encrypted bool
			}{{"sealed", false}, {"encrypted", true}} {
				s := reparse(t, in)
				sealAll(t, s, form.encrypted)
				sealed := bytesOf(t, s)
				golden(t, dir, form.name+".yaml", sealed)

				again := reparse(t, sealed)
				if b := bytesOf(t, again); string(b) != string(sealed) {
					t.Errorf("%s: re-reading a sealed stream changed it", form.name)
				}
				openAll(t, again)
				golden(t, dir, form.name+"-decrypted.yaml", bytesOf(t, again))
			}
		})
	}
}

func TestOtherDocumentsPassThroughByteForByte(t *testing.T) {
	in, _ := os.ReadFile(filepath.Join("testdata", "golden", "multi", "input.yaml"))
	s := reparse(t, in)
	sealAll(t, s, false)
	out := string(bytesOf(t, s))
	for _, keep := range []string{"metadata: { name: settings,   namespace: prod }", "    mode:   \"fast\"", "--- # the secret\n", "      - name: web\n"} {
		if !strings.Contains(out, keep) {
			t.Errorf("output lost %q", keep)
		}
	}
}

func TestErrorsNameDocObjectAndField(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"bad base64", "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\ndata:\n  password: not*base64\n", "doc 1: Secret prod/db: data.password: not valid base64"},
		{"bad key", "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  'a b': x\n", `doc 1: Secret db: data.a b: invalid key "a b"`},
		{"data not a map", "---\nkind: ConfigMap\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata: [1]\n", "doc 2: Secret db: data: must be a mapping"},
		{"no name", "apiVersion: v1\nkind: Secret\nmetadata: {}\n", "doc 1: metadata.name: missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := reparse(t, []byte(tc.in))
			var err error
			for _, d := range s.Docs {
				if d.Kind == manifest.KindSecret {
					_, err = d.Plain()
				}
			}
			if err == nil || err.Error() != tc.want && !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
	if _, err := manifest.Parse([]byte("a: [b\n")); err == nil || !strings.Contains(err.Error(), "doc 1: invalid YAML") {
		t.Errorf("invalid YAML: got %v", err)
	}
}

// TestSealedErrorsNameField: sealed documents are read by crypto.Parse (the
// controller's parser too), strictly, and its errors name the document's
// field: an envelope key in another case, which the API server would drop
// and a lenient decoder would read, is refused.
func TestSealedErrorsNameField(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "golden", "basic", "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []struct {
		name      string
		encrypted bool
	}{{"SealedSecret", false}, {"encrypted Secret", true}} {
		s := reparse(t, in)
		sealAll(t, s, form.encrypted)
		sealed := string(bytesOf(t, s))
		envField, valField := "spec.envelope", "spec.encryptedData.password"
		if form.encrypted {
			envField, valField = "metadata.annotations[kseal.dev/envelope]", "data.password"
		}
		for _, tc := range []struct {
			name, old, new, want string
		}{
			{"key in another case", "scope", "Scope", envField + `: malformed envelope: unknown field "Scope"`},
			{"value not base64", "password: ", "password: x%", valField + ": not valid base64"},
		} {
			t.Run(form.name+"/"+tc.name, func(t *testing.T) {
				if !strings.Contains(sealed, tc.old) {
					t.Fatalf("%q not in the sealed document", tc.old)
				}
				bad := reparse(t, []byte(strings.Replace(sealed, tc.old, tc.new, 1)))
				var err error
				for _, d := range bad.Docs {
					if d.Kind == manifest.KindSealedSecret || d.Kind == manifest.KindEncrypted {
						_, err = d.Sealed()
					}
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, crypto.ErrFormat) {
					t.Errorf("got %v\nwant %s (matching crypto.ErrFormat)", err, tc.want)
				}
			})
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range goldenDirs(f) {
		for _, n := range []string{"input.yaml", "sealed.yaml", "encrypted.yaml"} {
			if b, err := os.ReadFile(filepath.Join("testdata", "golden", dir, n)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("n:\n#\n- a\nq")) // the parser's error with no event: Summarize looped
	f.Add([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: x, annotations: {kseal.dev/envelope: '{}'}}\ndata: {a: b}\n"))
	// Tags and YAML 1.1 forms in names and templates (issue 17).
	f.Add([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\ntype: !!binary a3ViZXJuZXRlcy5pby9zZXJ2aWNlLWFjY291bnQtdG9rZW4=\nstringData: {a: b}\n"))
	f.Add([]byte("apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: n}\nspec:\n  template:\n    metadata: {labels: {app: yes, on: x}}\n    immutable: true\n"))
	f.Add([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: \"db\\e[2J\", namespace: prod}\nstringData: {a: b}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := manifest.Parse(b)
		if err != nil {
			return
		}
		for _, d := range s.Docs {
			// What kseal accepts, kubectl reads alike: names and
			// template, when kubectl reads them at all.
			if d.Kind != manifest.KindOther && d.Item() < 0 {
				if want, ok := asKubectlReadsIt(t, d.Raw(), d.Kind == manifest.KindSealedSecret); ok && !sameTarget(d.Target(), want) {
					t.Fatalf("kseal reads %+v\nkubectl reads %+v", d.Target(), want)
				}
			}
			switch d.Kind {
			case manifest.KindSecret:
				_, _ = d.Plain()
			case manifest.KindSealedSecret, manifest.KindEncrypted:
				_, _ = d.Sealed()
			}
		}
		if _, err := s.Bytes(); err != nil {
			t.Fatal(err)
		}
	})
}

// A SealedSecret holds only the CRD's fields: plaintext put in a template
// (as bitnami's template data, or a Secret's stringData) is refused when the
// file is read, never passed over by check, verify or status.
func TestSealedSecretUnknownFieldsAreRefused(t *testing.T) {
	const head = "apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: prod}\n"
	for _, tc := range []struct{ spec, want string }{
		{"spec:\n  template:\n    data: {password: aHVudGVyMg==}\n", "spec.template.data: not a field"},
		{"spec:\n  template:\n    stringData: {password: hunter2}\n", "spec.template.stringData: not a field"},
		{"spec:\n  stringData: {password: hunter2}\n", "spec.stringData: not a field"},
		{"spec:\n  template:\n    metadata: {name: other}\n", "spec.template.metadata.name: not a field"},
	} {
		_, err := manifest.Parse([]byte(head + tc.spec))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.spec, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error echoes the value: %v", tc.spec, err)
		}
	}
}
