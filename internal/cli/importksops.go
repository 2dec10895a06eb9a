package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"kseal.dev/kseal/internal/importer/sops"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// KSOPS's generator config (github.com/viaduct-ai/kustomize-sops).
const (
	ksopsAPIVersion = "viaduct.ai/v1"
	ksopsKind       = "ksops"
)

// ksopsConfig is what import reads of a ksops generator: files (sops
// files of Secrets) and secretFrom (Secrets built from sops-encrypted
// files, importksopsfrom.go).
type ksopsConfig struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Files      []string       `json:"files,omitempty"`
	SecretFrom []any          `json:"secretFrom,omitempty"`
}

// ksopsFunction is the exec function annotation of a converted generator.
const ksopsFunction = "exec:\n  path: kseal\n  args: [krm]\n"

func newImportKsopsCmd(e *env) *cobra.Command {
	o := &importOpts{}
	cmd := &cobra.Command{
		Use:   "ksops -i [FILE|DIR]...",
		Short: "Convert KSOPS generators (viaduct.ai/v1 ksops) and their sops files into kseal SecretGenerators",
		Long: `ksops finds every KSOPS generator (apiVersion viaduct.ai/v1, kind ksops) in
the files given, decrypts the sops files it lists (files:, each one or more
Secrets) as import sops does, writes each Secret sealed as an encrypted
Secret next to its sops file (NAME.kseal.yaml), and replaces the generator
by one kseal SecretGenerator per Secret in the same file, so the
kustomization's generators: entry stays as it is. KSOPS makes no name hash
unless a Secret asks (kustomize.config.k8s.io/needs-hash); the converted
generators keep that. The sops files are left for you to delete once the
build works. Each secretFrom: entry (a Secret KSOPS builds from sops files:
envs, files, binaryFiles) is sealed as NAME.kseal.yaml beside the generator
and made by one SecretGenerator too; a dotenv line KSOPS's reader would
unquote or expand is refused (docs/migrate.md).`,
		Example: `  SOPS_AGE_KEY_FILE=team.key kseal import ksops --recipients-file cluster.pub -R -i overlays/`,
	}
	o.files.register(cmd, true)
	o.target.register(cmd, false)
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "", "namespace for Secrets that have none")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !o.files.inPlace {
			return usagef("import ksops rewrites generator files and writes sealed files next to the sops files: pass -i")
		}
		return runImportKsops(e, o, args)
	}
	return cmd
}

// ksopsOutput is one file import ksops writes.
type ksopsOutput struct {
	path string
	data []byte
}

