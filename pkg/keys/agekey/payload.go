package agekey

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// payloadNonceSize is the size of the nonce that starts an age payload.
const payloadNonceSize = 16

// openWrap returns the data key in an age file that holds exactly one. The
// header is read as age reads it (openHeader: id unwraps the file key from
// its stanzas, and the header MAC is checked). The payload, per the age format
// (age-encryption.org/v1), is a 16-byte nonce and STREAM chunks of
// ChaCha20-Poly1305 under HKDF-SHA-256(file key, nonce, "payload"); a
// 32-byte data key is one chunk, counter 0, flagged as the last. age.Decrypt
// reads the same through a streaming reader that allocates two 64 KiB chunk
// buffers for it, which was most of what the controller allocated per
// unseal. TestOpenWrapMatchesAge checks this against age.Decrypt.
//
// Where the header ends is found without parsing it twice: see headerEnd.
// No second encoding of a header can stand in for the first: age and
// readHeader read only canonical headers, the header MAC covers the
// header's own bytes, and the envelope's section MAC commits to the
// wrap's bytes (pkg/crypto).
func openWrap(body []byte, id age.Identity) ([]byte, error) {
	n := headerEnd(body)
	if n < 0 {
		return nil, errors.New("failed to read header: no header MAC line")
	}
	fileKey, err := openHeader(body[:n], id)
	if err != nil {
		return nil, err
	}
	payload := body[n:]
	if n := len(payload) - payloadNonceSize - chacha20poly1305.Overhead; n != dekSize {
		return nil, fmt.Errorf("the age payload holds %d bytes, want %d", max(n, 0), dekSize)
	}
	key, err := hkdf.Key(sha256.New, fileKey, payload[:payloadNonceSize], "payload", chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	nonce[len(nonce)-1] = 1 // chunk 0, the last
	dek, err := aead.Open(nil, nonce[:], payload[payloadNonceSize:], nil)
	if err != nil {
		return nil, errors.New("the age payload does not authenticate")
	}
	return dek, nil
}

// headerEnd is the length of body's age header: up to and including the
// line break that ends its first line starting with "---", the MAC line,
// or -1 if there is none. age reads a header a line at a time and stops at
// that line (no earlier line can start with "---": the first is the
// version line, a stanza's first starts with "->" and its body lines are
// base64), so body[:headerEnd], read whole (openHeader), is the header
// age.Decrypt reads from body, and the rest is the payload.
func headerEnd(body []byte) int {
	i := bytes.Index(body, []byte("\n---"))
	if i < 0 {
		return -1
	}
	j := bytes.IndexByte(body[i+1:], '\n')
	if j < 0 {
		return -1
	}
	return i + 1 + j + 1
}
