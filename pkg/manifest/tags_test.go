package manifest_test

import (
	"maps"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsyaml "sigs.k8s.io/yaml"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// asKubectlReadsIt reads one object the way kubectl does (sigs.k8s.io/yaml:
// YAML 1.1, tags decoded, to JSON; then apimachinery's unstructured
// object), independently of kseal's own kubectl view. ok is false when
// kubectl could not apply the object's names and template: it refuses it.
func asKubectlReadsIt(t *testing.T, doc string, sealed bool) (crypto.Target, bool) {
	t.Helper()
	j, err := sigsyaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return crypto.Target{}, false
	}
	var u unstructured.Unstructured
	if err := u.UnmarshalJSON(j); err != nil {
		return crypto.Target{}, false
	}
	o := u.Object
	tmpl, meta := []string{}, []string{"metadata"}
	if sealed {
		tmpl, meta = []string{"spec", "template"}, []string{"spec", "template", "metadata"}
	}
	str := func(path ...string) (string, bool) {
		v, found, err := unstructured.NestedFieldNoCopy(o, path...)
		if !found || v == nil {
			return "", err == nil
		}
		s, ok := v.(string)
		return s, ok
	}
	strMap := func(path ...string) (map[string]string, bool) {
		v, found, _ := unstructured.NestedFieldNoCopy(o, path...)
		if !found || v == nil {
			return map[string]string{}, true
		}
		m, ok := v.(map[string]any)
		out := map[string]string{}
		for k, x := range m {
			if x == nil {
				x = "" // the API server decodes a null into a map of strings as ""
			}
			s, isStr := x.(string)
			if !isStr {
				return nil, false
			}
			out[k] = s
		}
		return out, ok
	}
	var tg crypto.Target
	var ok [6]bool
	tg.Name, ok[0] = str("metadata", "name")
	tg.Namespace, ok[1] = str("metadata", "namespace")
	tg.Template.Type, ok[2] = str(append(tmpl, "type")...)
	tg.Template.Labels, ok[3] = strMap(append(meta, "labels")...)
	tg.Template.Annotations, ok[4] = strMap(append(meta, "annotations")...)
	ok[5] = true
	if v, found, _ := unstructured.NestedFieldNoCopy(o, append(tmpl, "immutable")...); found && v != nil {
		tg.Template.Immutable, ok[5] = v.(bool)
	}
	if !sealed {
		delete(tg.Template.Annotations, manifest.EnvelopeAnnotation)
	}
	return tg, ok == [6]bool{true, true, true, true, true, true}
}

