package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest"
)

// kustomizationNames are the file names kustomize reads a kustomization
// from.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func isKustomization(file string) bool {
	return slices.Contains(kustomizationNames, filepath.Base(file))
}

// checkKustomization returns the plaintext findings of a kustomization's
// secretGenerator entries: literals (a value written in the kustomization
// itself), and envs and files that are not sealed (kustomize makes their
// content a Secret's values as it stands). A sealed dotenv under
// kustomize's own generator is a finding too: it gives a Secret of
// ciphertexts, which only the kseal SecretGenerator opens.
func checkKustomization(file string, data []byte) []finding {
	n, err := yaml.Parse(string(data))
	if err != nil {
		return []finding{{file, 1, fmt.Sprintf("not a kustomization kseal can read: %v", err)}}
	}
	dir := filepath.Dir(file)
	var out []finding
	for _, gn := range secretGenerators(n) {
		name := "(no name)"
		if f := gn.Field("name"); f != nil && f.Value.YNode().Kind == yaml.ScalarNode {
			name = f.Value.YNode().Value
		}
		at := func(line int, format string, a ...any) {
			out = append(out, finding{file, line, fmt.Sprintf("secretGenerator %s: ", name) + fmt.Sprintf(format, a...)})
		}
		if lf := gn.Field("literals"); lf != nil && lf.Value.YNode().Kind == yaml.SequenceNode {
			for _, l := range lf.Value.YNode().Content {
				k, _, ok := strings.Cut(l.Value, "=")
				if !ok || !manifest.EnvKey.MatchString(k) {
					k = "(a literal)" // never echo what may be a value
				}
				at(l.Line, "literal %s holds a plaintext value; seal it: kseal create %s --from-literal … -o %s.env, listed in a kseal SecretGenerator (docs/kustomize.md)", k, name, name)
			}
		}
		for _, e := range generatorEnvs(gn) {
			switch sealed, err := dotenvSealed(filepath.Join(dir, e.Value)); {
			case err != nil:
				at(e.Line, "envs %s: %v", e.Value, err)
			case sealed:
				at(e.Line, "envs %s is a sealed dotenv: kustomize's secretGenerator would make a Secret of its ciphertexts; list it in a kseal SecretGenerator (docs/kustomize.md)", e.Value)
			default:
				at(e.Line, "envs %s is a plaintext dotenv; seal it in place (kseal encrypt --name %s -n NAMESPACE -i %s) and list it in a kseal SecretGenerator (docs/kustomize.md)", e.Value, name, filepath.Join(dir, e.Value))
			}
		}
		if ff := gn.Field("files"); ff != nil && ff.Value.YNode().Kind == yaml.SequenceNode {
			for _, f := range ff.Value.YNode().Content {
				// KEY=PATH or PATH: kustomize makes the file's content
				// a value as it stands, so there is no sealed form.
				p := f.Value
				if _, after, ok := strings.Cut(p, "="); ok {
					p = after
				}
				at(f.Line, "files %s becomes a Secret value in plaintext; seal it (kseal create %s --from-file KEY=%s --encrypted-secret -o %s.sealed.yaml) and list that in a kseal SecretGenerator's files (docs/kustomize.md)", p, name, p, name)
			}
		}
	}
	return out
}

// generatorEnvs are the dotenv files a secretGenerator entry names (envs:,
// and the older env:).
func generatorEnvs(gn *yaml.RNode) []*yaml.Node {
	var envs []*yaml.Node
	if ef := gn.Field("envs"); ef != nil && ef.Value.YNode().Kind == yaml.SequenceNode {
		envs = ef.Value.YNode().Content
	}
	if ef := gn.Field("env"); ef != nil && ef.Value.YNode().Kind == yaml.ScalarNode {
		envs = append(envs, ef.Value.YNode())
	}
	return envs
}

// secretGenerators are the entries of a kustomization's secretGenerator.
func secretGenerators(n *yaml.RNode) []*yaml.RNode {
	gens := n.Field("secretGenerator")
	if gens == nil || gens.Value.YNode().Kind != yaml.SequenceNode {
		return nil
	}
	var out []*yaml.RNode
	for _, g := range gens.Value.YNode().Content {
		if g.Kind == yaml.MappingNode {
			out = append(out, yaml.NewRNode(g))
		}
	}
	return out
}

