package cli

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/internal/importer/sops"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

func newImportSopsCmd(e *env) *cobra.Command {
	o := &importOpts{other: "no sops metadata"}
	cmd := &cobra.Command{
		Use:   "sops [FILE|DIR]...",
		Short: "Convert sops-encrypted Secret manifests, decrypted by your own sops binary",
		Long: `sops decrypts every sops-encrypted file by running your sops binary
($KSEAL_SOPS, else sops on PATH) as ` + "`sops --decrypt`" + `, with your environment, so
sops finds its keys where it always does (SOPS_AGE_KEY_FILE, GNUPGHOME, the
AWS, GCP and Azure credential chains, VAULT_ADDR, ...) and checks its MAC as
it always does. Each Secret is written as a kseal SealedSecret (or, with
--encrypted-secret, an encrypted Secret) sealed to the recipients the policy
or the flags name, scope strict unless --scope says otherwise (a kustomize
namePrefix or namespace renames objects: use --scope namespace or cluster
for those, see docs/migrate.md).

Files sops did not encrypt pass through unchanged. What the import cannot
convert is refused and nothing is written (exit 4): a sops file without a
MAC, a sops-encrypted dotenv file, a sops document that is not a Secret,
and a Secret whose value is itself a sops document. --exclude leaves files
out. The last line, on standard error, says what was done.`,
		Example: `  SOPS_AGE_KEY_FILE=team.key kseal import sops -R -i k8s/
  kseal import sops --encrypted-secret -r age1… --emit-adopt adopt.sh -R -i k8s/
  kseal import sops --scope namespace --exclude 'k8s/legacy/**' -R -i k8s/`,
	}
	o.register(cmd)
	o.walked = o.sopsDotenv
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runImportSops(e, o, args)
	}
	return cmd
}

// runImportSops converts the sops-encrypted Secrets of the files args name,
// decrypted by the user's sops binary.
func runImportSops(e *env, o *importOpts, args []string) error {
	converted := map[*manifest.Doc]bool{}
	var bin string
	return o.runFiles(e, args, func(in *input) error {
		return o.decryptSops(e, &bin, in, converted)
	}, []manifest.Kind{manifest.KindSecret}, func(in *input, d *manifest.Doc) error {
		if o.sopsValues(in, d) || !converted[d] {
			return nil
		}
		if o.emitAdopt != "" {
			ns := d.Node().GetNamespace()
			if ns == "" {
				ns = o.namespace // as the pipeline will set it
			}
			if err := o.adopt(d, ns, "sops"); err != nil {
				return err
			}
		}
		if err := o.seal(e, in, d, crypto.ScopeStrict); err != nil {
			return err
		}
		o.converted(in)
		return nil
	})
}

// sopsValues reports a Secret whose value is a sops document: passed
// through or sealed, it would carry sops' ciphertext as its value.
func (o *importOpts) sopsValues(in *input, d *manifest.Doc) bool {
	values, err := d.Plain()
	if err != nil {
		return false // not a plain Secret (sealed already): nothing of sops'
	}
	found := false
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if sops.Document(values[k]) {
			found = true
			o.finding(in, "%s: doc %d: Secret %s: value %s is a sops-encrypted document, not a value: decrypt it with sops first (sops --decrypt), or seal the decrypted file with kseal", in.name, d.Index, d.Object(), k)
		}
	}
	return found
}

// decryptSops replaces the documents of a sops-encrypted file by the plain
// Secrets they hold. sops' MAC covers the whole file, so the whole file is
// decrypted at once; a file sops encrypted must hold Secrets only.
func (o *importOpts) decryptSops(e *env, bin *string, in *input, converted map[*manifest.Doc]bool) error {
	if sops.Dotenv([]byte(in.text)) {
		o.finding(in, "%s: a dotenv file sops encrypted: kseal import converts Secret manifests; decrypt it with sops and seal the result with kseal, or --exclude it", in.name)
		return nil
	}
	var top []*manifest.Doc
	enc := false
	for _, d := range in.strm.Docs {
		if d.Item() >= 0 {
			continue
		}
		top = append(top, d)
		enc = enc || sops.Encrypted(d)
	}
	if !enc {
		return nil
	}
	for _, d := range top {
		if !sops.Encrypted(d) {
			return fmt.Errorf("%s: doc %d: sops encrypted other documents of this file, but not this one; split the file", in.name, d.Index)
		}
		if err := sops.CheckMAC(d); err != nil {
			o.finding(in, "%s: %v", in.name, err)
			return nil
		}
	}
	if *bin == "" {
		var err error
		if *bin, err = sops.Binary(e.getenv); err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
	}
	format := "yaml"
	if strings.EqualFold(filepath.Ext(in.name), ".json") {
		format = "json"
	}
	clear, err := sops.Decrypt(e.ctx, *bin, []byte(in.text), format)
	if err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	cs, err := manifest.Parse(clear)
	if err != nil {
		return fmt.Errorf("%s: decrypted: %w", in.name, err)
	}
	if len(cs.Docs) != len(top) {
		return fmt.Errorf("%s: sops returned %d documents for %d", in.name, len(cs.Docs), len(top))
	}
	for i, d := range top {
		if k := cs.Docs[i].Kind; k != manifest.KindSecret {
			// Its content is not shown: sops encrypted it.
			o.finding(in, "%s: doc %d: sops decrypted it to something other than a plain Secret (a %s); kseal import converts Secrets only", in.name, d.Index, k)
			return nil
		}
	}
	for i, d := range top {
		if err := d.ReplaceWithSecret(cs.Docs[i].Raw()); err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		converted[d] = true
	}
	return nil
}

// walkOthers shows o.walked every regular file in the directories named
// (recursively with -R) that the manifest walk does not read, less the
// excluded ones.
func (o *importOpts) walkOthers(roots []string) error {
	for _, root := range roots {
		if st, err := os.Stat(root); err != nil || !st.IsDir() {
			continue
		}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != root && (!o.files.recursive || d.Name() == ".git") {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				return nil
			}
			if !d.Type().IsRegular() || (o.files.skip != nil && o.files.skip(path)) {
				return nil
			}
			o.walked(path)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sopsDotenv reports a dotenv file sops encrypted that a directory walk
// passed over: the import does not read dotenv files, and must not let
// one go by unnoticed.
func (o *importOpts) sopsDotenv(path string) {
	name := filepath.Base(path)
	if name != ".env" && !strings.HasSuffix(name, ".env") {
		return
	}
	data, _, err := readSource(path, maxFileSize)
	if err != nil || !sops.Dotenv(data) {
		return
	}
	o.finding(&input{name: path}, "%s: a dotenv file sops encrypted: kseal import converts Secret manifests; decrypt it with sops and seal the result with kseal, or --exclude it", path)
}
