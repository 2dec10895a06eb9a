package cli

import (
	"fmt"
	"sync"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/internal/importer/sealedsecrets"
	"kseal.dev/kseal/internal/importer/sops"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// importOpts are the flags both importers share.
type importOpts struct {
	files     fileFlags
	target    sealTarget
	namespace string
	encrypted bool
	emitAdopt string

	mu      sync.Mutex
	adopted []adoptee
	salt    string // of the adopt script's digests
}

func (o *importOpts) register(cmd *cobra.Command) {
	o.files.register(cmd, true)
	o.target.register(cmd, false)
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "", "namespace for objects that have none")
	cmd.Flags().BoolVar(&o.encrypted, "encrypted-secret", false, "write encrypted Secrets instead of SealedSecrets")
	cmd.Flags().StringVar(&o.emitAdopt, "emit-adopt", "", "write to FILE a shell script of kubectl commands that hand each existing Secret over to kseal-controller, after checking each is owned as the import assumes (see docs/migrate.md)")
}

func newImportCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Convert bitnami SealedSecrets or sops-encrypted Secrets into kseal's format",
		Long: `import reads the sealed objects of another tool, opens them with that tool's
keys and seals their values again to the recipients the policy or the flags
name. Documents that are not the other tool's objects pass through. See
docs/migrate.md for the whole move, cluster included.`,
	}
	cmd.AddCommand(newImportSealedSecretsCmd(e), newImportSopsCmd(e), newImportKsopsCmd(e))
	return cmd
}

func newImportSealedSecretsCmd(e *env) *cobra.Command {
	o := &importOpts{}
	var keysFile string
	cmd := &cobra.Command{
		Use:   "sealed-secrets --keys KEYS.yaml [FILE|DIR]...",
		Short: "Convert bitnami SealedSecrets (bitnami.com/v1alpha1) with the controller's exported keys",
		Long: `sealed-secrets opens every bitnami SealedSecret as the sealed-secrets
controller does and writes a kseal SealedSecret (or, with
--encrypted-secret, an encrypted Secret) holding the same values, type,
labels, annotations and immutable flag. The scope carries over: strict
stays strict, namespace-wide becomes namespace, cluster-wide becomes cluster
(with a warning). KEYS.yaml is what this prints, every key old and new:

  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`,
		Example: `  kseal import sealed-secrets --keys keys.yaml -R -i k8s/
  kseal import sealed-secrets --keys keys.yaml --recipients-file cluster.pub --emit-adopt adopt.sh -R -i k8s/`,
	}
	o.register(cmd)
	cmd.Flags().StringVar(&keysFile, "keys", "", "the sealed-secrets controller's key Secrets (kubectl get secret -o yaml output) (required)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if keysFile == "" {
			return usagef("--keys is required: kubectl get secret -n kube-system -l %s -o yaml > keys.yaml", sealedsecrets.KeyLabel)
		}
		b, _, err := readRegular(keysFile)
		if err != nil {
			return err
		}
		ks, err := sealedsecrets.ParseKeys(keysFile, b)
		if err != nil {
			return err
		}
		return o.run(e, args, []manifest.Kind{manifest.KindOther}, func(in *input, d *manifest.Doc) error {
			if !sealedsecrets.Is(d.Raw()) {
				return nil
			}
			return o.importBitnami(e, in, d, ks)
		})
	}
	return cmd
}

// importBitnami converts one bitnami SealedSecret document.
func (o *importOpts) importBitnami(e *env, in *input, d *manifest.Doc, ks []*sealedsecrets.Key) error {
	ss, err := sealedsecrets.Parse(d.Raw())
	if err != nil {
		return d.Err(err)
	}
	op, err := ss.Open(ks, o.namespace)
	if err != nil {
		return d.Err(err)
	}
	text, err := op.SecretText()
	if err != nil {
		return d.Err(err)
	}
	if err := d.ReplaceWithSecret(text); err != nil {
		return err
	}
	scope := map[sealedsecrets.Scope]crypto.Scope{
		sealedsecrets.ScopeStrict:        crypto.ScopeStrict,
		sealedsecrets.ScopeNamespaceWide: crypto.ScopeNamespace,
		sealedsecrets.ScopeClusterWide:   crypto.ScopeCluster,
	}[op.Scope]
	if scope == crypto.ScopeCluster {
		o.warnf(e, "%s: doc %d: SealedSecret %s was cluster-wide in sealed-secrets: sealed with scope cluster, so anyone who may create SealedSecrets can unseal it under any name in any namespace", in.name, d.Index, d.Object())
	}
	if o.emitAdopt != "" {
		if err := o.adopt(d, op.Namespace, "sealed-secrets"); err != nil {
			return err
		}
	}
	return o.seal(e, in, d, scope)
}

