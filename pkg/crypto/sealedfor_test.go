package crypto_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

const renamedSentence = "— renamed by a kustomize namePrefix/namespace?"

// TestFailureSaysWhatChanged: an object opened under another name or
// namespace than its scope binds, or with another template, fails, and the
// error says which, proven with the section's data key; a tampered object
// and one sealed before sealedFor existed read as plain integrity failures.
//
// Guards: diagnose (sealedfor.go) believes the record only when the
// recomputed commitment verifies; Open calls diagnose.
func TestFailureSaysWhatChanged(t *testing.T) {
	x := newKey(t, true)
	ids := []keys.Identity{x.id}
	tmpl := crypto.Template{Labels: map[string]string{"app": "db"}}
	prod := crypto.Target{Namespace: "prod", Name: "db", Template: tmpl}
	as := func(ns, name string, labels map[string]string) crypto.Target {
		return crypto.Target{Namespace: ns, Name: name, Template: crypto.Template{Labels: labels}}
	}
	relabelled := map[string]string{"app": "db", "team": "a"}
	for _, tc := range []struct {
		name                     string
		scope                    crypto.Scope
		mutate                   func(*crypto.Sealed)
		open                     crypto.Target
		want                     string // "" for the generic failure
		renamed, templateChanged bool
	}{
		{"strict renamed by namePrefix", crypto.ScopeStrict, nil, as("prod", "app-db", tmpl.Labels),
			"sealed for prod/db, found as prod/app-db " + renamedSentence, true, false},
		{"strict moved by namespace", crypto.ScopeStrict, nil, as("staging", "db", tmpl.Labels),
			"sealed for prod/db, found as staging/db " + renamedSentence, true, false},
		{"strict renamed and moved", crypto.ScopeStrict, nil, as("staging", "app-db", tmpl.Labels),
			"sealed for prod/db, found as staging/app-db " + renamedSentence, true, false},
		{"shared renamed", crypto.ScopeShared, nil, as("other", "app-db", tmpl.Labels),
			"sealed for the name db, found as other/app-db " + renamedSentence, true, false},
		{"namespace moved", crypto.ScopeNamespace, nil, as("staging", "app-db", tmpl.Labels),
			"sealed for namespace prod, found as staging/app-db " + renamedSentence, true, false},
		{"template changed", crypto.ScopeStrict, nil, as("prod", "db", relabelled),
			"the template was changed after sealing", false, true},
		{"renamed and template changed", crypto.ScopeStrict, nil, as("prod", "app-db", relabelled),
			"sealed for prod/db, found as prod/app-db " + renamedSentence, true, true},
		{"tampered, record pointing elsewhere", crypto.ScopeStrict, func(s *crypto.Sealed) {
			s.Envelope.Sections[0].MAC[0] ^= 1
			s.Envelope.SealedFor.Name = "other"
		}, prod, "", false, false},
		{"tampered and renamed", crypto.ScopeStrict, func(s *crypto.Sealed) { s.Envelope.Sections[0].MAC[0] ^= 1 }, as("prod", "app-db", tmpl.Labels), "", false, false},
		{"record rewritten to claim a rename", crypto.ScopeStrict, func(s *crypto.Sealed) { s.Envelope.SealedFor.Name = "web" }, as("prod", "app-db", tmpl.Labels), "", false, false},
		{"record rewritten to claim a template change", crypto.ScopeStrict, func(s *crypto.Sealed) { s.Envelope.SealedFor.Template[0] ^= 1 }, as("prod", "db", relabelled), "", false, false},
		{"sealed before the record existed", crypto.ScopeStrict, func(s *crypto.Sealed) { s.Envelope.SealedFor = nil }, as("prod", "app-db", tmpl.Labels), "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := crypto.Seal(ctx, rand.Reader, tc.scope, prod, values(), []keys.Recipient{x.rcp})
			if err != nil {
				t.Fatal(err)
			}
			if tc.mutate != nil {
				tc.mutate(s)
			}
			_, err = crypto.Open(ctx, s, tc.open, ids)
			var ie *crypto.IntegrityError
			if !errors.As(err, &ie) {
				t.Fatalf("want an integrity error, got %v", err)
			}
			msg := err.Error()
			if ie.Renamed != tc.renamed || ie.TemplateChanged != tc.templateChanged {
				t.Errorf("renamed %v, template changed %v; want %v, %v: %s", ie.Renamed, ie.TemplateChanged, tc.renamed, tc.templateChanged, msg)
			}
			if tc.want == "" {
				if strings.Contains(msg, "sealed for") || strings.Contains(msg, "template was changed") {
					t.Errorf("an unproven record is believed: %s", msg)
				}
				return
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q\nwant it to contain %q", msg, tc.want)
			}
			if tc.renamed && tc.templateChanged && !strings.Contains(msg, "the template was changed") {
				t.Errorf("message %q does not say the template changed too", msg)
			}
		})
	}
}

