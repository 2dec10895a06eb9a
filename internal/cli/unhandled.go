package cli

import (
	"fmt"
	"io"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest"
)

// Documents kseal cannot open but a repository migrating to it holds:
// bitnami SealedSecrets not yet converted, and sops-encrypted documents.
// verify, inspect and status report them (exit 4, like policy check's
// findings) rather than passing them by in silence: a repository "verified"
// with half its secrets still bitnami's is not what a user checking it
// means.

// bitnamiAPIVersion is the API version of sealed-secrets' SealedSecret.
const bitnamiAPIVersion = "bitnami.com/v1alpha1"

// foreign is a document kseal cannot open.
type foreign struct {
	what, kind, object string
	bitnami            bool // an unconverted bitnami SealedSecret
}

// foreignDoc says what d is when kseal cannot open it (ok false when it
// can, or it is no secret). It goes by the document's events, so that no
// spelling of apiVersion or the sops key and no size hides one; the name
// is read from a tree only when the document is small enough for one.
func foreignDoc(d *manifest.Doc) (f foreign, ok bool) {
	av, kind := d.TypeMeta()
	switch {
	case av == bitnamiAPIVersion && kind == "SealedSecret":
		f = foreign{what: "an unconverted bitnami SealedSecret (kseal import sealed-secrets converts it)", bitnami: true}
	case d.SopsEncrypted():
		f = foreign{what: "a sops-encrypted document (kseal import sops converts it)"}
	default:
		return foreign{}, false
	}
	f.kind, f.object = kind, "(too large to read its name)"
	if n := d.OtherTree(); n != nil {
		f.object = objectOf(n)
	}
	return f, true
}

// objectOf is "NS/NAME" (or "NAME") of n.
func objectOf(n *yaml.RNode) string {
	if ns := n.GetNamespace(); ns != "" {
		return ns + "/" + n.GetName()
	}
	return n.GetName()
}

// foreignFinding is one such document.
type foreignFinding struct {
	File   string `json:"file"`
	Doc    int    `json:"doc"`
	Kind   string `json:"kind"`
	Object string `json:"object"`
	What   string `json:"what"`
}

func (f foreignFinding) String() string {
	return fmt.Sprintf("%s: doc %d: %s %s: %s", f.File, f.Doc, f.Kind, f.Object, f.What)
}

// foreignFinding is foreignDoc's finding for d, of in.
func (in *input) foreignFinding(d *manifest.Doc) (foreignFinding, bool) {
	f, ok := foreignDoc(d)
	if !ok {
		return foreignFinding{}, false
	}
	return foreignFinding{in.name, d.Index, f.kind, f.object, f.what}, true
}

// foreignDocs lists the documents of in that kseal cannot open.
func foreignDocs(in *input) []foreignFinding {
	out := slices.Clone(in.handed.foreign)
	for _, d := range in.strm.Docs {
		if d.Handed() {
			continue // found as it was handed on (input.hand)
		}
		if f, ok := in.foreignFinding(d); ok {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b foreignFinding) int { return a.Doc - b.Doc })
	return out
}

// reportForeign writes each finding to w as a "kseal: finding:" line.
func reportForeign(w io.Writer, found []foreignFinding) {
	for _, f := range found {
		fmt.Fprintf(w, "kseal: finding: %s\n", printable(f.String()))
	}
}

// foreignError is the exit-4 error for found, or nil.
func foreignError(found []foreignFinding) error {
	if len(found) == 0 {
		return nil
	}
	return exitError{ExitFindings, fmt.Errorf("%s kseal cannot open (bitnami SealedSecrets or sops files): convert them with kseal import", countNoun(len(found), "document"))}
}

// walkSummary is the one line a command that walks files ends with, on
// standard error: "verified 12 objects in 9 files; 2 files held no sealed
// object".
func walkSummary(w io.Writer, verb string, objects, files, empty, foreign int) {
	fmt.Fprintln(w, summaryLine(verb, objects, files, empty, "sealed object", foreign))
}

// walkStats counts what a walk over files read.
type walkStats struct {
	files   int              // files read
	empty   int              // files without a sealed object
	foreign []foreignFinding // documents kseal cannot open
}

func (w *walkStats) add(in *input) {
	w.files++
	sealed := false
	for _, d := range in.strm.Docs {
		sealed = sealed || d.Kind == manifest.KindSealedSecret || d.Kind == manifest.KindEncrypted
	}
	if !sealed {
		w.empty++
	}
	w.foreign = append(w.foreign, foreignDocs(in)...)
}