// run reads the inputs, converts the documents of kinds with fn, writes the
// results and then the adoption script. Nothing is written unless every
// document converted.
func (o *importOpts) run(e *env, args []string, kinds []manifest.Kind, fn func(*input, *manifest.Doc) error) error {
	ins, err := o.files.read(e, args)
	if err != nil {
		return err
	}
	return o.convert(e, ins, kinds, fn)
}

// convert converts the documents, then writes the results and the adoption
// script.
func (o *importOpts) convert(e *env, ins []*input, kinds []manifest.Kind, fn func(*input, *manifest.Doc) error) error {
	if err := each(e, "importing", o.files.jobs, ins, kinds, fn); err != nil {
		return err
	}
	if err := o.files.write(e, ins); err != nil {
		return err
	}
	if o.emitAdopt != "" {
		return writeAtomic(o.emitAdopt, []byte(o.adoptScript()), 0o700)
	}
	return nil
}

// seal seals the plain Secret d now is, through the pipeline every
// sealed object takes, keeping the scope the source had (a shared entry of
// the policy still binds a strict one to its name only).
func (o *importOpts) seal(e *env, in *input, d *manifest.Doc, scope crypto.Scope) error {
	f := formSealed
	if o.encrypted {
		f = formEncrypted
	}
	return sealPlain(e, fileName(in), d, sealSpec{
		form:       f,
		target:     &o.target,
		scope:      scope,
		namespace:  func(d *manifest.Doc) error { return d.SetNamespace(o.namespace) },
		allowEmpty: true,
	})
}

func (o *importOpts) warnf(e *env, format string, a ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(e.stderr, "kseal: warning: "+format+"\n", a...)
}

func newImportSopsCmd(e *env) *cobra.Command {
	o := &importOpts{}
	cmd := &cobra.Command{
		Use:   "sops [FILE|DIR]...",
		Short: "Convert sops-encrypted Secret manifests (age, AWS KMS, GCP KMS)",
		Long: `sops decrypts every sops-encrypted file with sops' own decrypt package and
key sources (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, the AWS and GCP credential
chains), verifying sops' MAC, and writes each of its Secrets as a kseal
SealedSecret (or, with --encrypted-secret, an encrypted Secret) sealed to
the recipients the policy or the flags name, scope strict. Files that sops
did not encrypt pass through.`,
		Example: `  SOPS_AGE_KEY_FILE=team.key kseal import sops -R -i k8s/
  kseal import sops --encrypted-secret -r age1… --emit-adopt adopt.sh -R -i k8s/`,
	}
	o.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		converted := map[*manifest.Doc]bool{}
		return o.runFiles(e, args, func(in *input) error {
			return o.decryptSops(in, converted)
		}, []manifest.Kind{manifest.KindSecret}, func(in *input, d *manifest.Doc) error {
			if !converted[d] {
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
			return o.seal(e, in, d, crypto.ScopeStrict)
		})
	}
	return cmd
}

// decryptSops replaces the documents of a sops-encrypted file by the plain
// Secrets they hold. sops' MAC covers the whole file, so the whole file is
// decrypted at once; a file sops encrypted must hold Secrets only.
func (o *importOpts) decryptSops(in *input, converted map[*manifest.Doc]bool) error {
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
		if err := sops.CheckKeys(d); err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
	}
	clear, err := sops.Decrypt(in.data)
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
			return fmt.Errorf("%s: doc %d: sops decrypted it to something other than a plain Secret (a %s); kseal import converts Secrets only", in.name, d.Index, k)
		}
		if err := d.ReplaceWithSecret(cs.Docs[i].Raw()); err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		converted[d] = true
	}
	return nil
}

// runFiles is run with a step per file (before the per-document step).
func (o *importOpts) runFiles(e *env, args []string, perFile func(*input) error, kinds []manifest.Kind, fn func(*input, *manifest.Doc) error) error {
	ins, err := o.files.read(e, args)
	if err != nil {
		return err
	}
	for _, in := range ins {
		if err := perFile(in); err != nil {
			return err
		}
	}
	return o.convert(e, ins, kinds, fn)
}
