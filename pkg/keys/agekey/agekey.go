// Package agekey is the age key provider: X25519 recipients (age1…) and the
// post-quantum hybrid ML-KEM-768 + X25519 recipients (age1pq1…) of
// filippo.io/age. The cluster keypair managed by kseal-controller is an age
// hybrid identity too.
//
// A wrap is a complete binary age file whose payload is the 32-byte data
// key, encrypted to exactly one recipient. age's own file key is 128 bits;
// going through age.Encrypt rather than Recipient.Wrap keeps the 256-bit data
// key intact and uses only age's public, stable API (to open a wrap, its
// header goes through age and its one-chunk payload is read as the age
// format defines it: see openWrap). X25519 stanzas are made and opened by
// x25519.go over crypto/ecdh, at half the scalar multiplications of age's
// own X25519 types, the same bytes on the wire. The stanza's KeyID is
// the first 16 hex digits of SHA-256 over the recipient string.
//
// Importing the package registers the recipient prefixes "age1" and
// "age1pq1", the identity prefixes "AGE-SECRET-KEY-" and
// "AGE-SECRET-KEY-PQ-", and an identity source reading KSEAL_AGE_KEY_FILE
// and KSEAL_AGE_KEY.
package agekey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"kseal.dev/kseal/pkg/keys"
)

// Stanza types recorded in the envelope.
const (
	TypeX25519 = "x25519"
	TypeHybrid = "mlkem768x25519"
)

// Environment variables read by the default identity source.
const (
	EnvKeyFile = "KSEAL_AGE_KEY_FILE"
	EnvKey     = "KSEAL_AGE_KEY"
)

const dekSize = 32

func init() {
	keys.Register(keys.Provider{
		Name:              "age",
		RecipientPrefixes: []string{"age1", "age1pq1"},
		ParseRecipient:    ParseRecipient,
		IdentityPrefixes:  []string{"AGE-SECRET-KEY-"},
		ParseIdentity:     ParseIdentity,
		Source:            envIdentities,
		// KSEAL_AGE_KEY and KSEAL_AGE_KEY_FILE hold or name identities; so
		// do sops' SOPS_AGE_KEY, SOPS_AGE_KEY_FILE and SOPS_AGE_KEY_CMD,
		// which kseal import sops hands to sops.
		CredentialEnv: []string{"KSEAL_AGE_KEY", "SOPS_AGE_"},
		KeyAliases:    []keys.KeyAlias{{Field: "age", Recipient: func(v string) string { return v }}},
	})
}

// Recipient is an age recipient usable as a kseal recipient.
type Recipient struct {
	r     age.Recipient
	typ   string
	str   string
	keyID string
}

var _ keys.Recipient = (*Recipient)(nil)

// ParseRecipient parses an age1… or age1pq1… recipient.
func ParseRecipient(s string) (keys.Recipient, error) {
	return parseRecipient(strings.TrimSpace(s))
}

func parseRecipient(s string) (*Recipient, error) {
	var r age.Recipient
	typ := TypeX25519
	var err error
	if strings.HasPrefix(s, "age1pq1") {
		typ = TypeHybrid
		r, err = age.ParseHybridRecipient(s)
	} else {
		var x *age.X25519Recipient
		if x, err = age.ParseX25519Recipient(s); err == nil {
			r, err = newX25519Recipient(s, x)
		}
	}
	if err != nil {
		return nil, err
	}
	return &Recipient{r: r, typ: typ, str: s, keyID: KeyID(s)}, nil
}

// KeyID is the key ID kseal records for the age recipient string s.
func KeyID(recipient string) string {
	sum := sha256.Sum256([]byte(recipient))
	return hex.EncodeToString(sum[:8])
}

// Wrap encrypts dek to this recipient alone.
func (r *Recipient) Wrap(_ context.Context, dek []byte, _ keys.Binding) (*keys.Stanza, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r.r)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(dek); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return &keys.Stanza{Type: r.typ, KeyID: r.keyID, Body: buf.Bytes()}, nil
}

// KeyID returns the recipient's key ID.
func (r *Recipient) KeyID() string { return r.keyID }

// Describe says what the recipient is, for kseal policy explain.
func (r *Recipient) Describe() string {
	if r.PostQuantum() {
		return "age ML-KEM hybrid key " + r.str
	}
	return "age key " + r.str
}

