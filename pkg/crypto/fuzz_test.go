package crypto_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// FuzzParseEnvelope feeds arbitrary JSON to the envelope parser and
// validator: it must never panic, and whatever validates must survive a
// round trip.
func FuzzParseEnvelope(f *testing.F) {
	x := newKey(f, true)
	s := seal(f, crypto.ScopeStrict, prodDB, x.rcp)
	good, _ := json.Marshal(s.Envelope)
	f.Add(good, []byte("password"), s.Values["password"])
	f.Add([]byte(`{"version":2,"scope":"strict","sections":[]}`), []byte("k"), []byte{0})
	f.Add([]byte(`{"version":2,"scope":"cluster","sections":[{"recipients":[{"type":"x","keyID":"y","data":"AA=="}],"mac":"AA=="},{"recipients":[{"type":"x","keyID":"y","data":"AA=="}],"removed":[{"field":"data.k","section":9}],"mac":"AA=="}]}`), []byte("k"), []byte{1, 2})
	f.Add([]byte(`{"version":2,"scope":"shared","sections":[{"recipients":[{"type":"x","keyID":"y","data":"AA=="}],"removed":[{"field":"data.k","section":0}],"mac":"AA=="}]}`), []byte("k"), []byte{0, 2})
	f.Fuzz(func(t *testing.T, env, key, value []byte) {
		var e crypto.Envelope
		if json.Unmarshal(env, &e) != nil {
			return
		}
		sl := &crypto.Sealed{Envelope: e, Values: map[string][]byte{string(key): value}}
		if sl.Validate() != nil {
			return
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
