package agekey

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
)

// ageX25519Pair is one key with both implementations of it: age's own and
// kseal's (x25519.go), parsed from the same strings.
type ageX25519Pair struct {
	ageID  *age.X25519Identity
	ageRcp *age.X25519Recipient
	id     *x25519Identity
	rcp    *x25519Recipient
}

func newAgeX25519Pair(t *testing.T) ageX25519Pair {
	t.Helper()
	ageID, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	id, err := newX25519Identity(ageID.String(), ageID.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	rcp, err := newX25519Recipient(ageID.Recipient().String(), ageID.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	return ageX25519Pair{ageID: ageID, ageRcp: ageID.Recipient(), id: id, rcp: rcp}
}

// roundTrip encrypts msg to r and decrypts it with id, both through age.
func roundTrip(t *testing.T, r age.Recipient, id age.Identity, msg []byte) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err := age.Decrypt(&buf, id)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(rd)
}

// TestX25519MatchesAge: kseal's X25519 recipient and identity are age's on
// the wire. Each side opens what the other wrapped, neither opens a wrap
// for another key, and both give the same answer (the file key, "not this
// identity's", or an error) for the same damaged stanzas.
func TestX25519MatchesAge(t *testing.T) {
	msg := []byte("a 32-byte data key, more or less")
	for range 20 {
		k, other := newAgeX25519Pair(t), newAgeX25519Pair(t)
		for _, c := range []struct {
			name string
			r    age.Recipient
			id   age.Identity
		}{{"kseal wraps, age opens", k.rcp, k.ageID}, {"age wraps, kseal opens", k.ageRcp, k.id}, {"kseal wraps, kseal opens", k.rcp, k.id}} {
			if got, err := roundTrip(t, c.r, c.id, msg); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%s: %q, %v", c.name, got, err)
			}
		}
		if _, err := roundTrip(t, k.rcp, other.id, msg); !errors.As(err, new(*age.NoIdentityMatchError)) {
			t.Fatalf("another key opened a kseal wrap: %v", err)
		}

		fileKey := make([]byte, fileKeySize)
		rand.Read(fileKey)
		st, err := k.ageRcp.Wrap(fileKey)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range damaged(st[0]) {
			want, wantErr := k.ageID.Unwrap([]*age.Stanza{s})
			got, gotErr := k.id.Unwrap([]*age.Stanza{s})
			if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) ||
				errors.Is(gotErr, age.ErrIncorrectIdentity) != errors.Is(wantErr, age.ErrIncorrectIdentity) {
				t.Errorf("%s: kseal gives %x, %v; age gives %x, %v", name, got, gotErr, want, wantErr)
			}
			if name == "as made" && (gotErr != nil || !bytes.Equal(got, fileKey)) {
				t.Errorf("the stanza as made does not open: %v", gotErr)
			}
		}
	}
}

// damaged returns s as made and in every way the tests damage it.
func damaged(s *age.Stanza) map[string]*age.Stanza {
	with := func(f func(c *age.Stanza)) *age.Stanza {
		c := &age.Stanza{Type: s.Type, Args: slices.Clone(s.Args), Body: slices.Clone(s.Body)}
		f(c)
		return c
	}
	arg := func(b []byte) func(c *age.Stanza) {
		return func(c *age.Stanza) { c.Args = []string{ageBase64.EncodeToString(b)} }
	}
	share, _ := ageBase64.DecodeString(s.Args[0])
	out := map[string]*age.Stanza{
		"as made":              with(func(*age.Stanza) {}),
		"another type":         with(func(c *age.Stanza) { c.Type = "x25519" }),
		"no argument":          with(func(c *age.Stanza) { c.Args = nil }),
		"two arguments":        with(func(c *age.Stanza) { c.Args = append(c.Args, c.Args[0]) }),
		"argument with CR":     with(func(c *age.Stanza) { c.Args[0] += "\r" }),
		"argument with LF":     with(func(c *age.Stanza) { c.Args[0] = c.Args[0][:10] + "\n" + c.Args[0][10:] }),
		"padded argument":      with(func(c *age.Stanza) { c.Args[0] += "=" }),
		"non-canonical base64": with(func(c *age.Stanza) { c.Args[0] = c.Args[0][:42] + nextB64(c.Args[0][42]) }),
		"short share":          with(arg(share[:31])),
		"long share":           with(arg(append(slices.Clone(share), 0))),
		"zero share":           with(arg(make([]byte, 32))),
		"share of order one":   with(arg(append([]byte{1}, make([]byte, 31)...))),
		"share flipped":        with(func(c *age.Stanza) { b := slices.Clone(share); b[5] ^= 1; arg(b)(c) }),
		"body flipped":         with(func(c *age.Stanza) { c.Body[3] ^= 0x80 }),
		"tag flipped":          with(func(c *age.Stanza) { c.Body[len(c.Body)-1] ^= 1 }),
		"body short":           with(func(c *age.Stanza) { c.Body = c.Body[:len(c.Body)-1] }),
		"body long":            with(func(c *age.Stanza) { c.Body = append(c.Body, 0) }),
		"no body":              with(func(c *age.Stanza) { c.Body = nil }),
	}
	// A low-order point that is not all zeros (order 8 on Curve25519).
	lo := []byte{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00}
	out["share of order eight"] = with(arg(lo))
	return out
}

// nextB64 is the base64 letter after c: in a last position that holds
// fewer than six bits, a value with non-zero padding bits.
func nextB64(c byte) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	return string(letters[(strings.IndexByte(letters, c)+1)%64])
}

// TestX25519KeysMustMatchAge: a key string whose decoding disagrees with
// what age parsed from it is refused (the check that guards the bech32
// codec here).
func TestX25519KeysMustMatchAge(t *testing.T) {
	k, other := newAgeX25519Pair(t), newAgeX25519Pair(t)
	if _, err := newX25519Identity(k.ageID.String(), other.ageRcp.String()); err == nil {
		t.Error("an identity was taken although age parsed another key")
	}
	if _, err := newX25519Recipient(k.ageRcp.String(), other.ageRcp); err == nil {
		t.Error("a recipient was taken although age parsed another key")
	}
	s := k.ageRcp.String()
	for name, bad := range map[string]string{
		"checksum":   s[:len(s)-1] + nextB64(s[len(s)-1]),
		"mixed case": strings.ToUpper(s[:5]) + s[5:],
		"character":  s[:10] + "b" + s[11:],
		"no data":    "age1",
	} {
		if _, err := bech32Data(bad); err == nil {
			t.Errorf("bech32Data took a string with a bad %s", name)
		}
	}
	for range 50 {
		data := make([]byte, 32)
		rand.Read(data)
		enc, err := bech32Encode("age", data)
		if err != nil {
			t.Fatal(err)
		}
		r, err := age.ParseX25519Recipient(enc)
		if err != nil {
			t.Fatalf("age refuses kseal's encoding: %v", err)
		}
		if got, err := bech32Data(r.String()); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("bech32Data(%s) = %x, %v, want %x", r.String(), got, err, data)
		}
	}
}
