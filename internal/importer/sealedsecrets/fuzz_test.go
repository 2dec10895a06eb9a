package sealedsecrets

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

// FuzzOpen feeds arbitrary documents through Parse and Open: no panic, and
// nothing opens without the key.
func FuzzOpen(f *testing.F) {
	f.Add("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec:\n  encryptedData: {x: AAEA}\n")
	f.Add("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a}\nspec: {template: {data: {x: '{{ .y }}'}}}\n")
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	keys := []*Key{{Fingerprint: "test", priv: priv}}
	f.Fuzz(func(t *testing.T, text string) {
		if !Is(text) {
			return
		}
		s, err := Parse(text)
		if err != nil {
			return
		}
		if o, err := s.Open(keys, "default"); err == nil && len(o.Values) > 0 {
			t.Fatalf("opened %d values with a key nobody sealed to", len(o.Values))
		}
	})
}
