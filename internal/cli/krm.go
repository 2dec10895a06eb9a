package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/fn/framework/command"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest"
)

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
func newKRMCmd(e *env) *cobra.Command {
	var idf identityFlags
	p := framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		ids, err := idf.resolve(e)
		if err != nil {
			return err
		}
		for i, item := range rl.Items {
			kind, av := item.GetKind(), item.GetApiVersion()
			if !(av == manifest.SealedAPIVersion && kind == manifest.SealedKind) && !(av == "v1" && kind == "Secret") {
				continue
			}
			text, err := item.String()
			if err != nil {
				return err
			}
			strm, err := manifest.Parse([]byte(text))
			if err != nil {
				return err
			}
			d := strm.Docs[0]
			if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
				continue
			}
			_, o, err := openDoc(e, d, ids)
			if err != nil {
				return fmt.Errorf("kseal KRM function: %w", err)
			}
			if err := d.ToPlain(o.Values); err != nil {
				return err
			}
			out, err := strm.Bytes()
			if err != nil {
				return err
			}
			n, err := yaml.Parse(string(out))
			if err != nil {
				return err
			}
			// kustomize tracks resources by its own annotations; keep them,
			// and the labels overlays put on the sealed object.
			a := n.GetAnnotations()
			for k, v := range item.GetAnnotations() {
				if strings.HasPrefix(k, "config.kubernetes.io/") || strings.HasPrefix(k, "internal.config.kubernetes.io/") || strings.HasPrefix(k, "config.k8s.io/") {
					a[k] = v
				}
			}
			l := n.GetLabels()
			for k, v := range item.GetLabels() {
				l[k] = v
			}
			if err := n.SetAnnotations(a); err != nil {
				return err
			}
			if err := n.SetLabels(l); err != nil {
				return err
			}
			rl.Items[i] = n
		}
		return nil
	})
	cmd := command.Build(p, command.StandaloneDisabled, false)
	cmd.Use = "krm"
	cmd.Short = "Run as a KRM function (kustomize plugin): SealedSecrets and encrypted Secrets in, plain Secrets out"
	cmd.Long = `krm reads a KRM ResourceList on standard input and writes it back with every
SealedSecret and encrypted Secret opened into the plain Secret it stands for.
Identities come from $KSEAL_AGE_KEY_FILE, $KSEAL_AGE_KEY, ~/.config/kseal/keys.txt,
--identity (in the function's exec args) and the cloud credential chains.
See docs/kustomize.md.`
	idf.register(cmd)
	return cmd
}
