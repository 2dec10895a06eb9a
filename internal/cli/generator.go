package cli

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// GeneratorKind is the kind of kseal's generator config: kustomize's
// secretGenerator over sealed sources, run by `kseal krm` from a
// kustomization's generators: list (as KSOPS's ksops kind runs over sops
// files). docs/kustomize.md, "Generating Secrets".
const GeneratorKind = "SecretGenerator"

// Annotations kustomize reads on what an exec generator emits
// (api/internal/plugins/utils.UpdateResourceOptions).
const (
	kustomizeNeedsHash = "kustomize.config.k8s.io/needs-hash"
	kustomizeBehavior  = "kustomize.config.k8s.io/behavior"
)

// generatorConfig is a kseal SecretGenerator. The Secret's name and
// namespace are the config's own metadata, as kustomize's secretGenerator
// names its Secret. Everything else the Secret is — values, type, labels,
// annotations — comes from the sealed sources, where it is authenticated:
// the config is a git writer's plain text.
type generatorConfig struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   generatedMeta `json:"metadata"`
	// Type, when set, must be the sources' sealed type: it documents the
	// Secret in the config without letting the config change it.
	Type string `json:"type,omitempty"`
	// Envs are sealed dotenv files (kseal encrypt --name NAME -i app.env).
	Envs []string `json:"envs,omitempty"`
	// Files are sealed manifests, each one encrypted Secret or SealedSecret
	// (kseal create NAME --from-file KEY=PATH --encrypted-secret).
	Files    []string `json:"files,omitempty"`
	Behavior string   `json:"behavior,omitempty"`
	Options  struct {
		DisableNameSuffixHash bool `json:"disableNameSuffixHash,omitempty"`
	} `json:"options,omitempty"`
}

// generatedMeta is the metadata a generator config gives the Secret it
// makes (a kseal SecretGenerator, or a KSOPS secretFrom entry).
type generatedMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// isGeneratorConfig reports whether n is a kseal SecretGenerator.
func isGeneratorConfig(n *yaml.RNode) bool {
	return n != nil && n.GetApiVersion() == manifest.SealedAPIVersion && n.GetKind() == GeneratorKind
}

// generate builds the Secret a kseal SecretGenerator stands for. Each
// source is opened as that Secret: its values were sealed for an object,
// and the scope decides whether the generated name and namespace may
// differ from it (strict: neither; namespace: the name), exactly as for a
// renamed SealedSecret. Sources are read relative to dir (kustomize runs an
// exec function in the kustomization's directory) and may not leave it.
func generate(e *env, dir string, fc *yaml.RNode, ids []keys.Identity) (*yaml.RNode, error) {
	g, where, err := readGeneratorConfig(fc)
	if err != nil {
		return nil, err
	}
	srcs, err := g.sources(where)
	if err != nil {
		return nil, err
	}
	m := merged{values: map[string][]byte{}, from: map[string]string{}}
	for _, src := range srcs {
		if err := m.add(e, dir, g, where, srcs[0], src, ids); err != nil {
			return nil, err
		}
	}
	if g.Type != "" && normType(g.Type) != normType(m.tmpl.Type) {
		return nil, hintError{fmt.Errorf("%s: type %q, but the sources were sealed as type %q", where, g.Type, normType(m.tmpl.Type)),
			"the type is sealed with the values (a git writer cannot change it): seal the source with that type (kseal create --type, or type: in the Secret you encrypt), or drop type: from the generator"}
	}
	n, err := plainSecretNode(m.first, m.first.Docs[0], m.values)
	if err != nil {
		return nil, err
	}
	if err := g.annotate(n, where); err != nil {
		return nil, err
	}
	return n, nil
}

// readGeneratorConfig decodes a SecretGenerator and checks what it asks
// for; where names it in errors.
func readGeneratorConfig(fc *yaml.RNode) (*generatorConfig, string, error) {
	var g generatorConfig
	text, err := fc.String()
	if err != nil {
		return nil, "", err
	}
	// Strict: an unknown field (a typo, or kustomize's literals:) is an
	// error, never a Secret quietly missing values.
	if err := sigsyaml.UnmarshalStrict([]byte(text), &g); err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", GeneratorKind, fc.GetName(), err)
	}
	where := fmt.Sprintf("%s %s", GeneratorKind, crypto.Target{Namespace: g.Metadata.Namespace, Name: g.Metadata.Name})
	if err := manifest.CheckName(g.Metadata.Name); err != nil {
		return nil, "", fmt.Errorf("%s: metadata.name: %w", where, err)
	}
	switch g.Behavior {
	case "", "create", "merge", "replace":
	default:
		return nil, "", fmt.Errorf("%s: behavior %q: want create, merge or replace", where, g.Behavior)
	}
	if len(g.Envs)+len(g.Files) == 0 {
		return nil, "", fmt.Errorf("%s: no envs or files: nothing to generate", where)
	}
	return &g, where, nil
}

// sources lists the generator's sealed files, envs first.
func (g *generatorConfig) sources(where string) ([]source, error) {
	var srcs []source
	for _, f := range g.Envs {
		if !manifest.IsDotenvName(f) {
			return nil, fmt.Errorf("%s: envs: %s: not named as a dotenv file (.env, NAME.env, .env.NAME)", where, f)
		}
		srcs = append(srcs, source{field: "envs", path: f})
	}
	for _, f := range g.Files {
		srcs = append(srcs, source{field: "files", path: f})
	}
	return srcs, nil
}

