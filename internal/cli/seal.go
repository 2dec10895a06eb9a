package cli

import (
	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/manifest"
)

type form int

const (
	formSealed    form = iota // SealedSecret
	formEncrypted             // Secret sealed in place
)

type sealOpts struct {
	files      fileFlags
	target     sealTarget
	namespace  namespaceFlag
	allowEmpty bool
	output     outputFlag
}

func (o *sealOpts) register(cmd *cobra.Command, files bool) {
	if files {
		o.files.register(cmd, true)
	}
	o.target.register(cmd, true)
	cmd.Flags().StringVarP(&o.namespace.flag, "namespace", "n", "", "namespace for Secrets that have none (default: the kubeconfig context's); one that has another is an error")
	cmd.Flags().BoolVar(&o.allowEmpty, "allow-empty-data", false, "seal a Secret that has no values")
}

// spec is how the command seals its plain Secrets into form f.
func (o *sealOpts) spec(e *env, f form) sealSpec {
	return sealSpec{
		form:       f,
		target:     &o.target,
		namespace:  func(d *manifest.Doc) error { return o.namespace.apply(e, d) },
		allowEmpty: o.allowEmpty,
	}
}

func newSealCmd(e *env, f form) *cobra.Command {
	o := &sealOpts{}
	cmd := &cobra.Command{
		Use:   "seal [FILE|DIR]...",
		Short: "Turn Secrets into SealedSecrets (kseal.dev/v1alpha1) for the controller to unseal",
		Long: `seal turns every plain Secret in the input into a SealedSecret: values are
encrypted under a fresh data key wrapped to each recipient; labels,
annotations, type and immutable become the template of the Secret the
controller creates. Documents that are not plain Secrets pass through.`,
		Example: `  kseal seal -r age1pq1… -f secret.yaml > sealed.yaml
  kseal seal --recipients-file cluster.pub -R -i k8s/`,
	}
	if f == formEncrypted {
		cmd.Use = "encrypt [FILE|DIR]..."
		cmd.Short = "Encrypt Secrets in place (still kind Secret; envelope in an annotation)"
		cmd.Long = `encrypt replaces the values of every plain Secret by ciphertext, keeping the
object a Secret (kubesec style), for teams without the controller: decrypt
it in CI with kseal decrypt. stringData moves to data.`
		cmd.Example = `  kseal encrypt -r age1… -i secret.yaml
  kseal decrypt secret.yaml | kubectl apply -f -`
	}
	o.register(cmd, true)
	o.output.register(cmd)
	var raw rawOpts
	if f == formSealed {
		raw.register(cmd)
		cmd.Example += `
  printf %s "$DB_PASSWORD" | kseal seal --raw -n prod --name db --key password -r age1pq1…`
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if raw.raw {
			return sealRaw(e, o, &raw, args)
		}
		if raw.name != "" || raw.key != "" {
			return usagef("--name and --key go with --raw")
		}
		if err := o.output.check(o.files.inPlace); err != nil {
			return err
		}
		ins, err := o.files.read(e, args)
		if err != nil {
			return err
		}
		// Before any sealing: an output too big to read back is refused
		// at once, not after sealing it all.
		if err := sealedSizeCheck(e, &o.target, ins, o.files.inPlace); err != nil {
			return err
		}
		spec := o.spec(e, f)
		err = each(e, "sealing", o.files.jobs, ins, []manifest.Kind{manifest.KindSecret}, func(in *input, d *manifest.Doc) error {
			return sealPlain(e, fileName(in), d, spec)
		})
		if err != nil {
			return err
		}
		return o.files.writeAs(e, ins, &o.output)
	}
	return cmd
}
