package cli

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/internal/importer/sealedsecrets"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// importOpts are the flags both importers share.
type importOpts struct {
	files       fileFlags
	target      recipientSource
	namespace   string
	encrypted   bool
	emitAdopt   string
	exclude     []string
	checkServer bool
	other       string // what a file passed through holds no

	mu       sync.Mutex
	adopted  []adoptee
	salt     string // of the adopt script's digests
	imported int    // objects converted
	findings []string
	from     map[*input]bool // inputs an object was converted from
	refused  map[*input]bool // inputs with a finding
	excluded atomic.Int32    // files --exclude left out
	// walked, when set, is shown each file a directory walk passes over
	// (not *.yaml, *.yml or *.json), so what the import cannot read is
	// reported rather than missed.
	walked func(path string)
}

func (o *importOpts) register(cmd *cobra.Command) {
	o.files.register(cmd, true)
	o.target.register(cmd, true)
	cmd.Flags().BoolVar(&o.checkServer, "check-server", false, "before writing anything, have the API server of kubectl's current context check every converted object (kubectl apply --dry-run=server; only sealed objects are sent)")
	cmd.Flags().StringArrayVar(&o.exclude, "exclude", nil, "glob of files not to read, relative to the current directory (repeatable; ** crosses directories)")
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
		return runImportSealedSecrets(e, o, keysFile, args)
	}
	return cmd
}

// runImportSealedSecrets converts the bitnami SealedSecrets of the files
// args name with the controller's keys in keysFile.
func runImportSealedSecrets(e *env, o *importOpts, keysFile string, args []string) error {
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
	o.other = "no bitnami SealedSecret"
	return o.run(e, args, []manifest.Kind{manifest.KindOther}, func(in *input, d *manifest.Doc) error {
		if !sealedsecrets.Is(d.Raw()) {
			return nil
		}
		return o.importBitnami(e, in, d, ks)
	})
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
	if err := o.seal(e, in, d, scope); err != nil {
		return err
	}
	o.converted(in)
	return nil
}

// run reads the inputs, converts the documents of kinds with fn, writes the
// results and then the adoption script. Nothing is written unless every
// document converted.
func (o *importOpts) run(e *env, args []string, kinds []manifest.Kind, fn func(*input, *manifest.Doc) error) error {
	return o.runFiles(e, args, nil, kinds, fn)
}

// runFiles is run with a step per file (before the per-document step).
func (o *importOpts) runFiles(e *env, args []string, perFile func(*input) error, kinds []manifest.Kind, fn func(*input, *manifest.Doc) error) error {
	ins, err := o.read(e, args)
	if err != nil {
		return err
	}
	if perFile != nil {
		for _, in := range ins {
			if err := perFile(in); err != nil {
				return err
			}
		}
	}
	return o.convert(e, ins, kinds, fn)
}

// read reads the inputs, less those --exclude names.
func (o *importOpts) read(e *env, args []string) ([]*input, error) {
	for _, g := range o.exclude {
		if !doublestar.ValidatePattern(g) {
			return nil, usagef("--exclude %q: not a valid glob", g)
		}
	}
	if len(o.exclude) > 0 {
		o.files.skip = func(f string) bool {
			if excludedFile(".", o.exclude, f) {
				o.excluded.Add(1)
				return true
			}
			return false
		}
	}
	ins, err := o.files.read(e, args)
	if err != nil || o.walked == nil {
		return ins, err
	}
	return ins, o.walkOthers(append(append([]string{}, o.files.files...), args...))
}

// finding records something the import cannot convert and will not pass
// through: the run ends with exit 4 and writes nothing.
func (o *importOpts) finding(in *input, format string, a ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.findings = append(o.findings, fmt.Sprintf(format, a...))
	if o.refused == nil {
		o.refused = map[*input]bool{}
	}
	o.refused[in] = true
}

// converted counts an object converted from in.
func (o *importOpts) converted(in *input) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.imported++
	if o.from == nil {
		o.from = map[*input]bool{}
	}
	o.from[in] = true
}

// convert converts the documents, then writes the results and the adoption
// script.
func (o *importOpts) convert(e *env, ins []*input, kinds []manifest.Kind, fn func(*input, *manifest.Doc) error) error {
	if err := each(e, "importing", o.files.jobs, ins, kinds, fn); err != nil {
		return err
	}
	if len(o.findings) > 0 {
		slices.Sort(o.findings) // each file's findings together, whatever the order of the workers
		for _, f := range o.findings {
			fmt.Fprintf(e.stderr, "kseal: refused: %s\n", f)
		}
		return exitError{ExitFindings, hintError{fmt.Errorf("import refused: %s in %s; nothing written", countNoun(len(o.findings), "finding"), countNoun(len(o.refused), "file")), "convert those by hand, or leave them out with --exclude GLOB to import the rest"}}
	}
	if err := validateConverted(ins, o.from); err != nil {
		return err
	}
	if o.checkServer {
		if err := checkServer(e, ins, o.from); err != nil {
			return err
		}
	}
	if err := o.files.write(e, ins); err != nil {
		return err
	}
	if o.emitAdopt != "" {
		if err := writeAtomic(o.emitAdopt, []byte(o.adoptScript()), 0o700); err != nil {
			return err
		}
	}
	o.summary(e, ins)
	return nil
}

// summary is the one line every import ends with, on standard error so
// standard output stays the manifests.
func (o *importOpts) summary(e *env, ins []*input) {
	var parts []string
	if rest := len(ins) - len(o.from); rest > 0 {
		parts = append(parts, fmt.Sprintf("%s passed through unchanged (%s)", countNoun(rest, "file"), o.other))
	}
	if n := o.excluded.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("%s excluded", countNoun(int(n), "file")))
	}
	line := fmt.Sprintf("imported %s from %s", countNoun(o.imported, "object"), countNoun(len(o.from), "file"))
	if len(parts) > 0 {
		line += "; " + strings.Join(parts, "; ")
	}
	fmt.Fprintf(e.stderr, "kseal: %s\n", line)
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
