package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/manifest"
	"kseal.dev/kseal/pkg/policy"
)

// policyCheckOptions are the flags of policy check.
type policyCheckOptions struct {
	policy        string
	exclude       []string
	plaintextOnly bool
	output        reportFormat
}

func newPolicyCheckCmd(e *env) *cobra.Command {
	var opts policyCheckOptions
	cmd := &cobra.Command{
		Use:   "check [PATH]...",
		Short: "Check the policy and every manifest under the paths, offline (CI, pre-commit)",
		Long: `check validates kseal.yaml, then reads every YAML file under the paths
(default: the policy's directory) and reports, as file:line, plaintext
Secrets, sealed objects outside any service's paths, objects in a namespace
their service does not own, and recipients that differ from what the service
requires (missing keys, extra or retired keys). No key or cluster access is
needed. Exit status 4 when there are findings; kseal reencrypt fixes
recipient drift.

Files matching the policy's exclude globs (Helm chart templates, kustomize
patches) or --exclude are not read. Without any kseal.yaml, check is a
plaintext guard: it reports plain Secrets holding values, last-applied
annotations on sealed objects, and files it cannot read as manifests.`,
	}
	cmd.Flags().StringVar(&opts.policy, "policy", "", "policy file (default: kseal.yaml found upward)")
	cmd.Flags().BoolVar(&opts.plaintextOnly, "plaintext-only", false, "only look for plaintext (as without a policy); kseal.yaml's exclude globs still apply")
	cmd.Flags().StringArrayVar(&opts.exclude, "exclude", nil, "glob of files not to read, relative to the current directory (repeatable; ** crosses directories)")
	opts.output.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runPolicyCheck(e, opts, args)
	}
	return cmd
}

func runPolicyCheck(e *env, opts policyCheckOptions, args []string) error {
	asJSON, err := opts.output.json()
	if err != nil {
		return err
	}
	for _, g := range opts.exclude {
		if !doublestar.ValidatePattern(g) {
			return usagef("--exclude %q: not a valid glob", g)
		}
	}
	// The nearest policy is checked; the others are findings below.
	p, err := checkedPolicy(e, opts, checkStart(args), asJSON)
	if err != nil {
		return err
	}
	// rules is the policy whose rules the files are held to: none in
	// plaintext-only mode, where p only lends its exclude globs.
	rules := p
	if opts.plaintextOnly {
		rules = nil
	}
	if len(args) == 0 {
		args = []string{policyDirArg(p)}
	}
	paths, excluded, err := checkedPaths(opts.exclude, p, args)
	if err != nil {
		return err
	}
	var found []finding
	if rules != nil {
		if found, err = otherPolicies(p); err != nil {
			return err
		}
	}
	objects := 0
	for _, f := range paths {
		if filepath.Base(f) == policy.FileName {
			if rules != nil {
				found = append(found, finding{f, 1, fmt.Sprintf("nested policy file below %s: it would choose the keys of the files under it; one policy per repository, and sealing refuses files under both", p.Path)})
			}
			continue
		}
		fs, n, err := checkFile(rules, f)
		if err != nil {
			return err
		}
		found = append(found, fs...)
		objects += n
	}
	return reportPolicyCheck(e, asJSON, found, len(paths), objects, excluded)
}

// checkStart is the directory policy check looks for kseal.yaml from: the
// first path's, or the current one.
func checkStart(args []string) string {
	if len(args) == 0 {
		return "."
	}
	if st, err := os.Stat(args[0]); err == nil && !st.IsDir() {
		return filepath.Dir(args[0])
	}
	return args[0]
}

// checkedPolicy loads --policy or the nearest kseal.yaml above start; nil
// when there is none. A policy that does not load is the run's one
// finding, reported here.
func checkedPolicy(e *env, opts policyCheckOptions, start string, asJSON bool) (*policy.Policy, error) {
	path := opts.policy
	if path == "" {
		var err error
		if path, err = policy.Find(start); err != nil {
			return nil, err
		}
	}
	if path == "" {
		if !opts.plaintextOnly {
			// No policy: still a guard against plaintext in the repository.
			fmt.Fprintf(e.stderr, "kseal: policy check: no %s in %s or its parents; checking for plaintext only\n", policy.FileName, start)
		}
		return nil, nil
	}
	p, err := policy.Load(path)
	var pe *policy.Error
	if err == nil || !errors.As(err, &pe) {
		return p, err
	}
	if asJSON {
		if err := writeJSON(e.stdout, policyReport{Findings: []findingJSON{}, PolicyError: strings.Join(errorLines(err), "\n")}); err != nil {
			return nil, err
		}
	} else {
		fmt.Fprintln(e.stdout, strings.Join(errorLines(err), "\n"))
	}
	return nil, exitError{ExitFindings, errors.New("the policy itself is invalid")}
}

// policyDirArg is what policy check reads when given no path: the
// policy's directory (relative to the current one when it can be), or ".".
func policyDirArg(p *policy.Policy) string {
	if p == nil {
		return "."
	}
	dir := p.Dir
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, dir); err == nil {
			dir = rel
		}
	}
	return dir
}

