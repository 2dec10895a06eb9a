package cli

import (
	"encoding/base64"
	"fmt"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// Sealing a big input only to refuse its output afterwards (more than
// kseal reads back) cost a user 92 s and 909 MB for a 50 MB file of 12,838
// Secrets. sealedSizeCheck refuses such an input before any sealing, from
// a lower bound of what each sealed object takes, so that it never refuses
// an input whose output would fit: every value is stored as base64 of at
// least 41 bytes more than its plaintext (format.md, Values), every
// recipient adds a wrap, and every object a fixed frame.

// Lower bounds, in bytes of output, measured on kseal's own output (see
// TestSealedSizeLowerBound, which fails if one is ever above what a real
// sealed object takes).
const (
	// minSealedFrame: apiVersion, kind, metadata, spec, the template, the
	// envelope's version, scope and one section's MAC, names excluded.
	minSealedFrame = 200
	// minValueFrame: the ": " between a value's key and its text.
	minValueFrame = 2
	// minValueOverhead: the section byte, nonce and tag of each value.
	minValueOverhead = 41
)

// minWrapSize is a lower bound of the bytes one wrap of the stanza type
// takes in the output, its key ID included.
func minWrapSize(r keys.Recipient) int {
	n := len(r.KeyID())
	if t, ok := r.(keys.TypedRecipient); ok {
		switch t.StanzaType() {
		case "x25519": // an age file of fixed size: 312 bytes of base64
			n += 300
		case "mlkem768x25519": // likewise: 2,256 bytes of base64
			n += 2200
		}
	}
	return n
}

// sealedLowerBound returns a lower bound of the bytes the sealed form of
// the plain Secret d takes when sealed to rcpts, or false when d does not
// read as a plain Secret (sealing reports why).
func sealedLowerBound(d *manifest.Doc, rcpts []keys.Recipient) (int, bool) {
	values, err := d.Plain()
	if err != nil {
		return 0, false
	}
	n := minSealedFrame + len(d.Node().GetName()) + len(d.Node().GetNamespace())
	for k, v := range values {
		n += minValueFrame + len(k) + base64.StdEncoding.EncodedLen(minValueOverhead+len(v))
	}
	for _, r := range rcpts {
		n += minWrapSize(r)
	}
	return n, true
}

// sealedSizeCheck refuses, before anything is sealed, inputs whose sealed
// output could not be read back: each file with -i, all of them together
// on standard output. Only the flags' recipients are counted (where a
// policy decides, none are: a lower bound needs none).
func sealedSizeCheck(e *env, target *recipientSource, ins []*input, inPlace bool) error {
	var flagRcpts []keys.Recipient
	if target.flagsGiven(e) {
		// An error is sealing's to report, with the document it concerns.
		flagRcpts, _ = target.fromFlags(e)
	}
	total, docs := 0, 0
	for _, in := range ins {
		// The flags' recipients count only where no policy decides.
		var rcpts []keys.Recipient
		if p, err := target.policyFor(fileName(in)); err == nil && p == nil {
			rcpts = flagRcpts
		}
		size, n := 0, 0
		for _, d := range in.strm.Docs {
			if d.Kind != manifest.KindSecret {
				continue
			}
			// A Secret whose tree was let go after parsing
			// (manifest.ParseEach) is built again for its sizes.
			if err := in.strm.Load(e.ctx, d); err != nil {
				return err
			}
			b, ok := sealedLowerBound(d, rcpts)
			in.strm.Release(d)
			if ok {
				size += b
				n++
			}
		}
		if n == 0 {
			continue
		}
		if inPlace {
			if err := tooBigToSeal(in.name, size, n); err != nil {
				return err
			}
		}
		total += size
		docs += n
	}
	if !inPlace {
		return tooBigToSeal("standard output", total, docs)
	}
	return nil
}

// tooBigToSeal refuses n Secrets whose sealed form takes at least size
// bytes when that is more than kseal reads back, saying how many fit.
func tooBigToSeal(name string, size, n int) error {
	if size <= maxFileSize || n == 0 {
		return nil
	}
	per := max(size/n, 1)
	fit := maxFileSize / per
	return hintError{
		fmt.Errorf("%s: %w: %d Secrets would seal to at least %d bytes (at most %d): nothing sealed", name, errTooLarge, n, size, maxFileSize),
		fmt.Sprintf("split the input: at most about %d Secrets of this size (%d bytes or more sealed, each) fit in one file", fit, per),
	}
}
