package crypto

import (
	"crypto/sha256"
	"encoding/binary"
)

// Domain separation strings. Changing any of them is a format change.
const (
	labelValueKey = "kseal.dev/v2 value key"
	labelMACKey   = "kseal.dev/v2 commitment key"
	labelValueAD  = "kseal.dev/v2 value"
	labelMACInput = "kseal.dev/v2 commitment"
	labelTemplate = "kseal.dev/v2 template"
	fieldPrefix   = "data."
	dekSize       = 32
	nonceSize     = 24
	tagSize       = 16
)

// canon is the canonical encoding used for additional data and commitments:
// every string or byte string is prefixed by its 4-byte big-endian length,
// every count is a 4-byte big-endian integer.
type canon []byte

func (c canon) str(s string) canon {
	c = binary.BigEndian.AppendUint32(c, uint32(len(s)))
	return append(c, s...)
}

func (c canon) bytes(b []byte) canon {
	c = binary.BigEndian.AppendUint32(c, uint32(len(b)))
	return append(c, b...)
}

func (c canon) u32(n int) canon { return binary.BigEndian.AppendUint32(c, uint32(n)) }

func digest(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// Field is the name a Secret data key has in additional data and
// commitments.
func Field(key string) string { return fieldPrefix + key }

func valueAD(scope Scope, ns, name, field string) []byte {
	return canon(nil).str(labelValueAD).str(string(scope)).str(ns).str(name).str(field)
}
