package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// verifyOptions are the flags of verify.
type verifyOptions struct {
	files  fileFlags
	ids    identityFlags
	asJSON bool
	output reportFormat
}

func newVerifyCmd(e *env) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [FILE|DIR]...",
		Short: "Check the integrity of sealed objects with a key; every failure is reported, exit 3 on any",
		Long: `verify opens every sealed object of every file with your identities and
checks it whole: values, template, recipients, every section in order, and
every wrap your keys can open. It goes on past a failure: every file and
object is checked and every failure reported, in input order (on standard
error, or as entries with "verified": false and "error" in --json output,
which is valid JSON whatever failed; -o json is the same). Exit status 3
when anything failed; else 4 when a file holds documents kseal cannot
open (an unconverted bitnami SealedSecret, a sops-encrypted file), each
reported on standard error. It ends with a summary line on standard error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(e, o, args)
		},
	}
	o.files.register(cmd, false)
	o.ids.register(cmd)
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSON (always a valid JSON array, failures included)")
	o.output.register(cmd)
	return cmd
}

// runVerify checks every sealed object of the files args name (standard
// input when none), reports each, and fails when any did not verify.
func runVerify(e *env, o *verifyOptions, args []string) error {
	asJSON := o.asJSON
	if j, err := o.output.json(); err != nil {
		return err
	} else if j {
		asJSON = true
	}
	// With --json, standard output is JSON whatever happens.
	setupFailed := func(err error) error {
		if asJSON {
			bad := false
			_ = printInfo(e.stdout, []docInfo{{Verified: &bad, Sections: []sectionInfo{}, Error: err.Error()}}, true)
		}
		return err
	}
	ids, err := o.ids.resolve(e)
	if err != nil {
		return setupFailed(err)
	}
	paths, err := o.files.paths(args)
	if err != nil {
		return setupFailed(err)
	}
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	infos, walk := verifyAll(e, paths, ids, o.files.jobs)
	ok, failed, err := reportVerified(e, infos, asJSON)
	if err != nil {
		return err
	}
	reportForeign(e.stderr, walk.foreign)
	walkSummary(e.stderr, "verified", ok, walk.files, walk.empty, len(walk.foreign))
	if failed == 0 {
		return foreignError(walk.foreign)
	}
	if slices.ContainsFunc(infos, func(in verified) bool { return in.noKey }) && e.identityNote != "" {
		fmt.Fprintf(e.stderr, "kseal: %s\n", printable(e.identityNote))
	}
	return exitError{ExitNoOpen, fmt.Errorf("%d of %s failed verification", failed, countNoun(len(infos), "object"))}
}

// reportVerified prints verify's report: every entry as JSON, or the
// failures on standard error and what verified on standard output. It
// returns how many verified and how many failed.
func reportVerified(e *env, infos []verified, asJSON bool) (ok, failed int, err error) {
	var good []docInfo
	all := []docInfo{}
	for _, in := range infos {
		all = append(all, in.docInfo)
		if in.Verified != nil && *in.Verified {
			good = append(good, in.docInfo)
			continue
		}
		failed++
		if !asJSON {
			fmt.Fprintf(e.stderr, "kseal: error: %s\n", printable(in.Error))
		}
	}
	if asJSON {
		err = printInfo(e.stdout, all, true)
	} else {
		err = printInfo(e.stdout, good, false)
	}
	return len(good), failed, err
}

// verified is one entry of verify's report.
type verified struct {
	docInfo
	noKey bool // failed because no identity was at hand
}

// verifyAll checks every sealed document of every path, going on past
// failures, and returns one entry per document (or per file that could not
// be read) in input order. Files are read one after another as the checks
// of the ones before run (at most jobs at once), so what is held is the
// files in flight and the entries, not every file of a repository.
func verifyAll(e *env, paths []string, ids []keys.Identity, jobs int) ([]verified, walkStats) {
	var walk walkStats
	var slots []*verified // one per entry, in input order; each filled by its own check
	w := newWorkers(jobs)
	for _, p := range paths {
		in, err := readOneAs(e, p, fileFlags{dotenv: true, each: true})
		if err != nil {
			slots = append(slots, new(failure(p, nil, err)))
			continue
		}
		walk.add(in)
		if err := checkCutShort(in); err != nil {
			slots = append(slots, new(failure(p, nil, err)))
			continue
		}
		for _, d := range in.strm.Docs {
			if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
				continue
			}
			v := new(verified)
			slots = append(slots, v)
			w.run(func() {
				// A Secret read past the kept trees is built again
				// for its check, and let go after it (ParseEach).
				if err := in.strm.Load(e.ctx, d); err != nil {
					*v = failure(in.name, d, err)
					return
				}
				defer in.strm.Release(d)
				*v = verifyDoc(e, in.name, d, ids)
			})
		}
	}
	w.wait()
	out := make([]verified, len(slots))
	for i, v := range slots {
		out[i] = *v
	}
	return out, walk
}

func verifyDoc(e *env, file string, d *manifest.Doc, ids []keys.Identity) verified {
	s, o, budgeted, err := openBudgeted(e, d, ids)
	if err != nil {
		return failure(file, d, err)
	}
	checked, err := o.CheckWraps(e.ctx, budgeted)
	if err != nil {
		return failure(file, d, d.Err(err))
	}
	info := describe(file, d, s)
	ok := true
	info.Verified = &ok
	for i, sr := range o.Sections {
		info.Sections[i].OpenedWith = sr.KeyID
		info.Sections[i].Checked = checked[i]
	}
	return verified{docInfo: info}
}

func failure(file string, d *manifest.Doc, err error) verified {
	bad := false
	msg := err.Error()
	if !strings.HasPrefix(msg, file+":") {
		msg = file + ": " + msg
	}
	v := verified{docInfo: docInfo{File: file, Verified: &bad, Sections: []sectionInfo{}, Error: msg}}
	if d != nil {
		v.Doc, v.Kind, v.Object = d.Index, d.Kind.String(), d.Object()
	}
	var nm *keys.NoIdentityMatchError
	v.noKey = errors.As(err, &nm) && nm.Unclaimed()
	return v
}
