package cli

import (
	"errors"
	"fmt"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// A file cut short loses its end, and a sealed object keeps its envelope
// and values last: what is left may no longer read as a sealed object at
// all. A document that names kseal's API version and no kind is what a
// SealedSecret cut after its first line is; passed through as "some other
// document", decrypt would write it out and exit 0.

// errCutShort marks a document that reads as a kseal object cut short.
var errCutShort = errors.New("truncated or not a kseal envelope")

// checkCutShort refuses the first document of in that names kseal's API
// version without a kind.
func checkCutShort(in *input) error {
	for _, d := range in.strm.Docs {
		if d.Handed() || d.Kind != manifest.KindOther || d.Item() >= 0 {
			continue
		}
		if av, kind := d.TypeMeta(); av == manifest.SealedAPIVersion && kind == "" {
			return exitError{ExitNoOpen, fmt.Errorf("%s: doc %d: apiVersion %s and no kind: %w", in.name, d.Index, manifest.SealedAPIVersion, errCutShort)}
		}
	}
	return nil
}

// checkCutShortAll is checkCutShort over every input.
func checkCutShortAll(ins []*input) error {
	for _, in := range ins {
		if err := checkCutShort(in); err != nil {
			return err
		}
	}
	return nil
}

// cutHint adds to an encrypted Secret's integrity failure what a file cut
// inside data: looks like: the envelope comes before the values, so the
// values lost at the end fail the commitment, and nothing in the envelope
// says how many there were.
func cutHint(d *manifest.Doc, err error) error {
	if err == nil || d.Kind != manifest.KindEncrypted || !errors.Is(err, crypto.ErrIntegrity) {
		return err
	}
	return hintError{err, "a file cut short inside data: fails this check too (" + errCutShort.Error() + "): if it may have been, restore it from git"}
}
