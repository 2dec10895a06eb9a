package cli

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

func newVerifyCmd(e *env) *cobra.Command {
	var files fileFlags
	var idf identityFlags
	var asJSON bool
	var output reportFormat
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
	}
	files.register(cmd, false)
	idf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (always a valid JSON array, failures included)")
	output.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if j, err := output.json(); err != nil {
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
		ids, err := idf.resolve(e)
		if err != nil {
			return setupFailed(err)
		}
		paths, err := files.paths(args)
		if err != nil {
			return setupFailed(err)
		}
		if len(paths) == 0 {
			paths = []string{"-"}
		}
		infos, walk := verifyAll(e, paths, ids, files.jobs)
		failed, noKey := 0, false
		for _, in := range infos {
			if in.Verified != nil && *in.Verified {
				continue
			}
			failed++
			if !asJSON {
				fmt.Fprintf(e.stderr, "kseal: error: %s\n", printable(in.Error))
			}
		}
		for _, in := range infos {
			noKey = noKey || in.noKey
		}
		var ok []docInfo
		for _, in := range infos {
			if in.Verified != nil && *in.Verified {
				ok = append(ok, in.docInfo)
			}
		}
		var all []docInfo
		for _, in := range infos {
			all = append(all, in.docInfo)
		}
		if asJSON {
			if all == nil {
				all = []docInfo{}
			}
			err = printInfo(e.stdout, all, true)
		} else {
			err = printInfo(e.stdout, ok, false)
		}
		if err != nil {
			return err
		}
		reportForeign(e.stderr, walk.foreign)
		walkSummary(e.stderr, "verified", len(ok), walk.files, walk.empty, len(walk.foreign))
		if failed == 0 {
			return foreignError(walk.foreign)
		}
		if noKey && e.identityNote != "" {
			fmt.Fprintf(e.stderr, "kseal: %s\n", printable(e.identityNote))
		}
		return exitError{ExitNoOpen, fmt.Errorf("%d of %s failed verification", failed, countNoun(len(infos), "object"))}
	}
	return cmd
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
	sem := make(chan struct{}, max(jobs, 1))
	var wg sync.WaitGroup
	for _, p := range paths {
		in, err := readOne(e, p)
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
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				*v = verifyDoc(e, in.name, d, ids)
			}()
		}
	}
	wg.Wait()
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

// readOne reads and parses one input ("-" for standard input).
func readOne(e *env, p string) (*input, error) {
	in, err := readInput(e, p)
	if err != nil {
		return nil, err
	}
	dotenv := fileFlags{dotenv: true}
	if in.strm, err = dotenv.parse(p, in.data); err != nil {
		return nil, err
	}
	return in, nil
}
