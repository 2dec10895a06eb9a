package v1alpha1_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"kseal.dev/kseal/pkg/crypto"
)

// TestCRDLimitsMatchCrypto keeps the limits the API server enforces (the
// generated CRD, from this package's markers) equal to the ones crypto.Parse
// enforces: what the API server admits the controller can read, and a
// SealedSecret the controller would refuse is refused at `kubectl apply`.
func TestCRDLimitsMatchCrypto(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "kseal.dev_sealedsecrets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(b, &crd); err != nil {
		t.Fatal(err)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Schema == nil {
		t.Fatal("want one version with a schema")
	}
	root := crd.Spec.Versions[0].Schema.OpenAPIV3Schema
	prop := func(s *apiextensionsv1.JSONSchemaProps, path ...string) *apiextensionsv1.JSONSchemaProps {
		t.Helper()
		for _, p := range path {
			switch {
			case p == "[]" && s.Items != nil && s.Items.Schema != nil:
				s = s.Items.Schema
			case p == "{}" && s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil:
				s = s.AdditionalProperties.Schema
			default:
				c, ok := s.Properties[p]
				if !ok {
					t.Fatalf("no %q in the CRD schema at %v", p, path)
				}
				s = &c
			}
		}
		return s
	}
	b64 := func(n int) int64 { return int64(base64.StdEncoding.EncodedLen(n)) }
	i64 := func(p *int64) int64 {
		if p == nil {
			return -1
		}
		return *p
	}
	f64 := func(p *float64) float64 {
		if p == nil {
			return -1
		}
		return *p
	}
	env := prop(root, "spec", "envelope")
	sections := prop(env, "sections")
	section := prop(sections, "[]")
	recipients := prop(section, "recipients")
	removed := prop(section, "removed")
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"spec.encryptedData maxProperties", i64(prop(root, "spec", "encryptedData").MaxProperties), crypto.MaxValues},
		{"sections minItems", i64(sections.MinItems), 1},
		{"sections maxItems", i64(sections.MaxItems), crypto.MaxSections},
		{"recipients minItems", i64(recipients.MinItems), 1},
		{"recipients maxItems", i64(recipients.MaxItems), crypto.MaxRecipients},
		{"removed maxItems", i64(removed.MaxItems), crypto.MaxValues},
		{"removed section maximum", int64(f64(prop(removed, "[]", "section").Maximum)), crypto.MaxSections - 1},
		{"removed section minimum", int64(f64(prop(removed, "[]", "section").Minimum)), 0},
		{"removed digest minLength", i64(prop(removed, "[]", "digest").MinLength), b64(crypto.DigestSize)},
		{"removed digest maxLength", i64(prop(removed, "[]", "digest").MaxLength), b64(crypto.DigestSize)},
		{"mac minLength", i64(prop(section, "mac").MinLength), b64(crypto.MACSize)},
		{"mac maxLength", i64(prop(section, "mac").MaxLength), b64(crypto.MACSize)},
		{"wrap data minLength", i64(prop(recipients, "[]", "data").MinLength), 1},
		{"wrap data maxLength", i64(prop(recipients, "[]", "data").MaxLength), b64(crypto.MaxWrapSize)},
		{"sealedFor template minLength", i64(prop(env, "sealedFor", "template").MinLength), b64(crypto.TemplateDigestSize)},
		{"sealedFor template maxLength", i64(prop(env, "sealedFor", "template").MaxLength), b64(crypto.TemplateDigestSize)},
	} {
		if c.got != c.want {
			t.Errorf("CRD %s is %d, crypto's limit is %d: change the marker in api/v1alpha1 and run make generate", c.name, c.got, c.want)
		}
	}
	enum := func(s *apiextensionsv1.JSONSchemaProps) []string {
		var out []string
		for _, e := range s.Enum {
			out = append(out, string(e.Raw))
		}
		return out
	}
	var scopes []string
	for _, s := range crypto.Scopes {
		j, _ := json.Marshal(s)
		scopes = append(scopes, string(j))
	}
	if got := enum(prop(env, "scope")); !slices.Equal(got, scopes) {
		t.Errorf("CRD scope enum %v, crypto.Scopes %v", got, scopes)
	}
	if got, want := enum(prop(env, "version")), []string{strconv.Itoa(crypto.FormatVersion)}; !slices.Equal(got, want) {
		t.Errorf("CRD version enum %v, crypto.FormatVersion %d", got, crypto.FormatVersion)
	}
}
