package crypto

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"kseal.dev/kseal/pkg/keys"
)

// Sealing an opened object again: for other recipients (Rewrap,
// AddRecipients) or another template (Update). Two rules decide whether
// the existing sections may be kept and committed anew or everything is
// sealed again in one section under a fresh data key:
//
//   - revocation: dropping a recipient any section had always draws a fresh
//     data key (dropsRecipient), since the dropped recipient may hold every
//     earlier one from git history;
//   - no truncation after a recommit: an object of several sections is
//     never committed anew (mustFold), since anyone could then drop the
//     later sections and bring back what they replaced.

// Rewrap seals the opened object to rcpts instead of its current
// recipients.
//
// When rcpts drops a recipient any section had, everything is sealed again
// under a fresh data key in one section: the dropped recipient may hold
// every earlier data key (from git history), so nothing written from now on
// may use one. Values it could already read stay read; only rotating the
// credentials themselves helps there.
//
// When rcpts adds recipients, or a recipient that is a keys.Refresher calls
// one of its wraps stale (made with an older version of a rotated key), an
// object of one section keeps its data key and every value its ciphertext:
// the key is wrapped anew and the commitment recomputed. An object of
// several sections is sealed again in one section under a fresh data key
// instead (see mustFold). An unchanged recipient list changes no bytes.
func (o *Opened) Rewrap(ctx context.Context, rand io.Reader, rcpts []keys.Recipient) (*Sealed, error) {
	if o.dropsRecipient(rcpts) {
		return Seal(ctx, rand, o.Scope(), o.target, o.Values, rcpts)
	}
	plan, err := o.rewrapPlan(ctx, rcpts, true)
	if err != nil {
		return nil, err
	}
	if o.mustFold(o.target, plan, false) {
		return Seal(ctx, rand, o.Scope(), o.target, o.Values, rcpts)
	}
	return o.reseal(ctx, o.target, rcpts, plan)
}

// AddRecipients wraps the data key of an object of one section to rcpts as
// well, keeping every existing wrap and value as it is: the recipients the
// object already has need not be named (their public keys may not be at
// hand). The commitment is recomputed, as it covers the wraps.
//
// An object of several sections that lacks one of rcpts is refused: its
// sections cannot be committed anew (see mustFold), and sealing everything
// again under a fresh data key (Rewrap) needs every recipient's public key.
func (o *Opened) AddRecipients(ctx context.Context, rcpts []keys.Recipient) (*Sealed, error) {
	old := o.sealed
	add := make([][]keys.Recipient, len(o.keys))
	for i, sec := range old.Envelope.Sections {
		have := wrapIDs(sec.Recipients)
		for _, r := range rcpts {
			if !slices.Contains(have, r.KeyID()) {
				add[i] = append(add[i], r)
			}
		}
	}
	if n := len(o.keys); n > 1 && slices.ContainsFunc(add, func(rs []keys.Recipient) bool { return len(rs) > 0 }) {
		return nil, fmt.Errorf("adding a recipient to an object of %d sections seals every value again in one section under a fresh data key (committing the sections anew would let anyone drop the later ones and bring back what they replaced), which needs the public key of every recipient", n)
	}
	s := &Sealed{
		Envelope: Envelope{Version: FormatVersion, Scope: old.Envelope.Scope, SealedFor: old.Envelope.Scope.sealedFor(o.target)},
		Values:   maps.Clone(old.Values),
	}
	b := s.Envelope.Scope.Binding(o.target)
	for i, k := range o.keys {
		sec := old.Envelope.Sections[i]
		wraps := slices.Clone(sec.Recipients)
		if len(add[i]) > 0 {
			more, err := wrapAll(ctx, k.dek, b, add[i])
			if err != nil {
				return nil, err
			}
			wraps = append(wraps, more...)
		}
		if len(wraps) > MaxRecipients {
			return nil, fmt.Errorf("section %d: %d recipients (at most %d)", i, len(wraps), MaxRecipients)
		}
		s.Envelope.Sections = append(s.Envelope.Sections, Section{Recipients: wraps, Removed: sec.Removed})
	}
	for i, k := range o.keys {
		s.Envelope.Sections[i].MAC = k.mac(s, i, o.target)
	}
	return s, nil
}