// checkedPaths lists the files under args that policy check reads, and how
// many it excluded. Excludes are applied to each name found before a file
// reached under two names (through a symbolic link) counts once: a link in
// an excluded directory must not hide the file it leads to (see paths).
func checkedPaths(exclude []string, p *policy.Policy, args []string) ([]string, int, error) {
	excludedNames := map[string]bool{}
	files := fileFlags{recursive: true, skip: func(f string) bool {
		if excludedFile(".", exclude, f) || (p != nil && excludedFile(p.Dir, p.Exclude, f)) {
			excludedNames[realOrAbs(f)] = true
			return true
		}
		return false
	}}
	paths, err := files.paths(args)
	if err != nil {
		return nil, 0, err
	}
	for _, f := range paths {
		delete(excludedNames, realOrAbs(f)) // a link kept for the file it leads to
	}
	if p != nil {
		self := mustAbs(p.Path)
		paths = slices.DeleteFunc(paths, func(f string) bool { return mustAbs(f) == self })
	}
	return paths, len(excludedNames), nil
}

// otherPolicies finds a kseal.yaml between the policy and the repository
// root: one policy per repository.
func otherPolicies(p *policy.Policy) ([]finding, error) {
	self := mustAbs(p.Path)
	nested, root, err := policy.FindAll(p.Dir)
	if err != nil {
		return nil, err
	}
	var found []finding
	for _, n := range nested {
		if n != self {
			found = append(found, finding{n, 1, fmt.Sprintf("another policy above %s, below the repository root %s: one policy per repository; sealing refuses files under both", p.Path, root)})
		}
	}
	return found, nil
}

// reportPolicyCheck prints the findings (as JSON with -o json) and the
// closing line, and fails with ExitFindings when there are any.
func reportPolicyCheck(e *env, asJSON bool, found []finding, files, objects, excluded int) error {
	if asJSON {
		// writeJSON escapes what the repository's writers chose.
		if err := writePolicyReport(e.stdout, found, files, objects, excluded); err != nil {
			return err
		}
	} else {
		for _, f := range found {
			// A file name from a walk of the repository, or a message
			// quoting it, is a git writer's: escaped (escape.go).
			fmt.Fprintf(e.stdout, "%s:%d: %s\n", printable(f.file), f.line, printable(f.msg))
		}
	}
	skipped := ""
	if excluded > 0 {
		skipped = fmt.Sprintf(", %s excluded", countNoun(excluded, "file"))
	}
	if len(found) > 0 {
		return exitError{ExitFindings, fmt.Errorf("%s in %s (%s%s)", countNoun(len(found), "finding"), countNoun(files, "file"), countNoun(objects, "sealed object"), skipped)}
	}
	fmt.Fprintf(e.stderr, "kseal: policy check: %s, %s%s, no findings\n", countNoun(files, "file"), countNoun(objects, "sealed object"), skipped)
	return nil
}

// excludedFile reports whether file matches one of globs taken relative to
// dir, either as named or (for a file's real path) relative to dir with its
// symbolic links resolved.
func excludedFile(dir string, globs []string, file string) bool {
	if _, ok := policy.MatchExclude(dir, globs, file); ok {
		return true
	}
	if real, err := realPath(dir); err == nil {
		_, ok := policy.MatchExclude(real, globs, file)
		return ok
	}
	return false
}

// realOrAbs is p with its symbolic links resolved, or else absolute: the
// file excludes are counted by.
func realOrAbs(p string) string {
	if r, err := realPath(p); err == nil {
		return r
	}
	return mustAbs(p)
}

func mustAbs(p string) string {
	a, _ := filepath.Abs(p)
	return a
}

// checkFile returns the findings of one file and its number of sealed
// objects. Without a policy (p nil) it looks for plaintext only.
func checkFile(p *policy.Policy, file string) ([]finding, int, error) {
	data, _, err := readRegular(file)
	if err != nil {
		return nil, 0, err
	}
	var out []finding
	strm, err := parseForCheck(file, data)
	if err != nil {
		return []finding{{file, 1, err.Error()}}, 0, nil
	}
	if strm == nil { // a plain dotenv
		return checkPlainDotenv(file), 0, nil
	}
	if isKustomization(file) {
		out = append(out, checkKustomization(file, data)...)
	}
	var rule *policy.Rule
	if p != nil {
		if rule, err = p.RuleFor(file); err != nil {
			return nil, 0, err
		}
	}
	n := 0
	for _, d := range strm.Docs {
		at := func(format string, a ...any) {
			out = append(out, finding{file, d.Line, fmt.Sprintf("%s %s: ", d.Kind, d.Object()) + fmt.Sprintf(format, a...)})
		}
		switch d.Kind {
		case manifest.KindSecret:
			for _, msg := range plainSecretFindings(d, file) {
				at("%s", msg)
			}
			continue
		case manifest.KindOther:
			out = append(out, checkGeneratorConfig(file, d)...)
			// Left behind by a migration: the old controller would still
			// unseal it, under no kseal policy.
			if f, ok := foreignDoc(d); ok && f.bitnami {
				out = append(out, finding{file, d.Line, fmt.Sprintf("%s %s: %s", printable(f.kind), printable(f.object), f.what)})
			}
			continue
		}
		n++
		for _, msg := range sealedLastApplied(d) {
			at("%s", msg)
		}
		s, err := d.Sealed()
		if err != nil {
			out = append(out, finding{file, d.Line, err.Error()})
			continue
		}
		if p == nil {
			continue // no policy: nothing to hold recipients and namespaces to
		}
		o := &policy.Sealed{File: file, Namespace: d.Node().GetNamespace(), Name: d.Node().GetName(), Envelope: s.Envelope}
		for _, f := range p.CheckSealed(rule, o) {
			at("%s", f.Message)
		}
	}
	return out, n, nil
}
