package crypto_test

import (
	"crypto/rand"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// floorObjects is how many objects a crypto-floor iteration stands for: the
// size of the stream bench/cli-speed.sh times as whole processes.
const floorObjects = 1000

// BenchmarkCryptoFloor is what sealing and decrypting 1,000 Secrets of 3
// values costs in cryptography alone, in process: per object, one wrap
// (seal) or unwrap (open) of a data key, and crypto.Seal/crypto.Open of the
// object (the wrap plus the values' AEAD and MAC). bench/cli-speed.sh sets
// the CLI's whole-process figures against it: every CPU second above this
// floor is parsing, tree building and output.
func BenchmarkCryptoFloor(b *testing.B) {
	vals := map[string][]byte{"username": []byte("user1"), "password": []byte("pw-1-9e3779b1"), "url": []byte("postgres://db1.example:5432/app")}
	for _, kind := range []struct {
		name   string
		x25519 bool
	}{{"hybrid", false}, {"x25519", true}} {
		k := newKey(b, kind.x25519)
		dek := make([]byte, 32)
		b.Run(kind.name+"/wrap", func(b *testing.B) {
			for b.Loop() {
				for range floorObjects {
					if _, err := k.rcp.Wrap(ctx, dek, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		st, err := k.rcp.Wrap(ctx, dek, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(kind.name+"/unwrap", func(b *testing.B) {
			for b.Loop() {
				for range floorObjects {
					if _, err := k.id.Unwrap(ctx, st, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		rs, ids := []keys.Recipient{k.rcp}, []keys.Identity{k.id}
		b.Run(kind.name+"/seal", func(b *testing.B) {
			for b.Loop() {
				for range floorObjects {
					if _, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, prodDB, vals, rs); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, prodDB, vals, rs)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(kind.name+"/open", func(b *testing.B) {
			for b.Loop() {
				for range floorObjects {
					if _, err := crypto.Open(ctx, s, prodDB, ids); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
