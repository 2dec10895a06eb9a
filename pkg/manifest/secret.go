package manifest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/crypto"
)

// Target returns the namespace, name and template of the document's
// object: everything its values are bound to.
func (d *Doc) Target() crypto.Target {
	return crypto.Target{Namespace: d.node.GetNamespace(), Name: d.node.GetName(), Template: d.Template()}
}

// SetNamespace sets metadata.namespace when the document has none. A
// namespace the API server would refuse (from -n, a kubeconfig) is refused
// as one read from the file is.
func (d *Doc) SetNamespace(ns string) error {
	if ns == "" || d.node.GetNamespace() != "" {
		return nil
	}
	if err := CheckNamespace(ns); err != nil {
		return d.wrap("metadata.namespace", err)
	}
	d.changed = true
	return d.node.SetNamespace(ns)
}

// Plain returns the values of a plain Secret: data (base64-decoded) merged
// with stringData, which wins as it does in the API server.
func (d *Doc) Plain() (map[string][]byte, error) {
	if d.Kind != KindSecret {
		return nil, d.errorf("", "not a plain Secret")
	}
	if d.node.GetName() == "" {
		return nil, d.errorf("metadata.name", "missing")
	}
	out := map[string][]byte{}
	data, err := stringMap(d.node, "data")
	if err != nil {
		return nil, d.wrap("data", err)
	}
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			return nil, d.errorf("data."+k, "not valid base64 (put plain text under stringData)")
		}
		out[k] = b
	}
	sd, err := stringMap(d.node, "stringData")
	if err != nil {
		return nil, d.wrap("stringData", err)
	}
	for k, v := range sd {
		out[k] = []byte(v)
	}
	for k := range out {
		if err := crypto.CheckNewKey(k); err != nil {
			return nil, d.wrap("data."+k, err)
		}
	}
	return out, nil
}

// stringMap reads the mapping at field of n as strings. Missing is empty.
func stringMap(n *yaml.RNode, path ...string) (map[string]string, error) {
	m, err := nodeAt(n, path...)
	if err != nil || m == nil || yaml.IsMissingOrNull(m) {
		return map[string]string{}, err
	}
	if m.YNode().Kind != yaml.MappingNode {
		return nil, errors.New("must be a mapping of keys to strings")
	}
	out := map[string]string{}
	err = m.VisitFields(func(f *yaml.MapNode) error {
		k := f.Key.YNode().Value
		if f.Value.YNode().Kind != yaml.ScalarNode {
			return fmt.Errorf("%s: must be a string", k)
		}
		if _, dup := out[k]; dup {
			return fmt.Errorf("%s: duplicate key", k)
		}
		out[k] = f.Value.YNode().Value
		return nil
	})
	return out, err
}

// valuesPath is where a sealed document keeps its value ciphertexts.
func (d *Doc) valuesPath() []string {
	if d.Kind == KindSealedSecret {
		return []string{"spec", "encryptedData"}
	}
	return []string{"data"}
}

// Sealed returns the sealed object of a SealedSecret or encrypted Secret,
// parsed by crypto.Parse (the parser the controller uses too). Structure is
// validated; nothing is decrypted.
func (d *Doc) Sealed() (*crypto.Sealed, error) {
	s, err := d.sealed()
	if err != nil && !errors.Is(err, crypto.ErrFormat) {
		err = malformed{err}
	}
	return s, err
}

func (d *Doc) sealed() (*crypto.Sealed, error) {
	var env []byte
	envField := "spec.envelope"
	switch d.Kind {
	case KindSealedSecret:
		n, err := nodeAt(d.node, "spec", "envelope")
		if err != nil || n == nil {
			return nil, d.errorf(envField, "missing: truncated or not a kseal envelope")
		}
		if env, err = nodeObjectJSON(n.YNode()); err != nil {
			return nil, d.wrap(envField, err)
		}
	case KindEncrypted:
		envField = "metadata.annotations[" + EnvelopeAnnotation + "]"
		env = []byte(d.node.GetAnnotations()[EnvelopeAnnotation])
	default:
		return nil, d.errorf("", "not sealed")
	}
	path := d.valuesPath()
	field := strings.Join(path, ".")
	raw, err := stringMap(d.node, path...)
	if err != nil {
		return nil, d.wrap(field, err)
	}
	if d.Kind == KindEncrypted {
		if sd, _ := stringMap(d.node, "stringData"); len(sd) > 0 {
			return nil, d.errorf("stringData", "an encrypted Secret must not carry stringData (plaintext next to ciphertext)")
		}
	}
	s, err := crypto.Parse(env, raw)
	var pe *crypto.ParseError
	switch {
	case errors.As(err, &pe) && pe.Key == "":
		return nil, d.wrap(envField, err)
	case errors.As(err, &pe):
		return nil, d.wrap(field+"."+pe.Key, err)
	case err != nil:
		return nil, d.wrap("", err)
	}
	return s, nil
}

// malformed marks err as a structural fault of a sealed object (exit 3
// whichever command finds it) without changing its message.
type malformed struct{ error }

