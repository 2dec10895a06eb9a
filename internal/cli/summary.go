package cli

import (
	"errors"
	"fmt"
	"slices"

	"kseal.dev/kseal/pkg/manifest"
)

// The commands that rewrite or open files (seal, encrypt, decrypt,
// reencrypt, rotate) end, as verify, inspect and status do, with one line
// on standard error saying what they did, and report the documents they
// passed through without being able to handle them (exit 4). Standard
// output stays exactly the objects: decrypt's is piped into kubectl apply.

// runSummary counts what one such run works on, read before it starts
// (the work turns the documents it counts into another kind).
type runSummary struct {
	verb    string // "sealed", "decrypted", ...
	idle    string // what a file the run had nothing to do in held none of
	objects int    // documents the run works on
	files   int
	empty   int // files holding none of them
	foreign []foreignFinding
}

// summarize counts the documents of ins of the kinds in kinds.
func summarize(ins []*input, verb, idle string, kinds []manifest.Kind) *runSummary {
	s := &runSummary{verb: verb, idle: idle}
	for _, in := range ins {
		s.add(in, kinds)
	}
	return s
}

// add counts the documents of in of the kinds in kinds, before they are
// worked on. Those handed on as they were read (manifest.ParseEachTo)
// were counted then (in.handed).
func (s *runSummary) add(in *input, kinds []manifest.Kind) {
	s.files++
	n := in.handed.objects
	for _, d := range in.strm.Docs {
		if !d.Handed() && slices.Contains(kinds, d.Kind) && foreignKind(d) == "" {
			n++
		}
	}
	if n == 0 {
		s.empty++
	}
	s.objects += n
	s.foreign = append(s.foreign, foreignDocs(in)...)
}

// handedFacts is what a run reports of the documents of one input that
// were handed on to be worked on as they were read: counted before, as
// the others are (runSummary.add).
type handedFacts struct {
	objects int
	foreign []foreignFinding
}

// hand counts d, of one of the kinds the run works on, as it is handed
// on.
func (in *input) hand(d *manifest.Doc) {
	if f, ok := in.foreignFinding(d); ok {
		in.handed.foreign = append(in.handed.foreign, f)
		return
	}
	in.handed.objects++
}

// foreignKind is foreignDoc's description of d, for a document a command
// must not handle as the kind it parses as (a Secret sops encrypted reads
// as a plain Secret).
func foreignKind(d *manifest.Doc) string {
	f, _ := foreignDoc(d)
	return f.what
}

// finish ends a run whose writing returned err: on success (or a dry
// run's "would change"), the foreign documents and the summary line go to
// standard error, and foreign documents make the exit status 4.
func (s *runSummary) finish(e *env, dryRun bool, err error) error {
	var x exitError
	if err != nil && !(errors.As(err, &x) && x.code == ExitFindings) {
		return err
	}
	verb := s.verb
	if dryRun {
		verb = "dry run: would have " + verb
	}
	reportForeign(e.stderr, s.foreign)
	fmt.Fprintln(e.stderr, summaryLine(verb, s.objects, s.files, s.empty, s.idle, len(s.foreign)))
	if err != nil {
		return err
	}
	return foreignError(s.foreign)
}

// summaryLine is "kseal: VERB N objects in M files; K files held no IDLE;
// F documents kseal cannot open", the parts that are zero left out.
func summaryLine(verb string, objects, files, empty int, idle string, foreign int) string {
	line := fmt.Sprintf("kseal: %s %s in %s", verb, countNoun(objects, "object"), countNoun(files, "file"))
	if empty > 0 {
		held := "files held"
		if empty == 1 {
			held = "file held"
		}
		line += fmt.Sprintf("; %d %s no %s", empty, held, idle)
	}
	if foreign > 0 {
		line += fmt.Sprintf("; %s kseal cannot open", countNoun(foreign, "document"))
	}
	return line
}

// pastTense is the summary's verb for a rekeying command.
func pastTense(use string) string {
	switch use {
	case "rotate":
		return "rotated"
	case "reencrypt":
		return "re-encrypted"
	case "compact":
		return "compacted"
	}
	return use
}

// countNoun is "1 file", "2 files".
func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