// rewrapPlan returns, per section of the opened object, whether sealing it
// for rcpts wraps its data key anew: its wraps are not exactly for rcpts,
// or (with refresh) a keys.Refresher in rcpts calls one of them stale.
func (o *Opened) rewrapPlan(ctx context.Context, rcpts []keys.Recipient, refresh bool) ([]bool, error) {
	want := recipientIDs(rcpts)
	plan := make([]bool, len(o.keys))
	for i, sec := range o.sealed.Envelope.Sections {
		plan[i] = !slices.Equal(wrapIDs(sec.Recipients), want)
		if !plan[i] && refresh {
			var err error
			if plan[i], err = staleWrap(ctx, sec.Recipients, rcpts); err != nil {
				return nil, err
			}
		}
	}
	return plan, nil
}

// mustFold reports whether sealing the opened object again for t, with the
// sections plan marks wrapped anew and (with appends) a section of changes
// after them, has to seal every value again in one section under a fresh
// data key rather than commit the object's sections anew.
//
// A section committed anew (for another template, or with its data key
// wrapped anew) commits again to the values its author sealed, those
// removed since included (through the removal digests of later sections).
// Were the result to hold more than one section, anyone could drop the
// later ones and put the removed values' ciphertexts back from git history:
// the earlier section would verify, and a replaced value would open under
// the new template or for the new recipient, a state no author wrote. So
// only an object of one section that stays one section is committed anew
// (its commitment then fixes exactly the current values), and never for
// another template: whoever sealed that section may know its data key and
// could commit it to a template of their own again.
func (o *Opened) mustFold(t Target, plan []bool, appends bool) bool {
	if !bytes.Equal(t.Template.digest(), o.target.Template.digest()) {
		return true
	}
	return slices.Contains(plan, true) && (len(o.keys) > 1 || appends)
}

// reseal returns the opened object's sections and values as they are, with
// the data keys of the sections plan marks wrapped anew for rcpts and every
// commitment computed for t. Unless nothing changes, that commits sections
// anew: mustFold decides whether that is allowed. rcpts must not drop a
// recipient.
func (o *Opened) reseal(ctx context.Context, t Target, rcpts []keys.Recipient, plan []bool) (*Sealed, error) {
	old := o.sealed
	s := &Sealed{
		Envelope: Envelope{Version: FormatVersion, Scope: old.Envelope.Scope, SealedFor: old.Envelope.Scope.sealedFor(t)},
		Values:   maps.Clone(old.Values),
	}
	b := s.Envelope.Scope.Binding(t)
	for i, k := range o.keys {
		sec := old.Envelope.Sections[i]
		wraps := sec.Recipients
		if plan[i] {
			var err error
			if wraps, err = wrapAll(ctx, k.dek, b, rcpts); err != nil {
				return nil, err
			}
		}
		s.Envelope.Sections = append(s.Envelope.Sections, Section{Recipients: wraps, Removed: sec.Removed})
	}
	// In order: each commitment chains the one before it.
	for i, k := range o.keys {
		s.Envelope.Sections[i].MAC = k.mac(s, i, t)
	}
	return s, nil
}

func recipientIDs(rcpts []keys.Recipient) []string {
	ids := make([]string, 0, len(rcpts))
	for _, r := range rcpts {
		ids = append(ids, r.KeyID())
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// staleWrap reports whether a recipient in rcpts that is a keys.Refresher
// calls one of ws, its own wraps, stale.
func staleWrap(ctx context.Context, ws []Wrap, rcpts []keys.Recipient) (bool, error) {
	for _, r := range rcpts {
		rf, ok := r.(keys.Refresher)
		if !ok {
			continue
		}
		for _, w := range ws {
			if w.KeyID != r.KeyID() {
				continue
			}
			if st, err := rf.Stale(ctx, &keys.Stanza{Type: w.Type, KeyID: w.KeyID, Body: w.Data}); err != nil || st {
				return st, err
			}
		}
	}
	return false, nil
}

func wrapIDs(ws []Wrap) []string {
	ids := make([]string, 0, len(ws))
	for _, w := range ws {
		ids = append(ids, w.KeyID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// dropsRecipient reports whether some section of the opened object is
// wrapped to a key that rcpts does not include.
func (o *Opened) dropsRecipient(rcpts []keys.Recipient) bool {
	want := map[string]bool{}
	for _, r := range rcpts {
		want[r.KeyID()] = true
	}
	for _, id := range o.sealed.Envelope.KeyIDs() {
		if !want[id] {
			return true
		}
	}
	return false
}
