package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest"
)

// TestValidateObject: converted objects are checked against the CRD's
// schema before anything is written. The parser refuses such objects when
// they are read; here a converter's bug writes them (as the sealed-secrets
// import once wrote immutable as the string "true"), and the check, not
// the parser, must catch it.
func TestValidateObject(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "gitops", "apps", "orders", "db.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	set := func(path []string, field string, v *yaml.RNode) func(*yaml.RNode) error {
		return func(n *yaml.RNode) error {
			return n.PipeE(yaml.LookupCreate(yaml.MappingNode, path...), yaml.SetField(field, v))
		}
	}
	typed := func(value, tag string) *yaml.RNode {
		return yaml.NewRNode(&yaml.Node{Kind: yaml.ScalarNode, Value: value, Tag: tag})
	}
	for _, tc := range []struct {
		name   string
		mutate func(*yaml.RNode) error
		want   string
	}{
		{"as sealed", func(*yaml.RNode) error { return nil }, ""},
		{"immutable a boolean", set([]string{"spec", "template"}, "immutable", typed("true", yaml.NodeTagBool)), ""},
		{"immutable a string", set([]string{"spec", "template"}, "immutable", yaml.NewScalarRNode("true")), "spec.template.immutable in body must be of type boolean"},
		{"type a number", set([]string{"spec", "template"}, "type", typed("3", yaml.NodeTagInt)), "spec.template.type in body must be of type string"},
		{"unknown scope", set([]string{"spec", "envelope"}, "scope", yaml.NewStringRNode("wide")), "spec.envelope.scope in body should be one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := manifest.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			d := s.Docs[0]
			if err := tc.mutate(d.Node()); err != nil {
				t.Fatal(err)
			}
			err = validateObject(d)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
