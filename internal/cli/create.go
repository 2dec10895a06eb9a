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

func newCreateCmd(e *env) *cobra.Command {
	o := &sealOpts{}
	var literals, fromFiles, envFiles []string
	var typ, output string
	var encrypted, force, environ bool
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
	}
	o.register(cmd, false)
	cmd.Flags().StringArrayVar(&literals, "from-literal", nil, "KEY=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&fromFiles, "from-file", nil, "KEY=PATH, PATH (the key is the file name) or DIR (one key per regular file); PATH - is standard input (repeatable)")
	cmd.Flags().StringArrayVar(&envFiles, "from-env-file", nil, "file of KEY=VALUE lines, as kubectl reads them (repeatable; - is standard input)")
	cmd.Flags().BoolVar(&environ, "from-env-file-allow-environ", false, "let a line without = in --from-env-file take the environment variable it names, as kubectl does (never "+strings.Join(credentialEnvPrefixes(), "*, ")+"*)")
	cmd.Flags().StringVar(&typ, "type", "", "Secret type (default Opaque)")
	cmd.Flags().BoolVar(&encrypted, "encrypted-secret", false, "emit an encrypted Secret instead of a SealedSecret")
	cmd.Flags().StringVarP(&output, "output", "o", "", "yaml or json (standard output), or FILE to write atomically (format from its extension: .json, a sealed dotenv for .env, else YAML; the policy covering FILE applies)")
	cmd.Flags().BoolVar(&force, "force", false, "with -o FILE: replace a file that holds another object")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := manifest.CheckName(args[0]); err != nil {
			return usagef("NAME: %v", err)
		}
		if len(envFiles) > 0 && (len(literals) > 0 || len(fromFiles) > 0) {
			return usagef("--from-env-file cannot be combined with --from-literal or --from-file (as in kubectl)")
		}
		format, file := "", ""
		switch output {
		case "", "yaml", "json":
			format = output
		default:
			file = output
			if strings.EqualFold(filepath.Ext(file), ".json") {
				format = "json"
			}
			if manifest.IsDotenvName(file) {
				// A sealed dotenv is an encrypted Secret in dotenv form.
				format, encrypted = "dotenv", true
			}
		}
		values := valueSet{}
		for i, l := range literals {
			k, v, ok := strings.Cut(l, "=")
			if !ok || k == "" {
				// Not quoted: without its KEY= the literal is the value.
				return usagef("--from-literal number %d: want KEY=VALUE (not shown: it may be the value)", i+1)
			}
			if err := values.add(k, []byte(v), fmt.Sprintf("--from-literal number %d", i+1)); err != nil {
				return err
			}
		}
		for i, ff := range fromFiles {
			if err := values.addFromFile(e, i, ff, true); err != nil {
				return err
			}
		}
		for _, f := range envFiles {
			if err := values.addEnvFile(e, f, environ); err != nil {
				return err
			}
		}
		if len(values) == 0 && !o.allowEmpty {
			return usagef("no values: pass --from-literal, --from-file or --from-env-file (or --allow-empty-data)")
		}
		if file != "" && !force {
			if err := checkReplace(file, o.namespace.flag, args[0]); err != nil {
				return err
			}
		}
		text, err := manifest.SecretText(crypto.Target{Name: args[0]}, typ, values)
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
		if err := sealPlain(e, file, strm.Docs[0], o.spec(e, f)); err != nil {
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
	return cmd
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
	strm, err := dotenv.parse(file, b)
	if err != nil {
		return hintError{fmt.Errorf("%s: exists and is not a manifest kseal reads (%v)", file, err), "pass --force to replace it"}
	}
	if stripComments(string(b)) == "" {
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

// stripComments drops comment lines, to tell an empty file from one with
// content.
func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			b.WriteString(l)
		}
	}
	return b.String()
}
