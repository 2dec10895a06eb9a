package agekey

import (
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// x25519Recipient and x25519Identity are age's X25519 recipient type (the
// "X25519" stanza of age-encryption.org/v1) over crypto/ecdh, the keys
// parsed once. age's own X25519Recipient and X25519Identity call
// golang.org/x/crypto/curve25519.X25519, which now goes through
// crypto/ecdh.NewPrivateKey and so derives a public key from the scalar on
// every call and throws it away: a wrap cost four scalar multiplications
// and an unwrap two, where one ephemeral key and one exchange (two) and one
// exchange (one) do. The stanzas are the same bytes: age parses both keys
// first (and checks their bech32 checksums), age.Encrypt and
// openHeader still write and read the header and check its MAC, and
// TestX25519MatchesAge opens each side's wraps with the other's keys and
// sends both the same damaged stanzas.
type x25519Recipient struct {
	their *ecdh.PublicKey
}

type x25519Identity struct {
	ours *ecdh.PrivateKey
}

var (
	_ age.Recipient = (*x25519Recipient)(nil)
	_ age.Identity  = (*x25519Identity)(nil)
)

const (
	x25519Label  = "age-encryption.org/v1/X25519"
	x25519Stanza = "X25519"
	fileKeySize  = 16
)

// ageBase64 is age's encoding of stanza arguments: standard alphabet, no
// padding, canonical.
var ageBase64 = base64.RawStdEncoding.Strict()

// newX25519Recipient parses an age1… recipient that age.ParseX25519Recipient
// accepted as r; the two must agree on the key.
func newX25519Recipient(s string, r *age.X25519Recipient) (*x25519Recipient, error) {
	pub, err := bech32Data(s)
	if err != nil {
		return nil, err
	}
	if enc, err := bech32Encode("age", pub); err != nil || enc != r.String() {
		return nil, errors.New("malformed age X25519 recipient")
	}
	their, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, errors.New("malformed age X25519 recipient")
	}
	return &x25519Recipient{their: their}, nil
}

// newX25519Identity parses an AGE-SECRET-KEY-1… identity that
// age.ParseX25519Identity accepted, recipient being the recipient age
// derived from it: the key parsed here must have that public key.
func newX25519Identity(s, recipient string) (*x25519Identity, error) {
	scalar, err := bech32Data(s)
	if err != nil {
		return nil, err
	}
	ours, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		return nil, errors.New("malformed age X25519 identity")
	}
	pub, err := bech32Data(recipient)
	if err != nil || subtle.ConstantTimeCompare(pub, ours.PublicKey().Bytes()) != 1 {
		return nil, errors.New("malformed age X25519 identity")
	}
	return &x25519Identity{ours: ours}, nil
}

// Wrap wraps fileKey for the recipient: an ephemeral key, its exchange
// with the recipient's, and the file key sealed under the HKDF of that.
func (r *x25519Recipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	shared, err := eph.ECDH(r.their)
	if err != nil {
		return nil, err
	}
	share := eph.PublicKey().Bytes()
	aead, err := x25519AEAD(shared, share, r.their.Bytes())
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	body := aead.Seal(nil, nonce[:], fileKey, nil)
	return []*age.Stanza{{Type: x25519Stanza, Args: []string{ageBase64.EncodeToString(share)}, Body: body}}, nil
}

// Unwrap returns the file key of the first X25519 stanza made for this
// identity, as age's X25519Identity does: another type, or a body that
// does not authenticate, is not this identity's (age.ErrIncorrectIdentity);
// a malformed X25519 stanza is an error.
func (i *x25519Identity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	for _, s := range stanzas {
		fileKey, err := i.unwrap(s)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		return fileKey, err
	}
	return nil, age.ErrIncorrectIdentity
}

func (i *x25519Identity) unwrap(s *age.Stanza) ([]byte, error) {
	if s.Type != x25519Stanza {
		return nil, age.ErrIncorrectIdentity
	}
	if len(s.Args) != 1 {
		return nil, errors.New("invalid X25519 recipient block")
	}
	share, err := decodeLine(s.Args[0])
	if err != nil || len(share) != 32 {
		return nil, errors.New("invalid X25519 recipient block")
	}
	theirs, err := ecdh.X25519().NewPublicKey(share)
	if err != nil {
		return nil, errors.New("invalid X25519 recipient block")
	}
	// ECDH refuses a share whose exchange is all zeros (a low-order point).
	shared, err := i.ours.ECDH(theirs)
	if err != nil {
		return nil, fmt.Errorf("invalid X25519 recipient: %v", err)
	}
	if len(s.Body) != fileKeySize+chacha20poly1305.Overhead {
		return nil, errors.New("invalid X25519 recipient block: incorrect file key size")
	}
	aead, err := x25519AEAD(shared, share, i.ours.PublicKey().Bytes())
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	fileKey, err := aead.Open(nil, nonce[:], s.Body, nil)
	if err != nil {
		return nil, age.ErrIncorrectIdentity
	}
	return fileKey, nil
}

// x25519AEAD is the stanza's cipher: ChaCha20-Poly1305 under HKDF-SHA-256
// of the shared secret, salted with the ephemeral share and the recipient.
func x25519AEAD(shared, share, recipient []byte) (cipher.AEAD, error) {
	salt := make([]byte, 0, len(share)+len(recipient))
	salt = append(append(salt, share...), recipient...)
	key, err := hkdf.Key(sha256.New, shared, salt, x25519Label, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.New(key)
}
