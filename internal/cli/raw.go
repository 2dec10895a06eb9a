package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// maxRawValue is what a Secret can hold at most (the API server's limit on
// an object), for a value read from standard input.
const maxRawValue = 1 << 20

type rawOpts struct {
	raw  bool
	name string
	key  string
}

func (r *rawOpts) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&r.raw, "raw", false, "seal one value read from standard input for --name/--namespace/--scope and print the spec of a SealedSecret holding it (for Helm values, like kubeseal --raw)")
	cmd.Flags().StringVar(&r.name, "name", "", "with --raw: the name of the Secret the value is for; with a plain dotenv file: the Secret it holds")
	cmd.Flags().StringVar(&r.key, "key", "", "with --raw: the value's key in the Secret")
}

// sealRaw seals the value on standard input as the only value of the
// Secret NAMESPACE/r.name and prints the spec of the SealedSecret that
// carries it: encryptedData and envelope, a whole envelope v2 object whose
// commitment binds the value to the scope's namespace and name, to its key
// and to an empty template. Put it under spec: of a SealedSecret of that
// name and namespace, with no spec.template.
func sealRaw(e *env, o *sealOpts, r *rawOpts, args []string) error {
	if len(args) > 0 || len(o.files.files) > 0 || o.files.inPlace || o.files.dryRun {
		return usagef("--raw reads one value from standard input; it takes no files, -i or --dry-run")
	}
	if r.key == "" {
		return usagef("--raw needs --key: the value's key in the Secret")
	}
	if err := crypto.CheckNewKey(r.key); err != nil {
		return usagef("--key %q: %v", r.key, err)
	}
	scope := o.target.scope.or(crypto.ScopeStrict)
	ns := o.namespace.flag
	if ns == "" && scope != crypto.ScopeCluster {
		ns = o.namespace.kubeconfigNamespace(e)
	}
	t := crypto.Target{Namespace: ns, Name: r.name}
	if err := scope.Check(t); err != nil {
		return usagef("--raw: %v (pass --name and -n as the scope needs)", err)
	}
	v, err := io.ReadAll(io.LimitReader(e.stdin, maxRawValue+1))
	if err != nil {
		return fmt.Errorf("standard input: %w", err)
	}
	if len(v) > maxRawValue {
		return fmt.Errorf("standard input: the value is larger than a Secret can hold (%d bytes)", maxRawValue)
	}
	text, err := manifest.SecretText(t, "", map[string][]byte{r.key: v})
	if err != nil {
		return err
	}
	strm, err := manifest.Parse([]byte(text))
	if err != nil {
		return err
	}
	d := strm.Docs[0]
	if t.Name == "" {
		// A cluster-scoped value binds no name; the document needs one to
		// be sealed, and it is not part of what the scope commits to.
		_ = d.Node().SetName("raw")
	}
	if err := sealPlain(e, "", d, o.spec(e, formSealed)); err != nil {
		return err
	}
	spec, err := d.Node().Pipe(yaml.Lookup("spec"))
	if err != nil || spec == nil {
		return fmt.Errorf("sealing produced no spec: %v", err)
	}
	out, err := spec.String()
	if err != nil {
		return err
	}
	_, err = io.WriteString(e.stdout, out)
	return err
}