func (m malformed) Unwrap() error { return m.error }

func (malformed) Is(target error) bool { return target == crypto.ErrFormat }

// envelopeNode renders env as block-style YAML in struct field order: the
// tree jsonNode reads from encoding/json's rendering of env, built
// directly (envtree.go) unless a string in it is not valid UTF-8.
func envelopeNode(env *crypto.Envelope) (*yaml.RNode, error) {
	if n, ok := envelopeTree(env); ok {
		return yaml.NewRNode(n), nil
	}
	j, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	n, err := jsonNode(j) // field order is kept
	if err != nil {
		return nil, err
	}
	return yaml.NewRNode(n), nil
}

// setValues writes vals (base64-encoded) as the mapping at path, keeping the
// nodes of entries whose value is unchanged and the order of existing keys;
// new keys are appended in sorted order.
func setValues(n *yaml.RNode, vals map[string][]byte, path ...string) error {
	m, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, path...))
	if err != nil {
		return err
	}
	if m.YNode().Kind != yaml.MappingNode || m.YNode().Style == yaml.FlowStyle {
		m.YNode().Kind, m.YNode().Style, m.YNode().Content, m.YNode().Tag = yaml.MappingNode, 0, nil, yaml.NodeTagMap
	}
	seen := map[string]bool{}
	var keep []*yaml.Node
	c := m.YNode().Content
	for i := 0; i+1 < len(c); i += 2 {
		k := c[i].Value
		v, ok := vals[k]
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		enc := base64.StdEncoding.EncodeToString(v)
		if c[i+1].Kind != yaml.ScalarNode || strings.TrimSpace(c[i+1].Value) != enc {
			c[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: enc, LineComment: c[i+1].LineComment}
		}
		keep = append(keep, c[i], c[i+1])
	}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if seen[k] {
			continue
		}
		keep = append(keep,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: k},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: base64.StdEncoding.EncodeToString(vals[k])})
	}
	m.YNode().Content = keep
	return nil
}