func runImportKsops(e *env, o *importOpts, args []string) error {
	ins, err := o.files.read(e, args)
	if err != nil {
		return err
	}
	var outs []ksopsOutput
	gens, secrets := 0, 0
	for _, in := range ins {
		var parts []string
		found := false
		for _, d := range in.strm.Docs {
			if d.Item() >= 0 {
				continue
			}
			if av, kind := d.TypeMeta(); av != ksopsAPIVersion || kind != ksopsKind {
				parts = append(parts, d.Raw())
				continue
			}
			n, err := yaml.Parse(d.Raw())
			if err != nil || n.YNode().Kind != yaml.MappingNode || n.GetApiVersion() != ksopsAPIVersion || n.GetKind() != ksopsKind {
				parts = append(parts, d.Raw())
				continue
			}
			found = true
			gens++
			configs, sealed, err := convertKsops(e, o, in.name, n)
			if err != nil {
				return fmt.Errorf("%s: doc %d: ksops %s: %w; nothing written", in.name, d.Index, n.GetName(), err)
			}
			for _, s := range sealed {
				for _, prev := range outs {
					if prev.path == s.path {
						return fmt.Errorf("%s: written twice (two generators list its sops file); nothing written", s.path)
					}
				}
			}
			secrets += len(sealed)
			outs = append(outs, sealed...)
			parts = append(parts, configs...)
		}
		if found {
			outs = append(outs, ksopsOutput{in.name, []byte(joinDocs(parts))})
		}
	}
	if gens == 0 {
		return fmt.Errorf("no KSOPS generator (apiVersion %s, kind %s) in the files given", ksopsAPIVersion, ksopsKind)
	}
	// All converted before anything is written: a sops file that does not
	// open leaves the repository as it was.
	for _, out := range outs {
		if err := writeAtomic(out.path, out.data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "kseal: import ksops: %s converted into %s; the sops files are left in place (git rm them once kustomize build works)\n", countNoun(gens, "KSOPS generator"), countNoun(secrets, "SecretGenerator"))
	return nil
}

// joinDocs is a YAML stream of the documents' texts.
func joinDocs(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.WriteString(p)
		if !strings.HasSuffix(p, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// convertKsops converts one ksops generator read from the file named
// file: the SecretGenerator configs that replace it, and the sealed files.
func convertKsops(e *env, o *importOpts, file string, n *yaml.RNode) ([]string, []ksopsOutput, error) {
	var k ksopsConfig
	text, err := n.String()
	if err != nil {
		return nil, nil, err
	}
	if err := sigsyaml.UnmarshalStrict([]byte(text), &k); err != nil {
		return nil, nil, err
	}
	if len(k.Files)+len(k.SecretFrom) == 0 {
		return nil, nil, fmt.Errorf("no files or secretFrom")
	}
	dir := filepath.Dir(file)
	var configs []string
	var outs []ksopsOutput
	for i, entry := range k.SecretFrom {
		sd, err := convertSecretFrom(e, dir, entry)
		if err != nil {
			return nil, nil, fmt.Errorf("secretFrom[%d]: %w", i, err)
		}
		// Sealed beside the generator as NAME.kseal.yaml.
		cfg, out, err := sealKsopsSecret(e, o, dir, sd.Node().GetName()+".yaml", sd, false)
		if err != nil {
			return nil, nil, fmt.Errorf("secretFrom[%d] %s: %w", i, sd.Node().GetName(), err)
		}
		configs = append(configs, cfg)
		outs = append(outs, out)
	}
	for _, f := range k.Files {
		if filepath.IsAbs(f) || !filepath.IsLocal(f) {
			return nil, nil, fmt.Errorf("files %s: a path inside the generator's directory, as the kseal SecretGenerator requires", f)
		}
		if err := insideDir(dir, filepath.Join(dir, f)); err != nil {
			return nil, nil, fmt.Errorf("files %s: %w", f, err)
		}
		secretDocs, err := decryptKsopsFile(e, filepath.Join(dir, f))
		if err != nil {
			return nil, nil, fmt.Errorf("files %s: %w", f, err)
		}
		for _, sd := range secretDocs {
			cfg, out, err := sealKsopsSecret(e, o, dir, f, sd, len(secretDocs) > 1)
			if err != nil {
				return nil, nil, fmt.Errorf("files %s: %w", f, err)
			}
			configs = append(configs, cfg)
			outs = append(outs, out)
		}
	}
	seen := map[string]bool{}
	for _, out := range outs {
		if seen[out.path] {
			return nil, nil, fmt.Errorf("%s: written twice (two entries make a Secret of that name)", out.path)
		}
		seen[out.path] = true
	}
	return configs, outs, nil
}

// decryptKsopsFile opens a sops file a ksops generator lists with the sops
// importer: its MAC checked, every document a plain Secret.
func decryptKsopsFile(e *env, p string) ([]*manifest.Doc, error) {
	data, _, err := readRegular(p)
	if err != nil {
		return nil, err
	}
	strm, err := manifest.Parse(data)
	if err != nil {
		return nil, err
	}
	for _, d := range strm.Docs {
		if !sops.Encrypted(d) {
			return nil, fmt.Errorf("doc %d: not sops-encrypted; KSOPS would pass it as it stands, and kseal does not carry plaintext over", d.Index)
		}
		if err := sops.CheckMAC(d); err != nil {
			return nil, err
		}
	}
	bin, err := sops.Binary(e.getenv)
	if err != nil {
		return nil, err
	}
	format := "yaml"
	if strings.EqualFold(filepath.Ext(p), ".json") {
		format = "json"
	}
	clear, err := sops.Decrypt(e.ctx, bin, data, format)
	if err != nil {
		return nil, err
	}
	cs, err := manifest.Parse(clear)
	if err != nil {
		return nil, fmt.Errorf("decrypted: %w", err)
	}
	for _, d := range cs.Docs {
		if d.Kind != manifest.KindSecret {
			// Not shown: sops encrypted it.
			return nil, fmt.Errorf("doc %d: sops decrypted it to something other than a plain Secret (a %s); kseal converts Secrets only", d.Index, d.Kind)
		}
	}
	return cs.Docs, nil
}

// sealKsopsSecret seals one Secret of a sops file as an encrypted Secret
// beside it and returns the SecretGenerator config that makes it. The
// annotations KSOPS users set for kustomize (needs-hash, behavior) become
// the generator's options: they are kustomize's, not the Secret's.
func sealKsopsSecret(e *env, o *importOpts, dir, f string, sd *manifest.Doc, several bool) (string, ksopsOutput, error) {
	node := sd.Node()
	a := node.GetAnnotations()
	hash, behavior := a[kustomizeNeedsHash], a[kustomizeBehavior]
	for _, k := range []string{kustomizeNeedsHash, kustomizeBehavior} {
		if err := node.PipeE(yaml.ClearAnnotation(k)); err != nil {
			return "", ksopsOutput{}, err
		}
	}
	base := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
	base = strings.TrimSuffix(base, ".enc")
	if several {
		base += "-" + node.GetName()
	}
	rel := filepath.Join(filepath.Dir(f), base+".kseal.yaml")
	out := filepath.Join(dir, rel)
	if err := insideDir(dir, filepath.Dir(out)); err != nil {
		return "", ksopsOutput{}, fmt.Errorf("%s: %w", rel, err)
	}
	if _, err := os.Lstat(out); err == nil {
		return "", ksopsOutput{}, fmt.Errorf("%s exists: move it away first", out)
	}
	err := sealPlain(e, out, sd, sealSpec{
		form:       formEncrypted,
		target:     &o.target,
		scope:      crypto.ScopeStrict,
		namespace:  func(d *manifest.Doc) error { return d.SetNamespace(o.namespace) },
		allowEmpty: true,
	})
	if err != nil {
		return "", ksopsOutput{}, err
	}
	text, err := (&manifest.Stream{Docs: []*manifest.Doc{sd}}).Bytes()
	if err != nil {
		return "", ksopsOutput{}, err
	}
	g := yaml.NewMapRNode(nil)
	g.SetApiVersion(manifest.SealedAPIVersion)
	g.SetKind(GeneratorKind)
	if err := g.SetName(node.GetName()); err != nil {
		return "", ksopsOutput{}, err
	}
	if ns := node.GetNamespace(); ns != "" {
		if err := g.SetNamespace(ns); err != nil {
			return "", ksopsOutput{}, err
		}
	}
	if err := g.SetAnnotations(map[string]string{"config.kubernetes.io/function": ksopsFunction}); err != nil {
		return "", ksopsOutput{}, err
	}
	if err := g.PipeE(yaml.SetField("files", yaml.NewListRNode(filepath.ToSlash(rel)))); err != nil {
		return "", ksopsOutput{}, err
	}
	if behavior != "" {
		if err := g.PipeE(yaml.SetField("behavior", yaml.NewStringRNode(behavior))); err != nil {
			return "", ksopsOutput{}, err
		}
	}
	if hash != "true" {
		// KSOPS hashes a name only when the Secret asks.
		opts := yaml.NewMapRNode(&map[string]string{})
		t := yaml.NewScalarRNode("true")
		t.YNode().Tag = yaml.NodeTagBool
		if err := opts.PipeE(yaml.SetField("disableNameSuffixHash", t)); err != nil {
			return "", ksopsOutput{}, err
		}
		if err := g.PipeE(yaml.SetField("options", opts)); err != nil {
			return "", ksopsOutput{}, err
		}
	}
	cfg, err := g.String()
	if err != nil {
		return "", ksopsOutput{}, err
	}
	return cfg, ksopsOutput{out, text}, nil
}