// dotenvSealed reads a dotenv file a kustomization or generator names:
// whether it is sealed, or why it cannot be read.
func dotenvSealed(p string) (bool, error) {
	data, _, err := readRegular(p)
	if err != nil {
		if os.IsNotExist(err) {
			return false, fmt.Errorf("not found")
		}
		return false, err
	}
	strm, err := manifest.ParseDotenv(data, "")
	if err != nil {
		return false, fmt.Errorf("not a dotenv kseal can read: %v", err)
	}
	return strm.Docs[0].Kind == manifest.KindEncrypted, nil
}

// checkGeneratorConfig returns the findings of a kseal SecretGenerator
// found among the manifests: sources that are not sealed (the generator
// refuses them at build time; the check says so before the commit).
func checkGeneratorConfig(file string, d *manifest.Doc) []finding {
	if av, kind := d.TypeMeta(); av != manifest.SealedAPIVersion || kind != GeneratorKind {
		return nil
	}
	n := d.OtherTree()
	if !isGeneratorConfig(n) {
		return nil
	}
	var out []finding
	dir := filepath.Dir(file)
	if ef := n.Field("envs"); ef != nil && ef.Value.YNode().Kind == yaml.SequenceNode {
		for _, e := range ef.Value.YNode().Content {
			switch sealed, err := dotenvSealed(filepath.Join(dir, e.Value)); {
			case err != nil:
				out = append(out, finding{file, d.Line + e.Line - 1, fmt.Sprintf("%s %s: envs %s: %v", GeneratorKind, n.GetName(), e.Value, err)})
			case !sealed:
				out = append(out, finding{file, d.Line + e.Line - 1, fmt.Sprintf("%s %s: envs %s is a plaintext dotenv; seal it in place: kseal encrypt --name %s -n NAMESPACE -i %s", GeneratorKind, n.GetName(), e.Value, n.GetName(), filepath.Join(dir, e.Value))})
			}
		}
	}
	return out
}

// parseForCheck reads a file policy check was given: a dotenv file (named
// on the command line: a walk reads manifests only) as a dotenv, nil for a
// plain one; anything else as a manifest stream.
func parseForCheck(file string, data []byte) (*manifest.Stream, error) {
	if !manifest.IsDotenvName(file) {
		// data is the file as just read, and only ever read: the
		// stream's documents share it rather than a copy of it.
		return manifest.ParseText(ownText(data))
	}
	strm, err := manifest.ParseDotenv(data, "")
	switch {
	case err != nil && bytes.Contains(data, []byte(manifest.DotenvEnvelopePrefix)):
		return nil, err // a sealed dotenv, damaged
	case err != nil:
		// Not a dotenv kustomize reads either (export lines, say): a
		// finding only when a kustomization makes a Secret of it.
		return nil, nil
	case strm.Docs[0].Kind != manifest.KindEncrypted:
		return nil, nil
	}
	return strm, nil
}

// checkPlainDotenv returns a finding for a plain dotenv file named on the
// command line (the pre-commit hook passes the staged files) when a
// kustomization in its directory or above makes a Secret of it: kustomize
// reads envs only from inside the kustomization's directory, so those are
// the only kustomizations that can.
func checkPlainDotenv(file string) []finding {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		for _, k := range kustomizationNames {
			kf := filepath.Join(dir, k)
			data, _, err := readRegular(kf)
			if err != nil {
				continue
			}
			n, err := yaml.Parse(string(data))
			if err != nil {
				continue
			}
			for _, gn := range secretGenerators(n) {
				for _, e := range generatorEnvs(gn) {
					if filepath.Join(dir, e.Value) == abs {
						return []finding{{file, 1, fmt.Sprintf("plaintext dotenv that %s makes a Secret of; seal it in place (kseal encrypt --name NAME -n NAMESPACE -i %s) and list it in a kseal SecretGenerator (docs/kustomize.md)", kf, file)}}
					}
				}
			}
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil || dir == filepath.Dir(dir) {
			return nil
		}
	}
}
