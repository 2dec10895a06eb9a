package crypto_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// FuzzParse feeds arbitrary envelope JSON and a value to crypto.Parse, the
// parser the CLI and the controller share: it must never panic, every error
// must match ErrFormat, and whatever parses must survive a round trip and
// an attempt to open.
func FuzzParse(f *testing.F) {
	x := newKey(f, true)
	s := seal(f, crypto.ScopeStrict, prodDB, x.rcp)
	good, _ := json.Marshal(s.Envelope)
	b64 := base64.StdEncoding.EncodeToString
	f.Add(good, "password", b64(s.Values["password"]))
	f.Add([]byte(`{"version":2,"scope":"strict","sections":[]}`), "k", "AA==")
	f.Add([]byte(`{"version":2,"Version":3,"scope":"strict","sections":[]}`), "k", "AA==")
	f.Add([]byte(`{"version":2,"scope":"cluster","sections":[{"recipients":[{"type":"x","keyID":"y","data":"AA=="}],"mac":"AA=="},{"recipients":[{"type":"x","keyID":"y","data":"AA=="}],"removed":[{"field":"data.k","section":9}],"mac":"AA=="}]}`), "k", "AQI=")
	f.Add([]byte(`{"version":2,"scope":"shared","sections":[{"recipients":[{"type":"x","keyID":"y","data":"AA=="}],"removed":[{"field":"data.k","section":0}],"mac":"AA=="}]}`), "k", "AAI=")
	f.Fuzz(func(t *testing.T, env []byte, key, value string) {
		sl, err := crypto.Parse(env, map[string]string{key: value})
		if err != nil {
			if !errors.Is(err, crypto.ErrFormat) {
				t.Fatalf("error does not match ErrFormat: %v", err)
			}
			return
		}
		again, _ := json.Marshal(sl.Envelope)
		if _, err := crypto.Parse(again, map[string]string{key: b64(sl.Values[key])}); err != nil {
			t.Fatalf("parsed envelope does not parse again: %v\n%s", err, again)
		}
		_ = sl.Fields()
		_, _ = crypto.Open(ctx, sl, prodDB, []keys.Identity{x.id})
	})
}

// FuzzOpen mutates a sealed object: no mutation may open to anything but the
// original plaintext.
func FuzzOpen(f *testing.F) {
	x := newKey(f, true)
	base := seal(f, crypto.ScopeStrict, prodDB, x.rcp)
	f.Add(uint8(0), uint16(0), uint8(1))
	f.Add(uint8(1), uint16(40), uint8(0x80))
	f.Add(uint8(2), uint16(5), uint8(0xff))
	f.Fuzz(func(t *testing.T, where uint8, pos uint16, mask uint8) {
		s := clone(base)
		var b []byte
		switch where % 4 {
		case 0:
			b = s.Values["password"]
		case 1:
			b = s.Values["username"]
		case 2:
			b = s.Envelope.Sections[0].MAC
		case 3:
			b = s.Envelope.Sections[0].Recipients[0].Data
		}
		if len(b) == 0 || mask == 0 {
			return
		}
		b[int(pos)%len(b)] ^= mask
		o, err := crypto.Open(ctx, s, prodDB, []keys.Identity{x.id})
		if err == nil {
			for k, v := range values() {
				if !bytes.Equal(o.Values[k], v) {
					t.Fatalf("mutation opened to different plaintext for %s", k)
				}
			}
			t.Fatalf("mutated object opened")
		}
	})
}

func benchSealOpen(b *testing.B, x25519 bool) {
	k := newKey(b, x25519)
	rs := []keys.Recipient{k.rcp}
	ids := []keys.Identity{k.id}
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, prodDB, values(), rs); err != nil {
				b.Fatal(err)
			}
		}
	})
	s := seal(b, crypto.ScopeStrict, prodDB, k.rcp)
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := crypto.Open(ctx, s, prodDB, ids); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The raw key operation alone, for comparison: one wrap and one unwrap
	// of a 32-byte key through the provider.
	dek := make([]byte, 32)
	b.Run("raw-wrap", func(b *testing.B) {
		for b.Loop() {
			if _, err := k.rcp.Wrap(ctx, dek, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	st, _ := k.rcp.Wrap(ctx, dek, nil)
	b.Run("raw-unwrap", func(b *testing.B) {
		for b.Loop() {
			if _, err := k.id.Unwrap(ctx, st, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkX25519 and BenchmarkHybrid seal and open one typical Secret
// (3 values) and time the bare wrap/unwrap they are built on.
func BenchmarkX25519(b *testing.B) { benchSealOpen(b, true) }
func BenchmarkHybrid(b *testing.B) { benchSealOpen(b, false) }