// TestSealedForIsPublic: the record holds the bound namespace and name and
// a digest that depends on the template alone (never on a value, a key or
// randomness), and every way of sealing a whole object writes it.
func TestSealedForIsPublic(t *testing.T) {
	x := newKey(t, true)
	rc := []keys.Recipient{x.rcp}
	tg := crypto.Target{Namespace: "prod", Name: "db", Template: crypto.Template{Type: "Opaque", Labels: map[string]string{"a": "b"}}}
	a, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, tg, map[string][]byte{"k": []byte("one")}, rc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, tg, map[string][]byte{"k": []byte("two"), "l": []byte("x")}, rc)
	if err != nil {
		t.Fatal(err)
	}
	ha, hb := a.Envelope.SealedFor, b.Envelope.SealedFor
	if ha == nil || hb == nil {
		t.Fatal("Seal wrote no sealedFor")
	}
	if ha.Namespace != "prod" || ha.Name != "db" || !bytes.Equal(ha.Template, hb.Template) || len(ha.Template) != crypto.TemplateDigestSize {
		t.Fatalf("records differ for the same template or hold more than the binding: %+v %+v", ha, hb)
	}
	emptyType := tg
	emptyType.Template.Type = ""
	c, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, emptyType, map[string][]byte{"k": []byte("one")}, rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Envelope.SealedFor.Template, ha.Template) {
		t.Error("an empty type and Opaque record different templates")
	}
	for scope, want := range map[crypto.Scope][2]string{
		crypto.ScopeNamespace: {"prod", ""},
		crypto.ScopeShared:    {"", "db"},
		crypto.ScopeCluster:   {"", ""},
	} {
		s, err := crypto.Seal(ctx, rand.Reader, scope, tg, values(), rc)
		if err != nil {
			t.Fatal(err)
		}
		if h := s.Envelope.SealedFor; h.Namespace != want[0] || h.Name != want[1] {
			t.Errorf("scope %s records %q/%q, want %q/%q (only what it binds)", scope, h.Namespace, h.Name, want[0], want[1])
		}
	}

	o, err := crypto.Open(ctx, a, tg, []keys.Identity{x.id})
	if err != nil {
		t.Fatal(err)
	}
	relabel := tg.Template
	relabel.Labels = map[string]string{"a": "c"}
	u, err := o.Update(ctx, rand.Reader, relabel, o.Values, rc)
	if err != nil {
		t.Fatal(err)
	}
	moved := tg
	moved.Template = relabel
	if _, err := crypto.Open(ctx, u, moved, []keys.Identity{x.id}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(u.Envelope.SealedFor.Template, ha.Template) {
		t.Error("a re-seal under another template kept the old template's record")
	}
}

// TestSealedForIsValidated: a record no Seal writes is a format error, so
// nothing printed from one carries a control character. Guard: SealedFor.check (sealedfor.go), called by Validate.
func TestSealedForIsValidated(t *testing.T) {
	x := newKey(t, true)
	s := seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	vals := map[string]string{}
	for k, v := range s.Values {
		vals[k] = base64.StdEncoding.EncodeToString(v)
	}
	with := func(edit func(h map[string]any)) []byte {
		b, _ := json.Marshal(s.Envelope)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		edit(m["sealedFor"].(map[string]any))
		b, _ = json.Marshal(m)
		return b
	}
	if _, err := crypto.Parse(with(func(map[string]any) {}), vals); err != nil {
		t.Fatalf("a record Seal wrote: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(h map[string]any)
		want string
	}{
		{"escape sequence in the name", func(h map[string]any) { h["name"] = "db\x1b[2J" }, "not a DNS-1123 subdomain"},
		{"newline in the namespace", func(h map[string]any) { h["namespace"] = "prod\nfake" }, "not a DNS-1123 label"},
		{"short template digest", func(h map[string]any) { h["template"] = "AAAA" }, "template is 3 bytes"},
		{"no template digest", func(h map[string]any) { delete(h, "template") }, "truncated or not a kseal envelope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := crypto.Parse(with(tc.edit), vals)
			if !errors.Is(err, crypto.ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a format error containing %q", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b\n") {
				t.Errorf("the error carries a control character: %q", err)
			}
		})
	}
}

// TestCutShortIsTruncated: an envelope that lost its end reads "truncated
// or not a kseal envelope", never "version 0". Guard: the missing-field
// cases of Validate (envelope.go).
func TestCutShortIsTruncated(t *testing.T) {
	x := newKey(t, true)
	s := seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	sec := s.Envelope.Sections[0]
	w := sec.Recipients[0]
	for _, tc := range []struct {
		name string
		env  string
	}{
		{"empty object", `{}`},
		{"null", `null`},
		{"version only", `{"version":2}`},
		{"no sections", `{"version":2,"scope":"strict"}`},
		{"a section without recipients", `{"version":2,"scope":"strict","sections":[{}]}`},
		{"a wrap without data", `{"version":2,"scope":"strict","sections":[{"recipients":[{"type":"` + w.Type + `","keyID":"` + w.KeyID + `"}]}]}`},
		{"a section without mac", `{"version":2,"scope":"strict","sections":[{"recipients":[{"type":"` + w.Type + `","keyID":"` + w.KeyID + `","data":"` + base64.StdEncoding.EncodeToString(w.Data) + `"}]}]}`},
		{"not an envelope", `{"scope":"strict","sections":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := crypto.Parse([]byte(tc.env), nil)
			if !errors.Is(err, crypto.ErrFormat) || !strings.Contains(err.Error(), "truncated or not a kseal envelope") || strings.Contains(err.Error(), "version 0") {
				t.Fatalf("got %v", err)
			}
		})
	}
}
