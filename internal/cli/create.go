package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// createOptions are the flags of create.
type createOptions struct {
	seal      sealOpts
	literals  []string
	fromFiles []string
	envFiles  []string
	typ       string
	output    string
	encrypted bool
	force     bool
	environ   bool
}

func newCreateCmd(e *env) *cobra.Command {
	o := &createOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME [--from-literal KEY=VALUE] [--from-file [KEY=]PATH|DIR] [--from-env-file FILE]",
		Short: "Create a sealed Secret from literals and files, like kubectl create secret generic",
		Long: `create builds a Secret as kubectl create secret generic does and seals it
straight away: the plaintext never reaches a file. --from-file KEY=- reads
standard input; named pipes and process substitution work too:

  pass show db | kseal create db -n prod --from-file password=- -r age1… > db.yaml
  kseal create db -n prod --from-file password=<(pass show db) -r age1… > db.yaml`,
		Example: `  kseal create db -n prod --from-literal user=app --from-file password=- -r age1pq1… > db.yaml
  kseal create app -n prod --from-env-file app.env -o app.sealed.yaml
  kseal create app -n prod --from-env-file plain.env -o app.env   # a sealed dotenv
  kseal create tls -n prod --from-file ./certs/ -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(e, o, args[0])
		},
	}
	o.seal.register(cmd, false)
	cmd.Flags().StringArrayVar(&o.literals, "from-literal", nil, "KEY=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&o.fromFiles, "from-file", nil, "KEY=PATH, PATH (the key is the file name) or DIR (one key per regular file); PATH - is standard input (repeatable)")
	cmd.Flags().StringArrayVar(&o.envFiles, "from-env-file", nil, "file of KEY=VALUE lines, as kubectl reads them (repeatable; - is standard input)")
	cmd.Flags().BoolVar(&o.environ, "from-env-file-allow-environ", false, "let a line without = in --from-env-file take the environment variable it names, as kubectl does (never "+strings.Join(credentialEnvPrefixes(), "*, ")+"*)")
	cmd.Flags().StringVar(&o.typ, "type", "", "Secret type (default Opaque)")
	cmd.Flags().BoolVar(&o.encrypted, "encrypted-secret", false, "emit an encrypted Secret instead of a SealedSecret")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "yaml or json (standard output), or FILE to write atomically (format from its extension: .json, a sealed dotenv for .env, else YAML; the policy covering FILE applies)")
	cmd.Flags().BoolVar(&o.force, "force", false, "with -o FILE: replace a file that holds another object")
	return cmd
}

// runCreate builds the Secret name from the value flags, seals it and
// writes it to standard output or the -o file.
func runCreate(e *env, o *createOptions, name string) error {
	if err := manifest.CheckName(name); err != nil {
		return usagef("NAME: %v", err)
	}
	if len(o.envFiles) > 0 && (len(o.literals) > 0 || len(o.fromFiles) > 0) {
		return usagef("--from-env-file cannot be combined with --from-literal or --from-file (as in kubectl)")
	}
	format, file, encrypted := o.destination()
	values, err := o.values(e)
	if err != nil {
		return err
	}
	if file != "" && !o.force {
		if err := checkReplace(file, o.seal.namespace.flag, name); err != nil {
			return err
		}
	}
	text, err := manifest.SecretText(crypto.Target{Name: name}, o.typ, values)
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
	if err := sealPlain(e, file, strm.Docs[0], o.seal.spec(e, f)); err != nil {
		return err
	}
	if format == "dotenv" {
		if err := strm.ToDotenv(); err != nil {
			return err
		}
	}
	out, err := strm.Bytes()
	if err != nil {
		return err
	}
	if format == "json" {
		if out, err = manifest.DocumentsJSON(out); err != nil {
			return err
		}
	}
	if err := checkReadBack("output", len(out)); err != nil {
		return err
	}
	if file != "" {
		return writeAtomic(file, out, 0o644)
	}
	_, err = e.stdout.Write(out)
	return err
}

// destination reads -o: the format (yaml, json or dotenv; "" for the
// default), the file to write (none for standard output), and whether an
// encrypted Secret is written.
func (o *createOptions) destination() (format, file string, encrypted bool) {
	encrypted = o.encrypted
	switch o.output {
	case "", "yaml", "json":
		format = o.output
	default:
		file = o.output
		if strings.EqualFold(filepath.Ext(file), ".json") {
			format = "json"
		}
		if manifest.IsDotenvName(file) {
			// A sealed dotenv is an encrypted Secret in dotenv form.
			format, encrypted = "dotenv", true
		}
	}
	return format, file, encrypted
}

// values gathers the values of --from-literal, --from-file and
// --from-env-file, refusing none (unless --allow-empty-data).
func (o *createOptions) values(e *env) (valueSet, error) {
	values := valueSet{}
	for i, l := range o.literals {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			// Not quoted: without its KEY= the literal is the value.
			return nil, usagef("--from-literal number %d: want KEY=VALUE (not shown: it may be the value)", i+1)
		}
		if err := values.add(k, []byte(v), fmt.Sprintf("--from-literal number %d", i+1)); err != nil {
			return nil, err
		}
	}
	for i, ff := range o.fromFiles {
		if err := values.addFromFile(e, i, ff, true); err != nil {
			return nil, err
		}
	}
	for _, f := range o.envFiles {
		if err := values.addEnvFile(e, f, o.environ); err != nil {
			return nil, err
		}
	}
	if len(values) == 0 && !o.seal.allowEmpty {
		return nil, usagef("no values: pass --from-literal, --from-file or --from-env-file (or --allow-empty-data)")
	}
	return values, nil
}

// errOtherObject: create -o FILE would replace a file holding something
// else than the object being created.
var errOtherObject = errors.New("holds another object")

// checkReplace lets create -o replace file only when it is absent, empty,
// or holds just this Secret (as a plain, sealed or encrypted Secret):
// sealing anew over one's own output is routine; over another object (or
// several) it loses work.
func checkReplace(file, ns, name string) error {
	b, _, err := readSource(file, maxFileSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	}
	dotenv := fileFlags{dotenv: true}
	text := ownText(b)
	strm, err := dotenv.parse(file, text)
	if err != nil {
		return hintError{fmt.Errorf("%s: exists and is not a manifest kseal reads (%v)", file, err), "pass --force to replace it"}
	}
	if manifest.OnlyComments(text) {
		return nil
	}
	objs := strm.Docs
	if len(objs) == 1 && objs[0].Node() != nil && objs[0].Node().GetName() == name &&
		(ns == "" || objs[0].Node().GetNamespace() == "" || objs[0].Node().GetNamespace() == ns) {
		return nil
	}
	what := "another object"
	if len(objs) == 1 && objs[0].Node() != nil {
		what = fmt.Sprintf("%s %s", objs[0].Kind, objs[0].Object())
	} else if len(objs) > 1 {
		what = fmt.Sprintf("%d documents", len(objs))
	}
	return hintError{fmt.Errorf("%s: %w (%s), not Secret %s", file, errOtherObject, what, name), "choose another file, or pass --force to replace it"}
}