// copyFields copies the fields present under path in src into dst.
func copyFields(dst, src *yaml.RNode, path []string, fields ...string) error {
	for _, f := range fields {
		v, _ := nodeAt(src, append(slices.Clone(path), f)...)
		if v == nil || yaml.IsMissingOrNull(v) {
			continue
		}
		if err := dst.PipeE(yaml.SetField(f, v.Copy())); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

// ToSealedSecret turns a plain Secret into a SealedSecret carrying s. The
// Secret's labels, annotations, type and immutable flag become the template
// of the Secret the controller will create.
func (d *Doc) ToSealedSecret(s *crypto.Sealed) error {
	if d.Kind != KindSecret {
		return d.errorf("", "not a plain Secret")
	}
	n := d.node
	tmpl := yaml.NewMapRNode(nil)
	meta := yaml.NewMapRNode(nil)
	if err := copyFields(meta, n, []string{"metadata"}, "labels", "annotations"); err != nil {
		return d.wrap("metadata", err)
	}
	if len(meta.YNode().Content) > 0 {
		if err := tmpl.PipeE(yaml.SetField("metadata", meta)); err != nil {
			return d.wrap("", err)
		}
	}
	if err := copyFields(tmpl, n, nil, "type", "immutable"); err != nil {
		return d.wrap("", err)
	}
	for _, f := range []string{"type", "immutable", "data", "stringData"} {
		if err := n.PipeE(yaml.Clear(f)); err != nil {
			return d.wrap(f, err)
		}
	}
	setString(n, "apiVersion", SealedAPIVersion)
	setString(n, "kind", SealedKind)
	spec := yaml.NewMapRNode(nil)
	if len(tmpl.YNode().Content) > 0 {
		if err := spec.PipeE(yaml.SetField("template", tmpl)); err != nil {
			return d.wrap("spec.template", err)
		}
	}
	if err := n.PipeE(yaml.SetField("spec", spec)); err != nil {
		return d.wrap("spec", err)
	}
	d.Kind = KindSealedSecret
	return d.SetSealed(s)
}

// ToEncrypted replaces a plain Secret's values by their ciphertexts in
// place (stringData moves to data) and records the envelope in the
// kseal.dev/envelope annotation.
func (d *Doc) ToEncrypted(s *crypto.Sealed) error {
	if d.Kind != KindSecret {
		return d.errorf("", "not a plain Secret")
	}
	if err := d.node.PipeE(yaml.Clear("stringData")); err != nil {
		return d.wrap("stringData", err)
	}
	d.Kind = KindEncrypted
	return d.SetSealed(s)
}

// SetSealed writes s into a sealed document of either form. Value nodes
// whose ciphertext is unchanged are left as they are.
func (d *Doc) SetSealed(s *crypto.Sealed) error {
	switch d.Kind {
	case KindSealedSecret:
		en, err := envelopeNode(&s.Envelope)
		if err != nil {
			return d.wrap("spec.envelope", err)
		}
		if err := setValues(d.node, s.Values, "spec", "encryptedData"); err != nil {
			return d.wrap("spec.encryptedData", err)
		}
		if err := d.node.PipeE(yaml.Lookup("spec"), yaml.SetField("envelope", en)); err != nil {
			return d.wrap("spec.envelope", err)
		}
	case KindEncrypted:
		j, err := json.Marshal(&s.Envelope)
		if err != nil {
			return d.wrap("", err)
		}
		if err := setValues(d.node, s.Values, "data"); err != nil {
			return d.wrap("data", err)
		}
		if err := d.node.PipeE(yaml.SetAnnotation(EnvelopeAnnotation, string(j))); err != nil {
			return d.wrap("metadata.annotations", err)
		}
	default:
		return d.errorf("", "not sealed")
	}
	d.changed = true
	return nil
}

// ToPlain rewrites a sealed document as the plain Secret it stands for,
// holding values. The Secret is built afresh from what was sealed — name,
// namespace, the template's labels, annotations (less the envelope), type
// and immutable flag, and the values — so nothing else the file carries
// (a SealedSecret's own metadata, an encrypted Secret's stringData,
// ownerReferences or finalizers, none of which is authenticated) reaches
// whoever applies the output.
func (d *Doc) ToPlain(values map[string][]byte) error {
	if d.Kind != KindSealedSecret && d.Kind != KindEncrypted {
		return d.errorf("", "not sealed")
	}
	fields, metaPath := d.templatePath()
	n := yaml.NewMapRNode(nil)
	setString(n, "apiVersion", "v1")
	setString(n, "kind", "Secret")
	meta := yaml.NewMapRNode(nil)
	appendString(meta, "name", d.node.GetName())
	if ns := d.node.GetNamespace(); ns != "" {
		appendString(meta, "namespace", ns)
	}
	if err := copyFields(meta, d.node, metaPath, "labels", "annotations"); err != nil {
		return d.wrap(strings.Join(metaPath, "."), err)
	}
	if a, _ := nodeAt(meta, "annotations"); a != nil {
		// Not the Secret's: the envelope, and a last-applied copy (an old
		// version, values included) that a template sealed before kseal
		// stripped them may still carry.
		drop := slices.Clone(LastAppliedAnnotations)
		if d.Kind == KindEncrypted {
			drop = append(drop, EnvelopeAnnotation)
		}
		for _, k := range drop {
			if err := a.PipeE(yaml.Clear(k)); err != nil {
				return d.wrap("metadata.annotations", err)
			}
		}
		if len(a.YNode().Content) == 0 {
			_ = meta.PipeE(yaml.Clear("annotations"))
		}
	}
	if err := n.PipeE(yaml.SetField("metadata", meta)); err != nil {
		return d.wrap("", err)
	}
	if err := copyFields(n, d.node, fields, "type", "immutable"); err != nil {
		return d.wrap(strings.Join(fields, "."), err)
	}
	d.node = n
	if err := setValues(d.node, values, "data"); err != nil {
		return d.wrap("data", err)
	}
	d.Kind = KindSecret
	d.changed = true
	return nil
}

// SecretText renders a plain Secret holding values, for a person to read or
// edit: t's name, namespace and template (labels, annotations, type — typ
// when not empty — and immutable), UTF-8 values under stringData, anything
// else base64 under data.
func SecretText(t crypto.Target, typ string, values map[string][]byte) (string, error) {
	n := yaml.NewMapRNode(nil)
	setString(n, "apiVersion", "v1")
	setString(n, "kind", "Secret")
	if err := n.SetName(t.Name); err != nil {
		return "", err
	}
	if t.Namespace != "" {
		if err := n.SetNamespace(t.Namespace); err != nil {
			return "", err
		}
	}
	for _, f := range []string{"labels", "annotations"} {
		m := t.Template.Labels
		if f == "annotations" {
			m = t.Template.Annotations
		}
		if len(m) > 0 {
			if err := setStringMap(n, m, "metadata", f); err != nil {
				return "", err
			}
		}
	}
	if typ == "" {
		typ = t.Template.Type
	}
	if typ != "" {
		if err := n.PipeE(yaml.SetField("type", yaml.NewStringRNode(typ))); err != nil {
			return "", err
		}
	}
	if t.Template.Immutable {
		if err := n.PipeE(yaml.SetField("immutable", boolNode(true))); err != nil {
			return "", err
		}
	}
	bin, text := map[string][]byte{}, map[string][]byte{}
	for k, val := range values {
		if utf8.Valid(val) {
			text[k] = val
		} else {
			bin[k] = val
		}
	}
	if len(bin) > 0 {
		if err := setValues(n, bin, "data"); err != nil {
			return "", err
		}
	}
	if len(text) > 0 {
		sd, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, "stringData"))
		if err != nil {
			return "", err
		}
		for _, k := range slices.Sorted(maps.Keys(text)) {
			val := yaml.NewStringRNode(string(text[k]))
			if strings.Contains(string(text[k]), "\n") {
				val.YNode().Style = yaml.LiteralStyle
			}
			if err := sd.PipeE(yaml.SetField(k, val)); err != nil {
				return "", err
			}
		}
	}
	return n.MustString(), nil
}
