package keys

import "context"

// A Refresher is a Recipient whose key service versions its keys (Vault
// transit's key rotation): Stale reports whether s, a wrap to this
// recipient's key, was made with an older key version than Wrap uses now,
// so that `kseal reencrypt` wraps it anew. A Refresher that cannot tell
// (no permission to read the key's version) answers false.
type Refresher interface {
	Stale(ctx context.Context, s *Stanza) (bool, error)
}
