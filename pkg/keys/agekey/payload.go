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
// header is age's business: age.DecryptHeader unwraps the file key with id
// and checks the header MAC. The payload, per the age format
// (age-encryption.org/v1), is a 16-byte nonce and STREAM chunks of
// ChaCha20-Poly1305 under HKDF-SHA-256(file key, nonce, "payload"); a
// 32-byte data key is one chunk, counter 0, flagged as the last. age.Decrypt
// reads the same through a streaming reader that allocates two 64 KiB chunk
// buffers for it, which was most of what the controller allocated per
// unseal. TestOpenWrapMatchesAge checks this against age.Decrypt.
func openWrap(body []byte, id age.Identity) ([]byte, error) {
	hdr, err := age.ExtractHeader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	fileKey, err := age.DecryptHeader(hdr, id)
	if err != nil {
		return nil, err
	}
	// age parses only canonical headers, so the one re-encoded is the
	// prefix; checked anyway, should a later age accept other encodings.
	if len(hdr) > len(body) || !bytes.Equal(body[:len(hdr)], hdr) {
		return nil, errors.New("the age header is not in its canonical encoding")
	}
	payload := body[len(hdr):]
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
