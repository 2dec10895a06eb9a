package cli

import (
	"crypto/rand"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

type form int

const (
	formSealed    form = iota // SealedSecret
	formEncrypted             // Secret sealed in place
)

type sealOpts struct {
	files     fileFlags
	target    sealTarget
	namespace string
}

func (o *sealOpts) register(cmd *cobra.Command, files bool) {
	if files {
		o.files.register(cmd, true)
	}
	o.target.register(cmd, true)
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "", "namespace for Secrets that have none")
}

// sealDoc seals one plain Secret document of file into the given form.
func sealDoc(e *env, file string, d *manifest.Doc, f form, t *sealTarget, ns string) error {
	// Before anything reads the template: a last-applied annotation is the
	// whole Secret again, values included.
	if _, err := d.StripServerMetadata(); err != nil {
		return err
	}
	if err := d.SetNamespace(ns); err != nil {
		return err
	}
	values, err := d.Plain()
	if err != nil {
		return err
	}
	scope, rcpts, err := t.resolve(e, file, d)
	if err != nil {
		return d.Err(err)
	}
	s, err := crypto.Seal(e.ctx, rand.Reader, scope, d.Target(), values, rcpts)
	if err != nil {
		return d.Err(err)
	}
	if f == formEncrypted {
		return d.ToEncrypted(s)
	}
	return d.ToSealedSecret(s)
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
		ins, err := o.files.read(e, args)
		if err != nil {
			return err
		}
		err = each(e, "sealing", o.files.jobs, ins, []manifest.Kind{manifest.KindSecret}, func(in *input, d *manifest.Doc) error {
			return sealDoc(e, fileName(in), d, f, &o.target, o.namespace)
		})
		if err != nil {
			return err
		}
		return o.files.write(e, ins)
	}
	return cmd
}

func newCreateCmd(e *env) *cobra.Command {
	o := &sealOpts{}
	var literals, fromFiles []string
	var typ, output string
	var encrypted bool
	cmd := &cobra.Command{
		Use:     "create NAME [--from-literal KEY=VALUE] [--from-file KEY=PATH]",
		Short:   "Create a sealed Secret from literals and files, like kubectl create secret generic",
		Example: `  kseal create db -n prod --from-literal user=app --from-file password=./pw.txt -r age1pq1… > db.yaml`,
		Args:    cobra.ExactArgs(1),
	}
	o.register(cmd, false)
	cmd.Flags().StringArrayVar(&literals, "from-literal", nil, "KEY=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&fromFiles, "from-file", nil, "KEY=PATH or PATH (key is the file name) (repeatable)")
	cmd.Flags().StringVar(&typ, "type", "", "Secret type (default Opaque)")
	cmd.Flags().BoolVar(&encrypted, "encrypted-secret", false, "emit an encrypted Secret instead of a SealedSecret")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE (atomically) instead of standard output; the policy covering FILE applies")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		values := map[string][]byte{}
		for i, l := range literals {
			k, v, ok := strings.Cut(l, "=")
			if !ok || k == "" {
				// Not quoted: without its KEY= the literal is the value.
				return usagef("--from-literal number %d: want KEY=VALUE (not shown: it may be the value)", i+1)
			}
			values[k] = []byte(v)
		}
		for i, ff := range fromFiles {
			k, p, ok := strings.Cut(ff, "=")
			if !ok {
				p = ff
				k = filepath.Base(p)
			}
			b, _, err := readRegular(p)
			if err != nil {
				return fromFileError(i, p, err)
			}
			values[k] = b
		}
		if len(values) == 0 {
			return usagef("no values: pass --from-literal or --from-file")
		}
		text, err := manifest.SecretText(crypto.Target{Namespace: o.namespace, Name: args[0]}, typ, values)
		if err != nil {
			return err
		}
		strm, err := manifest.Parse([]byte(text))
		if err != nil {
			return err
		}
		f := formSealed
		if encrypted {
			f = formEncrypted
		}
		if err := sealDoc(e, output, strm.Docs[0], f, &o.target, ""); err != nil {
			return err
		}
		out, err := strm.Bytes()
		if err != nil {
			return err
		}
		if output != "" {
			return writeAtomic(output, out, 0o644)
		}
		_, err = e.stdout.Write(out)
		return err
	}
	return cmd
}
