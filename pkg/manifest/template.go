package manifest

import (
	"fmt"
	"maps"
	"slices"
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
	if n, _ := nodeAt(d.node, append(fields, "type")...); n != nil && !yaml.IsMissingOrNull(n) {
		t.Type = n.YNode().Value
	}
	if n, _ := nodeAt(d.node, append(fields, "immutable")...); n != nil && !yaml.IsMissingOrNull(n) {
		t.Immutable = n.YNode().Value == "true"
	}
	return t
}

// checkTemplate makes sure the template fields have the shape Template
// reads: string maps, a string type, a boolean immutable.
func (d *Doc) checkTemplate() error {
	fields, meta := d.templatePath()
	for i := range fields {
		n, err := nodeAt(d.node, fields[:i+1]...)
		if err != nil {
			return err
		}
		if n != nil && !yaml.IsMissingOrNull(n) && n.YNode().Kind != yaml.MappingNode {
			return fmt.Errorf("%s: must be a mapping", strings.Join(fields[:i+1], "."))
		}
	}
	if d.Kind == KindSealedSecret {
		if err := d.onlyFields(sealedFields); err != nil {
			return err
		}
		if n, _ := nodeAt(d.node, meta...); n != nil && !yaml.IsMissingOrNull(n) && n.YNode().Kind != yaml.MappingNode {
			return fmt.Errorf("%s: must be a mapping", strings.Join(meta, "."))
		}
		for _, f := range []string{"labels", "annotations"} {
			n, _ := nodeAt(d.node, append(meta, f)...)
			if n == nil {
				continue
			}
			if err := checkStringMap(n.YNode()); err != nil {
				return fmt.Errorf("%s.%s%w", strings.Join(meta, "."), f, err)
			}
		}
	}
	// Scalars are read as kubectl reads them or refused (tags.go).
	if n, _ := nodeAt(d.node, append(fields, "type")...); n != nil && !yaml.IsMissingOrNull(n) {
		if err := plainString(n.YNode()); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(append(fields, "type"), "."), err)
		}
	}
	if n, _ := nodeAt(d.node, append(fields, "immutable")...); n != nil && !yaml.IsMissingOrNull(n) {
		if err := plainBool(n.YNode()); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(append(fields, "immutable"), "."), err)
		}
	}
	return nil
}

// sealedFields are the only fields a SealedSecret's spec, template and
// template metadata may hold (the CRD's). Anything else is refused rather
// than passed over: a spec.template.data or stringData would be plaintext
// in git that nothing seals, nothing authenticates and the API server
// prunes.
var sealedFields = map[string][]string{
	"spec":                   {"encryptedData", "envelope", "template"},
	"spec.template":          {"metadata", "type", "immutable"},
	"spec.template.metadata": {"labels", "annotations"},
}

// onlyFields refuses a field not listed for its mapping in allowed.
func (d *Doc) onlyFields(allowed map[string][]string) error {
	for _, path := range slices.Sorted(maps.Keys(allowed)) {
		n, err := nodeAt(d.node, strings.Split(path, ".")...)
		if err != nil || n == nil || n.YNode().Kind != yaml.MappingNode {
			continue // absent, or refused elsewhere as not a mapping
		}
		c := n.YNode().Content
		for i := 0; i+1 < len(c); i += 2 {
			if !slices.Contains(allowed[path], c[i].Value) {
				return fmt.Errorf("%s.%s: not a field of a SealedSecret (%s holds only %s); values belong in spec.encryptedData, sealed", path, c[i].Value, path, strings.Join(allowed[path], ", "))
			}
		}
	}
	return nil
}

// SetTemplate writes t as the template of a sealed document: a
// SealedSecret's spec.template, an encrypted Secret's own type, immutable
// flag, labels and annotations (its envelope annotation is kept). Nothing is
// touched when t equals the current template, so an edit that changes only
// values changes only value lines.
func (d *Doc) SetTemplate(t crypto.Template) error {
	if d.Kind != KindSealedSecret && d.Kind != KindEncrypted {
		return d.errorf("", "not sealed")
	}
	if sameTemplate(d.Template(), t) {
		return nil
	}
	fields, meta := d.templatePath()
	if d.Kind == KindSealedSecret {
		if _, err := d.node.Pipe(yaml.LookupCreate(yaml.MappingNode, fields...)); err != nil {
			return d.wrap("spec.template", err)
		}
	}
	labels, annotations := maps.Clone(t.Labels), maps.Clone(t.Annotations)
	if d.Kind == KindEncrypted {
		if env, ok := d.node.GetAnnotations()[EnvelopeAnnotation]; ok {
			if annotations == nil {
				annotations = map[string]string{}
			}
			annotations[EnvelopeAnnotation] = env
		}
	}
	for _, f := range []string{"labels", "annotations"} {
		m := labels
		if f == "annotations" {
			m = annotations
		}
		if err := setStringMap(d.node, m, append(slices.Clone(meta), f)...); err != nil {
			return d.wrap(strings.Join(append(slices.Clone(meta), f), "."), err)
		}
	}
	parent, err := nodeAt(d.node, fields...)
	if err != nil || parent == nil {
		return d.wrap(strings.Join(fields, "."), err)
	}
	if t.Type != "" {
		err = parent.PipeE(yaml.SetField("type", yaml.NewStringRNode(t.Type)))
	} else {
		err = parent.PipeE(yaml.Clear("type"))
	}
	if err != nil {
		return d.wrap("type", err)
	}
	if t.Immutable {
		err = parent.PipeE(yaml.SetField("immutable", boolNode(true)))
	} else {
		err = parent.PipeE(yaml.Clear("immutable"))
	}
	if err != nil {
		return d.wrap("immutable", err)
	}
	if d.Kind == KindSealedSecret {
		if m, _ := nodeAt(d.node, meta...); m != nil && len(m.YNode().Content) == 0 {
			_ = parent.PipeE(yaml.Clear("metadata"))
		}
		if len(parent.YNode().Content) == 0 {
			_ = d.node.PipeE(yaml.Lookup("spec"), yaml.Clear("template"))
		}
	}
	d.changed = true
	return nil
}

// setStringMap replaces the mapping at path with m (sorted by key), or
// removes it when m is empty.
func setStringMap(n *yaml.RNode, m map[string]string, path ...string) error {
	field := path[len(path)-1]
	if len(m) == 0 {
		parent, err := nodeAt(n, path[:len(path)-1]...)
		if err != nil || parent == nil {
			return err
		}
		return parent.PipeE(yaml.Clear(field))
	}
	parent, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, path[:len(path)-1]...))
	if err != nil {
		return err
	}
	if cur, _ := stringMap(n, path...); maps.Equal(cur, m) {
		return nil
	}
	out := yaml.NewMapRNode(nil)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := out.PipeE(yaml.SetField(k, yaml.NewStringRNode(m[k]))); err != nil {
			return err
		}
	}
	return parent.PipeE(yaml.SetField(field, out))
}

func sameTemplate(a, b crypto.Template) bool {
	norm := func(t string) string {
		if t == "" {
			return "Opaque"
		}
		return t
	}
	return norm(a.Type) == norm(b.Type) && a.Immutable == b.Immutable &&
		maps.Equal(a.Labels, b.Labels) && len(a.Labels) == len(b.Labels) &&
		maps.Equal(a.Annotations, b.Annotations)
}

func boolNode(b bool) *yaml.RNode {
	n := yaml.NewScalarRNode(fmt.Sprint(b))
	n.YNode().Tag = yaml.NodeTagBool
	return n
}
