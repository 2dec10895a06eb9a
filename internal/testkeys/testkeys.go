// Package testkeys holds deterministic randomness and a see-through key
// provider for tests and test vectors. Never link it into a binary.
package testkeys

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"kseal.dev/kseal/pkg/keys"
)

// Reader is a deterministic byte stream: SHA-256(seed || counter) blocks.
type Reader struct {
	Seed string
	n    uint64
	buf  []byte
}

func (r *Reader) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			h := sha256.New()
			h.Write([]byte(r.Seed))
			h.Write(binary.BigEndian.AppendUint64(nil, r.n))
			r.n++
			r.buf = h.Sum(nil)
		}
		p[i], r.buf = r.buf[0], r.buf[1:]
	}
	return len(p), nil
}

// ClearType and ClearKeyID identify ClearRecipient stanzas.
const (
	ClearType  = "test-clear"
	ClearKeyID = "vector-key"
)

// ClearRecipient "wraps" by storing the data key in the clear, which makes a
// sealed object fully deterministic.
type ClearRecipient struct{}

// Wrap returns the data key itself.
func (ClearRecipient) Wrap(_ context.Context, dek []byte, _ keys.Binding) (*keys.Stanza, error) {
	return &keys.Stanza{Type: ClearType, KeyID: ClearKeyID, Body: append([]byte(nil), dek...)}, nil
}

// KeyID returns ClearKeyID.
func (ClearRecipient) KeyID() string { return ClearKeyID }

// ClearIdentity opens ClearRecipient stanzas.
type ClearIdentity struct{}

// Unwrap returns the stored data key.
func (ClearIdentity) Unwrap(_ context.Context, s *keys.Stanza, _ keys.Binding) ([]byte, error) {
	if s.Type != ClearType {
		return nil, keys.ErrIncorrectIdentity
	}
	return s.Body, nil
}