// merged is the one Secret a generator's sources open into.
type merged struct {
	first  *manifest.Stream // the first source: its object is the output's shape
	tmpl   crypto.Template  // the first source's; every other must match it
	values map[string][]byte
	from   map[string]string // value name → the source that gave it
}

// add opens the source src as the generated Secret and adds its values;
// head is the first source, named when src disagrees with it.
func (m *merged) add(e *env, dir string, g *generatorConfig, where string, head, src source, ids []keys.Identity) error {
	d, strm, err := src.read(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	ns := g.Metadata.Namespace
	if ns == "" {
		// The kustomization's namespace: comes later; the Secret is
		// made in the namespace its values were sealed for.
		ns = d.Node().GetNamespace()
	}
	if m.first != nil && ns != m.first.Docs[0].Node().GetNamespace() {
		return fmt.Errorf("%s: %s %s: sealed for namespace %q, %s for %q: set metadata.namespace", where, src.field, src.path, d.Node().GetNamespace(), head.path, m.first.Docs[0].Node().GetNamespace())
	}
	// Opened as the generated Secret, never as what the file says.
	if err := d.Node().SetName(g.Metadata.Name); err != nil {
		return err
	}
	if err := d.Node().SetNamespace(ns); err != nil {
		return err
	}
	_, o, err := openDoc(e, d, ids)
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", where, src.field, src.path, err)
	}
	t := d.Template()
	if m.first == nil {
		m.first, m.tmpl = strm, t
	} else if !sameSealedTemplate(m.tmpl, t) {
		return fmt.Errorf("%s: %s %s: its sealed type, labels or annotations differ from %s's: one Secret has one template", where, src.field, src.path, head.path)
	}
	for k, v := range o.Values {
		if prev, dup := m.from[k]; dup {
			return fmt.Errorf("%s: key %q is in both %s and %s", where, k, prev, src.path)
		}
		m.from[k], m.values[k] = src.path, v
	}
	return nil
}

// annotate sets the annotations kustomize reads on a generated Secret:
// whether to add the name's hash suffix, and the generator's behavior.
func (g *generatorConfig) annotate(n *yaml.RNode, where string) error {
	a := n.GetAnnotations()
	if _, ok := a[kustomizeNeedsHash]; ok {
		return fmt.Errorf("%s: the sealed annotation %s is kustomize's to set: use options.disableNameSuffixHash", where, kustomizeNeedsHash)
	}
	a[kustomizeNeedsHash] = fmt.Sprint(!g.Options.DisableNameSuffixHash)
	if g.Behavior != "" {
		a[kustomizeBehavior] = g.Behavior
	}
	return n.SetAnnotations(a)
}

// source is one sealed file a generator lists.
type source struct{ field, path string }

// read reads and parses the source: one sealed object, an encrypted Secret
// (a sealed dotenv is one) or a SealedSecret.
func (s source) read(dir string) (*manifest.Doc, *manifest.Stream, error) {
	name := fmt.Sprintf("%s %s", s.field, s.path)
	if s.path == "" || filepath.IsAbs(s.path) || !filepath.IsLocal(s.path) {
		return nil, nil, fmt.Errorf("%s: a path inside the kustomization's directory, as kustomize requires", name)
	}
	p := filepath.Join(dir, s.path)
	if err := insideDir(dir, p); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	data, _, err := readRegular(p)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, nil, fmt.Errorf("%s: larger than %d bytes", name, maxFileSize)
	}
	var strm *manifest.Stream
	if s.field == "envs" {
		strm, err = manifest.ParseDotenv(data, "")
	} else {
		strm, err = manifest.Parse(data)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(strm.Docs) != 1 {
		return nil, nil, fmt.Errorf("%s: holds %d documents; a source is one sealed object", name, len(strm.Docs))
	}
	d := strm.Docs[0]
	if d.Kind != manifest.KindEncrypted && d.Kind != manifest.KindSealedSecret {
		if s.field == "envs" {
			return nil, nil, hintError{fmt.Errorf("%s: a plain dotenv: a generator's sources are sealed", name), "seal it in place: kseal encrypt --name NAME -n NAMESPACE -i " + s.path}
		}
		return nil, nil, fmt.Errorf("%s: a %s, not an encrypted Secret or SealedSecret: a generator's sources are sealed", name, d.Kind)
	}
	return d, strm, nil
}

func normType(t string) string {
	if t == "" {
		return "Opaque"
	}
	return t
}

// sameSealedTemplate reports whether two sources seal the same template.
func sameSealedTemplate(a, b crypto.Template) bool {
	return normType(a.Type) == normType(b.Type) && a.Immutable == b.Immutable &&
		maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations)
}

// insideDir refuses p unless its real location (links resolved) is inside
// dir's: a committed link must not make kseal read, or write, a file
// elsewhere on the machine of whoever runs it.
func insideDir(dir, p string) error {
	real, err := realPath(p)
	if err != nil {
		return err
	}
	root, err := realPath(dir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(rel) {
		return errors.New("a link that leads outside the kustomization's directory")
	}
	return nil
}
