package manifest

import (
	"maps"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/crypto"
)

// LastAppliedAnnotations are the annotations in which client-side apply
// tools keep a full copy of the object they applied (the controller's list:
// one list for both). On a Secret that copy holds every value in base64:
// sealing must never carry it along.
var LastAppliedAnnotations = ksealv1.LastAppliedAnnotations

// serverMetadata are the metadata fields the API server writes. They mean
// nothing in git, and managedFields can hold field values.
var serverMetadata = []string{
	"uid", "resourceVersion", "creationTimestamp", "generation",
	"managedFields", "ownerReferences", "selfLink", "deletionTimestamp",
	"deletionGracePeriodSeconds",
}

// StripServerMetadata removes what the API server and client-side apply
// put on an object read back from a cluster (kubectl get -o yaml): the
// last-applied annotations (in metadata and, for a SealedSecret, in
// spec.template.metadata), the server-written metadata fields and status.
// It returns the dotted paths it removed, so that callers can say so.
//
// On a sealed document this may change the template, which is sealed:
// only a caller that seals the values again (with a key) may use it there;
// the others use StripUnsealedMetadata.
func (d *Doc) StripServerMetadata() ([]string, error) {
	return d.strip(true)
}

// StripUnsealedMetadata removes from a sealed document what the API server
// writes and its commitment does not cover: the server-written metadata
// fields, status and, on a SealedSecret, the last-applied annotations of
// its own metadata (a copy of the SealedSecret). The template is left as
// it is: changing it takes a key. It returns the dotted paths it removed.
func (d *Doc) StripUnsealedMetadata() ([]string, error) {
	return d.strip(false)
}

// strip removes server metadata, and last-applied copies wherever they are
// not part of the template, or everywhere when template is true.
func (d *Doc) strip(template bool) ([]string, error) {
	if d.node == nil {
		return nil, nil
	}
	var removed []string
	clear := func(n *yaml.RNode, at, field string) error {
		if n == nil || n.Field(field) == nil {
			return nil
		}
		if err := n.PipeE(yaml.Clear(field)); err != nil {
			return d.wrap(at+field, err)
		}
		removed = append(removed, at+field)
		return nil
	}
	md := d.node.Field("metadata")
	if md != nil {
		for _, f := range serverMetadata {
			if err := clear(md.Value, "metadata.", f); err != nil {
				return nil, err
			}
		}
	}
	if err := clear(d.node, "", "status"); err != nil {
		return nil, err
	}
	var metas []*yaml.RNode
	var paths []string
	// An encrypted Secret's own annotations are its template.
	if md != nil && (template || d.Kind != KindEncrypted) {
		metas, paths = append(metas, md.Value), append(paths, "metadata.")
	}
	if d.Kind == KindSealedSecret && template {
		tm, _ := nodeAt(d.node, "spec", "template", "metadata")
		metas, paths = append(metas, tm), append(paths, "spec.template.metadata.")
	}
	for i, m := range metas {
		if m == nil || m.YNode().Kind != yaml.MappingNode {
			continue
		}
		a := m.Field("annotations")
		if a == nil || a.Value.YNode().Kind != yaml.MappingNode {
			continue
		}
		for _, k := range LastAppliedAnnotations {
			if a.Value.Field(k) == nil {
				continue
			}
			if err := a.Value.PipeE(yaml.Clear(k)); err != nil {
				return nil, d.wrap(paths[i]+"annotations", err)
			}
			removed = append(removed, paths[i]+"annotations["+k+"]")
		}
		if len(a.Value.YNode().Content) == 0 {
			if err := clear(m, paths[i], "annotations"); err != nil {
				return nil, err
			}
			removed = removed[:len(removed)-1]
		}
	}
	if len(removed) > 0 {
		d.changed = true
	}
	return removed, nil
}

// WithoutLastApplied returns t without the last-applied annotations: what a
// template must be once sealed again with a key.
func WithoutLastApplied(t crypto.Template) crypto.Template {
	if !slices.ContainsFunc(LastAppliedAnnotations, func(k string) bool { _, ok := t.Annotations[k]; return ok }) {
		return t
	}
	t.Annotations = maps.Clone(t.Annotations)
	for _, k := range LastAppliedAnnotations {
		delete(t.Annotations, k)
	}
	return t
}

// LastApplied returns the last-applied annotations the object carries, as
// "metadata.annotations[KEY]" or "spec.template.metadata.annotations[KEY]".
func (d *Doc) LastApplied() []string {
	if d.node == nil {
		return nil
	}
	var out []string
	look := func(prefix string, path ...string) {
		a, err := nodeAt(d.node, path...)
		if err != nil || a == nil || a.YNode().Kind != yaml.MappingNode {
			return
		}
		for _, k := range LastAppliedAnnotations {
			if a.Field(k) != nil {
				out = append(out, prefix+"["+k+"]")
			}
		}
	}
	look("metadata.annotations", "metadata", "annotations")
	if d.Kind == KindSealedSecret {
		look("spec.template.metadata.annotations", "spec", "template", "metadata", "annotations")
	}
	return slices.Clip(out)
}
