package cli

import (
	"fmt"
	"strings"

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
	target     recipientSource
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

// dotenvLong is what seal and encrypt say about dotenv files.
const dotenvLong = `

A dotenv file (.env, NAME.env, .env.NAME: KEY=VALUE lines as kubectl and
kustomize read them) is sealed as a sealed dotenv, by seal and encrypt
alike: still KEY=VALUE lines, each value a ciphertext bound to its key and
to the Secret --name names (in the namespace of -n), with the envelope on a
comment line. The kseal SecretGenerator makes a Secret of it in kustomize
(docs/kustomize.md); kseal decrypt turns it back. Comments are not kept: a
comment is often a value commented out. With -o yaml or json the dotenv's
Secret is written as a SealedSecret (seal) or encrypted Secret (encrypt).`

// newSealCmd is `kseal seal`: plain Secrets become SealedSecrets.
func newSealCmd(e *env) *cobra.Command {
	o := &sealOpts{}
	var raw rawOpts
	cmd := &cobra.Command{
		Use:   "seal [FILE|DIR]...",
		Short: "Turn Secrets into SealedSecrets (kseal.dev/v1alpha1) for the controller to unseal",
		Long: `seal turns every plain Secret in the input into a SealedSecret: values are
encrypted under a fresh data key wrapped to each recipient; labels,
annotations, type and immutable become the template of the Secret the
controller creates. Documents that are not plain Secrets pass through.` + dotenvLong,
		Example: `  kseal seal -r age1pq1… -f secret.yaml > sealed.yaml
  kseal seal --recipients-file cluster.pub -R -i k8s/
  printf %s "$DB_PASSWORD" | kseal seal --raw -n prod --name db --key password -r age1pq1…
  kseal seal --name app -n shop -r age1… -i app.env`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if raw.raw {
				return sealRaw(e, o, &raw, args)
			}
			if raw.key != "" {
				return usagef("--key goes with --raw")
			}
			o.files.dotenvName = raw.name // the Secret of a plain dotenv
			return runSeal(e, o, formSealed, args)
		},
	}
	o.register(cmd, true)
	o.output.register(cmd)
	o.files.dotenv = true
	o.files.each, o.files.plain = true, true
	raw.register(cmd)
	return cmd
}

// newEncryptCmd is `kseal encrypt`: plain Secrets are sealed in place,
// staying Secrets.
func newEncryptCmd(e *env) *cobra.Command {
	o := &sealOpts{}
	cmd := &cobra.Command{
		Use:   "encrypt [FILE|DIR]...",
		Short: "Encrypt Secrets in place (still kind Secret; envelope in an annotation)",
		Long: `encrypt replaces the values of every plain Secret by ciphertext, keeping the
object a Secret (kubesec style), for teams without the controller: decrypt
it in CI with kseal decrypt. stringData moves to data.` + dotenvLong,
		Example: `  kseal encrypt -r age1… -i secret.yaml
  kseal decrypt secret.yaml | kubectl apply -f -
  kseal encrypt --name app -n shop -r age1… -i app.env`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSeal(e, o, formEncrypted, args)
		},
	}
	o.register(cmd, true)
	o.output.register(cmd)
	o.files.dotenv = true
	o.files.each, o.files.plain = true, true
	cmd.Flags().StringVar(&o.files.dotenvName, "name", "", "the name of the Secret a plain dotenv file holds")
	return cmd
}

// runSeal seals the plain Secrets of the files args name (standard input
// when none) into form f, as seal and encrypt do.
func runSeal(e *env, o *sealOpts, f form, args []string) error {
	if err := o.output.check(o.files.inPlace); err != nil {
		return err
	}
	ins, err := o.files.read(e, args)
	if err != nil {
		return err
	}
	if err := checkCutShortAll(ins); err != nil {
		return err
	}
	if err := checkDotenvInputs(ins, o.files.dotenvName); err != nil {
		return err
	}
	// Before any sealing: an output too big to read back is refused
	// at once, not after sealing it all.
	if err := sealedSizeCheck(e, &o.target, ins, o.files.inPlace); err != nil {
		return err
	}
	spec := o.spec(e, f)
	verb := "sealed"
	if f == formEncrypted {
		verb = "encrypted"
	}
	sum := summarize(ins, verb, "plain Secret", []manifest.Kind{manifest.KindSecret})
	err = eachSettled(e, "sealing", o.files.jobs, ins, []manifest.Kind{manifest.KindSecret}, func(in *input, d *manifest.Doc) error {
		if foreignKind(d) != "" {
			return nil // a Secret sops encrypted: reported, never sealed as plaintext
		}
		s := spec
		if in.strm.IsDotenv() && o.output.format == "" {
			s.form = formEncrypted // a sealed dotenv is an encrypted Secret
		}
		return sealPlain(e, fileName(in), d, s)
	})
	if err != nil {
		return err
	}
	werr := o.files.writeAs(e, ins, &o.output)
	if werr == nil {
		for _, in := range ins {
			if n := in.strm.DotenvComments(); n > 0 && in.dirty && !o.files.dryRun {
				fmt.Fprintf(e.stderr, "kseal: %s: %s left out of the sealed dotenv (comments are not sealed, and a comment is often a value commented out)\n", printable(in.name), countNoun(n, "comment line"))
			}
		}
	}
	return sum.finish(e, o.files.dryRun, werr)
}

// checkDotenvInputs refuses, before anything is sealed, plain dotenv files
// the command cannot seal: a plain dotenv names no Secret, so --name must
// (one such file at a time).
func checkDotenvInputs(ins []*input, name string) error {
	var plain []string
	for _, in := range ins {
		if in.strm.IsDotenv() && in.strm.Docs[0].Kind == manifest.KindSecret {
			plain = append(plain, in.name)
		}
	}
	switch {
	case len(plain) > 0 && name == "":
		return hintError{usagef("%s: a plain dotenv names no Secret: pass --name NAME (and -n NAMESPACE); nothing written", plain[0]), "the values are bound to that Secret: the kseal SecretGenerator makes it under that name (docs/kustomize.md)"}
	case len(plain) > 1:
		return usagef("--name names one Secret, and %s are plain dotenv files: seal one at a time", strings.Join(plain, ", "))
	case len(plain) == 0 && name != "":
		return usagef("--name names the Secret of a plain dotenv file, and the input holds none")
	}
	return nil
}