// TestTemplateIsReadAsKubectlReadsIt: names and template fields (type,
// immutable, labels, annotations) are read exactly as kubectl reads them,
// or the document is refused: a git writer sealing a whole new object
// (only public keys needed) must not show reviewers, inspect and verify a
// harmless type while `kseal decrypt | kubectl apply` creates a
// service-account-token Secret (issue 17, property 8).
//
// Guards: the tag rules (plainString, plainBool, plainKey: the cases
// "tagged") and the kubectl view's comparison (sameAsKubectl: the YAML
// 1.1 cases), each named in want.
func TestTemplateIsReadAsKubectlReadsIt(t *testing.T) {
	const token = "a3ViZXJuZXRlcy5pby9zZXJ2aWNlLWFjY291bnQtdG9rZW4=" // kubernetes.io/service-account-token
	secret := func(meta, rest string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod" + meta + "}\n" + rest + "stringData: {password: hunter2}\n"
	}
	encrypted := func(meta, rest string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod, annotations: {kseal.dev/envelope: '{}'" + meta + "}}\n" + rest + "data: {password: AAAA}\n"
	}
	sealed := func(tmpl string) string {
		return "apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: prod}\nspec:\n  template:\n" + tmpl + "  encryptedData: {password: AAAA}\n"
	}
	const (
		tagged = "written with the tag"
		unquot = "YAML reads this unquoted value as"
		view   = "kubectl reads"
	)
	for _, tc := range []struct {
		name, doc string
		sealed    bool
		want      string // "" when kseal must read it as kubectl does
	}{
		{"type !!binary (Secret)", secret("", "type: !!binary "+token+"\n"), false, "type: " + tagged},
		{"type !!binary (encrypted Secret)", encrypted("", "type: !!binary "+token+"\n"), false, "type: " + tagged},
		{"type !!binary (SealedSecret)", sealed("    type: !!binary " + token + "\n"), true, "spec.template.type: " + tagged},
		{"type with a local tag", secret("", "type: !t Opaque\n"), false, "type: " + tagged},
		{"type !!str is a string", secret("", "type: !!str Opaque\n"), false, ""},
		{"type yes", secret("", "type: yes\n"), false, "type: " + view + " the bool true"},
		{"type as a number", secret("", "type: 1\n"), false, "type: must be a string, and " + unquot + " a number"},
		{"type null", secret("", "type: ~\n"), false, ""},
		{"immutable !!str", secret("", "immutable: !!str true\n"), false, "immutable: " + tagged},
		{"immutable quoted", secret("", "immutable: 'true'\n"), false, "immutable: must be true or false"},
		{"immutable yes", sealed("    immutable: yes\n"), true, "spec.template.immutable: must be true or false"},
		{"immutable true", sealed("    immutable: true\n"), true, ""},
		{"label value !!binary", secret(", labels: {app: !!binary b3JkZXJz}", ""), false, `metadata.labels["app"]: ` + tagged},
		{"label key !!binary", secret(", labels: {!!binary YXBw: orders}", ""), false, `metadata.labels["YXBw"]: key ` + tagged},
		{"annotation value !!binary (encrypted Secret)", encrypted(", a: !!binary aGVsbG8=", ""), false, `metadata.annotations["a"]: ` + tagged},
		{"template label !!binary", sealed("    metadata: {labels: {app: !!binary b3JkZXJz}}\n"), true, `spec.template.metadata.labels["app"]: ` + tagged},
		{"template annotation yes", sealed("    metadata: {annotations: {a: yes}}\n"), true, `spec.template.metadata.annotations["a"]: ` + view + " no string"},
		{"template label key on", sealed("    metadata: {labels: {on: x}}\n"), true, `spec.template.metadata.labels["on"]: ` + view + " another key"},
		{"label value a number", secret(", labels: {version: 2}", ""), false, `metadata.labels["version"]: must be a string`},
		{"label value null", secret(", labels: {app: ~}", ""), false, `metadata.labels["app"]: must be a string`},
		{"label value empty", secret(", labels: {app: }", ""), false, ""},
		{"label value an unquoted date", secret(", labels: {day: 2026-12-05}", ""), false, ""},
		{"label value 1:20", secret(", labels: {t: 1:20}", ""), false, ""},
		{"name !!binary", "apiVersion: v1\nkind: Secret\nmetadata: {name: !!binary ZGI=, namespace: prod}\nstringData: {a: b}\n", false, "metadata.name: " + tagged},
		{"namespace !!binary", "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: !!binary cHJvZA==}\nstringData: {a: b}\n", false, "metadata.namespace: " + tagged},
		{"namespace n", "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: n}\nstringData: {a: b}\n", false, "metadata.namespace: " + view + " the bool false"},
		{"namespace 'n'", "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: 'n'}\nstringData: {a: b}\n", false, ""},
		{"name a number", "apiVersion: v1\nkind: Secret\nmetadata: {name: 123, namespace: prod}\nstringData: {a: b}\n", false, "metadata.name: must be a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := manifest.Parse([]byte(tc.doc))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v\nwant an error containing %q", err, tc.want)
				}
				if !strings.HasPrefix(err.Error(), "doc 1: ") {
					t.Errorf("the error does not name the document: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			want, ok := asKubectlReadsIt(t, tc.doc, tc.sealed)
			if !ok {
				t.Fatalf("accepted, and kubectl would not read it")
			}
			if got := s.Docs[0].Target(); !sameTarget(got, want) {
				t.Fatalf("kseal reads %+v\nkubectl reads %+v", got, want)
			}
		})
	}
	t.Run("values kubectl reads as no string are the API server's to refuse", func(t *testing.T) {
		if _, err := manifest.Parse([]byte(secret("", "") + "data: {port: 8080}\n")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a value kubectl reads as another string", func(t *testing.T) {
		_, err := manifest.Parse([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: !!binary aHVudGVyMg==}\n"))
		if err == nil || !strings.Contains(err.Error(), `stringData["password"]: kubectl reads another text`) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "aHVudGVyMg") {
			t.Fatalf("got %v", err)
		}
	})
}

// sameTarget compares names and templates, an empty type being Opaque.
func sameTarget(a, b crypto.Target) bool {
	norm := func(t string) string {
		if t == "" {
			return "Opaque"
		}
		return t
	}
	return a.Name == b.Name && a.Namespace == b.Namespace && norm(a.Template.Type) == norm(b.Template.Type) &&
		a.Template.Immutable == b.Template.Immutable &&
		maps.Equal(a.Template.Labels, b.Template.Labels) && maps.Equal(a.Template.Annotations, b.Template.Annotations)
}
