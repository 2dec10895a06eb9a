package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
	"kseal.dev/kseal/pkg/policy"
)

// Who can read an object after edit or merge-driver. Both keep every
// recipient the object already has: an edit is about values, and a
// recipient list that follows whatever public keys happen to be at hand
// locks out whoever is not among them (a file sealed to the cluster and to
// you, edited with the cluster's recipients file as the hint said, would
// open for the cluster only). Only edit changes the list, and only when
// told: --recipient/--recipients-file add, --rm-recipient removes (a
// fresh data key: a revocation). Public keys of the recipients kept are
// looked up, never taken as the new list: among the identities at hand,
// KMS key IDs (which name their key), the recipient flags and
// $KSEAL_RECIPIENTS_FILE, and the policy's keys for the file.

// recipientEdit is what an edit does to one object's recipients.
type recipientEdit struct {
	rcpts   []keys.Recipient // the recipients to seal to
	added   []string         // key IDs added
	removed []string         // key IDs removed
}

// changes reports whether the edit changes who can read the object.
func (r recipientEdit) changes() bool { return len(r.added)+len(r.removed) > 0 }

// editRecipients decides the recipients of object d (sealed as s) of file
// for kseal edit; rm are the --rm-recipient values.
func editRecipients(e *env, t *recipientSource, file string, d *manifest.Doc, s *crypto.Sealed, ids []keys.Identity, rm []string) (recipientEdit, error) {
	var out recipientEdit
	p, err := t.policyFor(file)
	if err != nil {
		return out, err
	}
	explicit := len(t.rcpt.recipients)+len(t.rcpt.files) > 0
	if p != nil && (explicit || len(rm) > 0) {
		return out, hintError{fmt.Errorf("%s decides the recipients of this file: --recipient, --recipients-file and --rm-recipient are refused", p.Path),
			"change the keys in the policy and run kseal reencrypt, or pass --no-policy"}
	}
	has := s.Envelope.KeyIDs()
	for _, r := range rm {
		id := r
		if rc, err := keys.ParseRecipient(r); err == nil {
			id = rc.KeyID()
		}
		if !slices.Contains(has, id) {
			return out, usagef("--rm-recipient %q: the object is not sealed to it (it has %s)", id, strings.Join(has, ", "))
		}
		if !slices.Contains(out.removed, id) {
			out.removed = append(out.removed, id)
		}
	}
	var adding []keys.Recipient
	if explicit {
		given, err := t.fromFlags(e)
		if err != nil {
			return out, err
		}
		for _, r := range given {
			switch {
			case slices.Contains(out.removed, r.KeyID()):
				return out, usagef("recipient %s is both given and removed (--rm-recipient)", r.KeyID())
			case !slices.Contains(has, r.KeyID()) && !slices.Contains(out.added, r.KeyID()):
				adding = append(adding, r)
				out.added = append(out.added, r.KeyID())
			}
		}
	}
	kept, err := keptKeyIDs(s, out.removed)
	if err != nil {
		return out, err
	}
	var stay []string
	for _, id := range kept {
		if !slices.Contains(out.removed, id) {
			stay = append(stay, id)
		}
	}
	if len(stay)+len(adding) == 0 {
		return out, errors.New("removing every recipient would leave nobody able to open the object")
	}
	pool, err := compactPool(e, t, file, d)
	if err != nil {
		return out, err
	}
	found, missing := lookupPublicKeys(stay, pool, ids)
	if len(missing) > 0 {
		hint := "pass them with --recipients-file or --recipient (they are added to the object's recipients, never put in their place; kseal fetch-recipients for the cluster's), or remove them with --rm-recipient ID (a revocation: every value is sealed again under a fresh data key)"
		if p != nil {
			hint = "kseal.yaml no longer names them: kseal reencrypt seals the object to the policy's keys (a revocation), or pass --no-policy and their public keys with --recipients-file"
		}
		return out, hintError{fmt.Errorf("an edit keeps every recipient of the object and seals what changed under a fresh data key for them all, and the public keys of %s are not at hand (not among your identities, the recipient flags or the policy)", strings.Join(missing, ", ")), hint}
	}
	out.rcpts = append(found, adding...)
	if p != nil {
		if pr, err := policyRecipients(p, file); err == nil && pr != nil {
			// compareRecipients: what the object has that the policy
			// lacks, and the other way round.
			if alsoHas, lacks := compareRecipients(s, pr); len(alsoHas)+len(lacks) > 0 {
				fmt.Fprintf(e.stderr, "kseal: note: %s: %s: its recipients differ from those %s names (%s); edit keeps the object's, kseal reencrypt seals it to the policy's\n",
					printable(file), printable(docLabel(d)), printable(p.Path), printable(drift(lacks, alsoHas)))
			}
		}
	}
	return out, nil
}

// docLabel is "doc N: Kind NS/NAME", as errors name a document.
func docLabel(d *manifest.Doc) string {
	return fmt.Sprintf("doc %d: %s %s", d.Index, d.Kind, d.Object())
}

// drift describes how an object's recipients differ from the wanted ones.
func drift(missing, extra []string) string {
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "it lacks "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		parts = append(parts, "it also has "+strings.Join(extra, ", "))
	}
	return strings.Join(parts, "; ")
}

// policyRecipients returns the recipients the policy p gives file, or nil
// when no entry covers it.
func policyRecipients(p *policy.Policy, file string) ([]keys.Recipient, error) {
	rule, err := p.RuleFor(file)
	if err != nil || rule == nil {
		return nil, err
	}
	return p.Recipients(rule.Keys)
}

// reportRecipientEdit says on standard error what an edit did to the
// recipients of d: who can read it is never changed in silence.
func reportRecipientEdit(e *env, file string, d *manifest.Doc, r recipientEdit) {
	for _, id := range r.added {
		fmt.Fprintf(e.stderr, "kseal: %s: %s: recipient %s added\n", printable(file), printable(docLabel(d)), printable(id))
	}
	if len(r.removed) > 0 {
		fmt.Fprintf(e.stderr, "kseal: %s: %s: recipient %s revoked: every value is sealed again in one section under a fresh data key, so nothing written from now on opens with a key it held; what it could read before stays read (rotate those credentials)\n",
			printable(file), printable(docLabel(d)), printable(strings.Join(r.removed, ", ")))
	}
}
