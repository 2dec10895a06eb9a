package cli

import (
	"fmt"
	"slices"
	"strings"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// The recipients a sealed object has, compared with those at hand.

// compareRecipients lists the key IDs the object is sealed to that rcpts
// lack, and those of rcpts the object is not sealed to.
func compareRecipients(s *crypto.Sealed, rcpts []keys.Recipient) (missing, extra []string) {
	object := s.Envelope.KeyIDs()
	given := map[string]bool{}
	for _, r := range rcpts {
		given[r.KeyID()] = true
		if !slices.Contains(object, r.KeyID()) && !slices.Contains(extra, r.KeyID()) {
			extra = append(extra, r.KeyID())
		}
	}
	for _, id := range object {
		if !given[id] {
			missing = append(missing, id)
		}
	}
	return missing, extra
}

// publicKeysFor finds the recipient (public key) of every key ID in want:
// in pool, among the identities that can name their own recipient, or the
// key ID itself when it is a recipient string (a KMS key's ARN or name).
func publicKeysFor(want []string, pool []keys.Recipient, ids []keys.Identity) ([]keys.Recipient, error) {
	var out []keys.Recipient
	var missing []string
	for _, id := range want {
		r := findRecipient(id, pool, ids)
		if r == nil {
			missing = append(missing, id)
			continue
		}
		out = append(out, r)
	}
	if len(missing) > 0 {
		return nil, hintError{fmt.Errorf("a fresh data key must be wrapped to every recipient that stays, and the public key of %s is not at hand", strings.Join(missing, ", ")),
			"pass it with --recipients-file or --recipient (kseal fetch-recipients for the cluster's)"}
	}
	return out, nil
}

func findRecipient(id string, pool []keys.Recipient, ids []keys.Identity) keys.Recipient {
	for _, r := range pool {
		if r.KeyID() == id {
			return r
		}
	}
	for _, i := range ids {
		if own, ok := i.(keys.OwnRecipient); ok {
			if r, err := own.OwnRecipient(); err == nil && r.KeyID() == id {
				return r
			}
		}
	}
	if r, err := keys.ParseRecipient(id); err == nil && r.KeyID() == id {
		return r
	}
	return nil
}

// keptKeyIDs is who an object keeps when edit, merge-driver, reencrypt or
// rotate keep its recipients: those of its first section
// (crypto.Envelope.BaseKeyIDs). A key only a later section is wrapped to
// is refused unless removing names it: anyone can append a section with
// public keys, so keeping such a key would let a git writer have the next
// honest edit seal every value to a KMS key of its own.
func keptKeyIDs(s *crypto.Sealed, removing []string) ([]string, error) {
	base, extra := s.Envelope.BaseKeyIDs()
	for _, id := range extra {
		if !slices.Contains(removing, id) {
			return nil, hintError{fmt.Errorf("a section appended later is wrapped to %s, which the object's first section is not: a section sealed with public keys alone cannot add who reads the object", id),
				fmt.Sprintf("check who appended it (kseal inspect, git log); kseal reencrypt --rm-recipient %s seals the object again without it", id)}
		}
	}
	return base, nil
}

// lookupPublicKeys finds the public key of every key ID in want (see
// findRecipient) and lists those it could not find.
func lookupPublicKeys(want []string, pool []keys.Recipient, ids []keys.Identity) (found []keys.Recipient, missing []string) {
	for _, id := range want {
		if r := findRecipient(id, pool, ids); r != nil {
			found = append(found, r)
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}
