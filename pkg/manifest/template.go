package manifest

import (
	"fmt"
	"maps"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/crypto"
)

// templatePath is where a document keeps the fields of its template: a
// SealedSecret in spec.template, a Secret (plain or encrypted) at the top
// with its labels and annotations in metadata.
func (d *Doc) templatePath() (fields, meta []string) {
	if d.Kind == KindSealedSecret {
		return []string{"spec", "template"}, []string{"spec", "template", "metadata"}
	}
	return nil, []string{"metadata"}
}

// Template returns the template the document's values are bound to (see
// crypto.Template): for a plain Secret, the one sealing it will produce.
// The shape was checked when the document was parsed.
func (d *Doc) Template() crypto.Template {
	fields, meta := d.templatePath()
	var t crypto.Template
	t.Labels, _ = stringMap(d.node, append(meta, "labels")...)
	t.Annotations, _ = stringMap(d.node, append(meta, "annotations")...)
	if d.Kind != KindSealedSecret {
		t.Annotations = maps.Clone(t.Annotations)
		delete(t.Annotations, EnvelopeAnnotation)
	}
	if n, _ := d.node.Pipe(yaml.Lookup(append(fields, "type")...)); n != nil && !yaml.IsMissingOrNull(n) {
		t.Type = n.YNode().Value
	}
	if n, _ := d.node.Pipe(yaml.Lookup(append(fields, "immutable")...)); n != nil && !yaml.IsMissingOrNull(n) {
		t.Immutable = n.YNode().Value == "true"
	}
	return t
}

// checkTemplate makes sure the template fields have the shape Template
// reads: string maps, a string type, a boolean immutable.
func (d *Doc) checkTemplate() error {
	fields, meta := d.templatePath()
	for i := range fields {
		n, err := d.node.Pipe(yaml.Lookup(fields[:i+1]...))
		if err != nil {
			return err
		}
		if n != nil && !yaml.IsMissingOrNull(n) && n.YNode().Kind != yaml.MappingNode {
			return fmt.Errorf("%s: must be a mapping", strings.Join(fields[:i+1], "."))
		}
	}
	if d.Kind == KindSealedSecret {
		if n, _ := d.node.Pipe(yaml.Lookup(meta...)); n != nil && !yaml.IsMissingOrNull(n) && n.YNode().Kind != yaml.MappingNode {
			return fmt.Errorf("%s: must be a mapping", strings.Join(meta, "."))
		}
		for _, f := range []string{"labels", "annotations"} {
			if _, err := stringMap(d.node, append(meta, f)...); err != nil {
				return fmt.Errorf("%s.%s: %w", strings.Join(meta, "."), f, err)
			}
		}
	}
	if n, _ := d.node.Pipe(yaml.Lookup(append(fields, "type")...)); n != nil && !yaml.IsMissingOrNull(n) && n.YNode().Kind != yaml.ScalarNode {
		return fmt.Errorf("%s: must be a string", strings.Join(append(fields, "type"), "."))
	}
	if n, _ := d.node.Pipe(yaml.Lookup(append(fields, "immutable")...)); n != nil && !yaml.IsMissingOrNull(n) {
		if v := n.YNode(); v.Kind != yaml.ScalarNode || (v.Value != "true" && v.Value != "false") {
			return fmt.Errorf("%s: must be true or false", strings.Join(append(fields, "immutable"), "."))
		}
	}
	return nil
}
