package cli

import (
	"slices"

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
