package cli

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"kseal.dev/kseal/pkg/crypto"
)

// The merge driver's conflict rule, as a chain of named checks over the
// three opened versions of a document both branches changed (the shape of
// cert-manager's issuing policies): what follows from the versions is
// computed once (mergeInput), each check is a pure function of it that
// returns why the document cannot be merged or nil, and the first reason is
// the conflict reported. The merge then seals what the input says; a check
// is the only thing between a conflict and a merged file.

// mergeInput is what the checks look at: the base, our and their opened
// versions, and the three-way merge of their metadata, values and
// recipients.
type mergeInput struct {
	b, o, t *mergeSide
	// carrier is the version whose metadata the result keeps; nil when
	// both branches changed it.
	carrier *mergeSide
	// merged are the merged values; clash names the fields both branches
	// changed to different plaintexts (missing from merged).
	merged map[string][]byte
	clash  []string
	// keyIDs are the merged recipients; keptErr says why a version's
	// recipients cannot be kept, recipientsOK whether at most one branch
	// changed them.
	keyIDs       []string
	keptErr      error
	recipientsOK bool
}

// newMergeInput computes what the checks decide on; it refuses nothing.
func newMergeInput(b, o, t *mergeSide) *mergeInput {
	in := &mergeInput{b: b, o: o, t: t, carrier: carrierOf(b, o, t)}
	in.merged, in.clash = mergeValues(b.o.Values, o.o.Values, t.o.Values)
	var kept [3][]string
	for i, v := range []*mergeSide{b, o, t} {
		if kept[i], in.keptErr = keptKeyIDs(v.s, nil); in.keptErr != nil {
			return in
		}
	}
	in.keyIDs, in.recipientsOK = mergedKeyIDs(kept[0], kept[1], kept[2])
	return in
}

// mergeCheck is one rule of the merge: a name and a pure check.
type mergeCheck struct {
	name  string
	check func(in *mergeInput) error
}

// mergeChecks, in the order their conflicts are reported.
var mergeChecks = []mergeCheck{
	{"same-scope", sameScope},
	{"both-extend-base", bothExtendBase},
	{"metadata-on-one-side", metadataOnOneSide},
	{"values-on-one-side", valuesOnOneSide},
	{"recipients-kept", recipientsKept},
	{"recipients-on-one-side", recipientsOnOneSide},
}

// firstConflict is the reason of the first check that refuses in, or nil.
func firstConflict(in *mergeInput) error {
	for _, c := range mergeChecks {
		if err := c.check(in); err != nil {
			return err
		}
	}
	return nil
}

// sameScope: the scope binds every value; a change of it is a new object.
func sameScope(in *mergeInput) error {
	b, o, t := in.b.s.Envelope.Scope, in.o.s.Envelope.Scope, in.t.s.Envelope.Scope
	if b != o || o != t {
		return fmt.Errorf("the scope changed (%s, %s, %s)", b, o, t)
	}
	return nil
}

// bothExtendBase: both sides continue the base's chain. A writer without a
// key can append sections (sealing values they know) but not recommit the
// base's: the driver must not be what seals a value taken from history (an
// older version, their side's "change"), or our new values under a
// template they chose (a chain of their own, or the base's sealed again:
// compact, rotate, a recipient dropped, the template changed, a recipient
// added to several sections). Both, since either side may be the writer's
// branch.
func bothExtendBase(in *mergeInput) error {
	var stale []string
	for _, v := range []*mergeSide{in.o, in.t} {
		if !v.o.Extends(in.b.o) {
			stale = append(stale, v.name)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	verb := "does"
	if len(stale) > 1 {
		verb = "do"
	}
	return fmt.Errorf("%s %s not extend the base's sections (an older version, sealed anew, or sealed again by compact, rotate, a dropped recipient, a template change or a recipient added to several sections); apply the other side's change by hand", strings.Join(stale, " and "), verb)
}

// metadataOnOneSide: at most one branch changed the metadata or template.
func metadataOnOneSide(in *mergeInput) error {
	if in.carrier == nil {
		return errors.New("both branches changed its metadata or template")
	}
	return nil
}

// valuesOnOneSide: no value was changed on both branches to different
// plaintexts.
func valuesOnOneSide(in *mergeInput) error {
	if len(in.clash) > 0 {
		return fmt.Errorf("both branches changed %s", strings.Join(in.clash, ", "))
	}
	return nil
}

// recipientsKept: no version has a recipient that only a section appended
// later names (see keptKeyIDs).
func recipientsKept(in *mergeInput) error {
	return in.keptErr
}

// recipientsOnOneSide: at most one branch changed the recipients.
func recipientsOnOneSide(in *mergeInput) error {
	if !in.recipientsOK {
		return errors.New("both branches changed the recipients")
	}
	return nil
}

// carrierOf is the version whose metadata the result keeps (the template
// is the base's on both sides once both extend it), nil when both branches
// changed it; the other side's value changes are sealed on top of it.
func carrierOf(b, o, t *mergeSide) *mergeSide {
	switch {
	case t.skel == b.skel || t.skel == o.skel:
		return o
	case o.skel == b.skel:
		return t
	}
	return nil
}

// mergeValues merges the plaintext values three-way: a value changed (or
// added, or removed) on one branch takes that branch's; one changed on both
// alike is taken, one changed on both to different plaintexts is left out
// and named in clash.
func mergeValues(base, ours, theirs map[string][]byte) (merged map[string][]byte, clash []string) {
	merged = map[string][]byte{}
	for _, k := range slices.Sorted(maps.Keys(union(base, ours, theirs))) {
		vb, inB := base[k]
		vo, inO := ours[k]
		vt, inT := theirs[k]
		oursChanged := !sameValue(vb, inB, vo, inO)
		theirsChanged := !sameValue(vb, inB, vt, inT)
		if oursChanged && theirsChanged && !sameValue(vo, inO, vt, inT) {
			clash = append(clash, crypto.Field(k))
			continue
		}
		if theirsChanged {
			if inT {
				merged[k] = vt
			}
		} else if inO {
			merged[k] = vo
		}
	}
	return merged, clash
}

// mergedKeyIDs merges the recipient key ID sets three-way.
func mergedKeyIDs(b, o, t []string) ([]string, bool) {
	switch {
	case slices.Equal(o, t), slices.Equal(b, t):
		return o, true
	case slices.Equal(b, o):
		return t, true
	}
	return nil, false
}

func union(ms ...map[string][]byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

func sameValue(a []byte, inA bool, b []byte, inB bool) bool {
	return inA == inB && bytes.Equal(a, b)
}
