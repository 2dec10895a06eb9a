package cli

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/fn/framework/command"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// isKRMBookkeeping reports whether an annotation is one that kustomize and
// the KRM function protocol set on every function input for their own
// tracking: exactly those keys, so that nothing else under the same
// prefixes (config.kubernetes.io/apply-time-mutation, …, which other tools
// act on) can ride past the commitment.
func isKRMBookkeeping(k string) bool {
	switch k {
	case "config.kubernetes.io/index", "config.kubernetes.io/path", "config.kubernetes.io/id",
		"config.k8s.io/id", "kustomize.config.k8s.io/id":
		return true
	}
	return strings.HasPrefix(k, "internal.config.kubernetes.io/") // kustomize drops these from its output
}

// krmOptions are the flags of krm.
type krmOptions struct {
	ids identityFlags
}

// newKRMCmd runs kseal as a KRM function (the kustomize plugin): it reads a
// ResourceList on standard input and replaces every SealedSecret and
// encrypted Secret by the plain Secret it stands for, the way KSOPS does for
// sops. kustomize runs it as an exec function:
//
//	# decrypt.yaml, listed under `transformers:` in kustomization.yaml
//	apiVersion: kseal.dev/v1alpha1
//	kind: Decrypt
//	metadata:
//	  name: kseal-decrypt
//	  annotations:
//	    config.kubernetes.io/function: |
//	      exec:
//	        path: kseal
//	        args: [krm]
//
//	kustomize build --enable-alpha-plugins --enable-exec overlays/prod
//
// Listed under `generators:` with a kseal SecretGenerator as its config, it
// makes a Secret from sealed dotenv files and sealed manifests instead
// (generator.go).
func newKRMCmd(e *env) *cobra.Command {
	o := &krmOptions{}
	p := framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		return runKRM(e, o, rl)
	})
	// The error is kseal's to print, once, as every command's is (the
	// framework would print it too, without a newline); and on failure
	// the ResourceList goes back empty, never with the Secrets opened
	// before the failing item.
	cmd := command.Build(framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		err := p.Process(rl)
		if err != nil {
			rl.Items, rl.Results = nil, nil
		}
		return err
	}), command.StandaloneDisabled, true)
	cmd.Use = "krm"
	cmd.Short = "Run as a KRM function (kustomize plugin): SealedSecrets and encrypted Secrets in, plain Secrets out"
	cmd.Long = `krm reads a KRM ResourceList on standard input and writes it back with every
SealedSecret and encrypted Secret opened into the plain Secret it stands for.
With a kseal SecretGenerator (apiVersion kseal.dev/v1alpha1) as its config,
listed under a kustomization's generators:, it adds the Secret made from the
sealed dotenv files (envs:) and sealed manifests (files:) the config lists.
Identities come from $KSEAL_AGE_KEY_FILE, $KSEAL_AGE_KEY, ~/.config/kseal/keys.txt,
--identity (in the function's exec args) and the cloud credential chains.
See docs/kustomize.md.`
	o.ids.register(cmd)
	return cmd
}

// runKRM opens every SealedSecret and encrypted Secret of rl into the plain
// Secret it stands for, and adds the generator's Secret when rl's config is
// a kseal SecretGenerator.
func runKRM(e *env, o *krmOptions, rl *framework.ResourceList) error {
	ids, err := o.ids.resolve(e)
	if err != nil {
		return err
	}
	for i, item := range rl.Items {
		n, err := openKRMItem(e, item, ids)
		if err != nil {
			return err
		}
		if n != nil {
			rl.Items[i] = n
		}
	}
	if isGeneratorConfig(rl.FunctionConfig) {
		// Run from a kustomization's generators: kustomize runs
		// an exec function in the kustomization's directory.
		n, err := generate(e, ".", rl.FunctionConfig, ids)
		if err != nil {
			return fmt.Errorf("kseal KRM function: %w", err)
		}
		rl.Items = append(rl.Items, n)
	}
	return nil
}

// openKRMItem opens item into the plain Secret it stands for; nil when it
// is not a sealed object.
func openKRMItem(e *env, item *yaml.RNode, ids []keys.Identity) (*yaml.RNode, error) {
	kind, av := item.GetKind(), item.GetApiVersion()
	if !(av == manifest.SealedAPIVersion && kind == manifest.SealedKind) && !(av == "v1" && kind == "Secret") {
		return nil, nil
	}
	// kustomize stamps its own bookkeeping annotations on every
	// item it hands a function; they are not part of what was
	// sealed, so they are set aside while opening and put back.
	bookkeeping := map[string]string{}
	sealed := item.Copy()
	for k, v := range item.GetAnnotations() {
		if isKRMBookkeeping(k) {
			bookkeeping[k] = v
			if err := sealed.PipeE(yaml.ClearAnnotation(k)); err != nil {
				return nil, err
			}
		}
	}
	text, err := sealed.String()
	if err != nil {
		return nil, err
	}
	strm, err := manifest.Parse([]byte(text))
	if err != nil {
		return nil, err
	}
	d := strm.Docs[0]
	if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
		return nil, nil
	}
	_, o, err := openDoc(e, d, ids)
	if err != nil {
		if d.Kind == manifest.KindEncrypted && errors.Is(err, crypto.ErrIntegrity) {
			err = hintError{err, "an encrypted Secret's labels and annotations are sealed with its values: a labels/commonAnnotations transformer in the same kustomization runs before kseal; list the kseal transformer in the kustomization that holds the sealed files and label in an overlay (docs/kustomize.md)"}
		}
		return nil, fmt.Errorf("kseal KRM function: %w", err)
	}
	// The Secret is exactly what was sealed: the template's labels,
	// annotations and type. Labels an overlay put on a SealedSecret
	// are not carried over (nothing authenticates them, and a label
	// such as argocd.argoproj.io/secret-type has side effects).
	n, err := plainSecretNode(strm, d, o.Values)
	if err != nil {
		return nil, err
	}
	a := n.GetAnnotations()
	maps.Copy(a, bookkeeping)
	if err := n.SetAnnotations(a); err != nil {
		return nil, err
	}
	return n, nil
}

// plainSecretNode turns d, the sealed object of strm, into the plain
// Secret of values and returns it as a node of its own, rendered as YAML
// (a sealed dotenv's stream would write a dotenv), for a KRM output item.
func plainSecretNode(strm *manifest.Stream, d *manifest.Doc, values map[string][]byte) (*yaml.RNode, error) {
	if err := d.ToPlain(values); err != nil {
		return nil, err
	}
	strm.AsYAML()
	out, err := strm.Bytes()
	if err != nil {
		return nil, err
	}
	return yaml.Parse(string(out))
}