// StanzaType returns the stanza type of the recipient's wraps.
func (r *Recipient) StanzaType() string { return r.typ }

// String returns the recipient string.
func (r *Recipient) String() string { return r.str }

// PostQuantum reports whether the recipient is the ML-KEM hybrid.
func (r *Recipient) PostQuantum() bool { return r.typ == TypeHybrid }

// Identity is an age identity usable as a kseal identity.
type Identity struct {
	id        age.Identity
	typ       string
	recipient string
	keyID     string
	secret    string
}

var _ keys.Identity = (*Identity)(nil)

// ParseIdentity parses an AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1… line.
// Errors never quote the input.
func ParseIdentity(s string) (keys.Identity, error) {
	return parseIdentity(strings.TrimSpace(s))
}

func parseIdentity(s string) (*Identity, error) {
	switch {
	case strings.HasPrefix(s, "AGE-SECRET-KEY-PQ-1"):
		id, err := age.ParseHybridIdentity(s)
		if err != nil {
			return nil, errors.New("malformed age post-quantum identity")
		}
		return newIdentity(id, TypeHybrid, id.Recipient().String(), s), nil
	case strings.HasPrefix(s, "AGE-SECRET-KEY-1"):
		id, err := age.ParseX25519Identity(s)
		if err != nil {
			return nil, errors.New("malformed age X25519 identity")
		}
		recipient := id.Recipient().String()
		fast, err := newX25519Identity(s, recipient)
		if err != nil {
			return nil, err
		}
		return newIdentity(fast, TypeX25519, recipient, s), nil
	}
	return nil, errors.New("unknown age identity type")
}

func newIdentity(id age.Identity, typ, recipient, secret string) *Identity {
	return &Identity{id: id, typ: typ, recipient: recipient, keyID: KeyID(recipient), secret: secret}
}

// Generate makes a new identity: the post-quantum hybrid unless x25519 is set.
func Generate(x25519 bool) (*Identity, error) {
	if x25519 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, err
		}
		return parseIdentity(id.String())
	}
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, err
	}
	return newIdentity(id, TypeHybrid, id.Recipient().String(), id.String()), nil
}

// Unwrap opens s if it was made for this identity's key.
func (i *Identity) Unwrap(_ context.Context, s *keys.Stanza, _ keys.Binding) ([]byte, error) {
	if s.Type != i.typ || s.KeyID != i.keyID {
		return nil, keys.ErrIncorrectIdentity
	}
	dek, err := openWrap(s.Body, i.id)
	if err != nil {
		return nil, fmt.Errorf("age wrap for key %s does not open: %w", i.keyID, err)
	}
	return dek, nil
}

// Recipient returns the public recipient string.
func (i *Identity) Recipient() string { return i.recipient }

// OwnRecipient returns the recipient this identity opens.
func (i *Identity) OwnRecipient() (keys.Recipient, error) { return parseRecipient(i.recipient) }

var _ keys.OwnRecipient = (*Identity)(nil)

// KeyID returns the key ID of the identity's recipient.
func (i *Identity) KeyID() string { return i.keyID }

// Type returns the stanza type this identity opens.
func (i *Identity) Type() string { return i.typ }

// SecretString returns the AGE-SECRET-KEY-… encoding. Handle with care: it is
// the private key.
func (i *Identity) SecretString() string { return i.secret }

// envIdentities reads KSEAL_AGE_KEY_FILE (a list of files separated by the
// OS path list separator) and KSEAL_AGE_KEY (identity lines).
func envIdentities(context.Context) ([]keys.Identity, error) {
	var ids []keys.Identity
	var errs []error
	if files := os.Getenv(EnvKeyFile); files != "" {
		for _, f := range filepath.SplitList(files) {
			got, err := keys.ParseIdentityFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", EnvKeyFile, err))
				continue
			}
			ids = append(ids, got...)
		}
	}
	if v := os.Getenv(EnvKey); v != "" {
		got, err := keys.ParseIdentities(strings.NewReader(v), "$"+EnvKey)
		if err != nil {
			errs = append(errs, err)
		} else {
			ids = append(ids, got...)
		}
	}
	return ids, errors.Join(errs...)
}
