package crypto_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

var update = flag.Bool("update", false, "rewrite golden files and test vectors")

// detReader is a deterministic byte stream: SHA-256(seed || counter) blocks.
type detReader struct {
	seed string
	n    uint64
	buf  []byte
}

func (r *detReader) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			h := sha256.New()
			h.Write([]byte(r.seed))
			h.Write(binary.BigEndian.AppendUint64(nil, r.n))
			r.n++
			r.buf = h.Sum(nil)
		}
		p[i], r.buf = r.buf[0], r.buf[1:]
	}
	return len(p), nil
}

// clearRecipient "wraps" by storing the data key in the clear, which makes a
// sealed object fully deterministic so the vector pins every byte of the
// value encoding, the key derivation and the commitment.
type clearRecipient struct{}

func (clearRecipient) Wrap(_ context.Context, dek []byte, _ keys.Binding) (*keys.Stanza, error) {
	return &keys.Stanza{Type: "test-clear", KeyID: "vector-key", Body: append([]byte(nil), dek...)}, nil
}
func (clearRecipient) KeyID() string { return "vector-key" }

type clearIdentity struct{}

func (clearIdentity) Unwrap(_ context.Context, s *keys.Stanza, _ keys.Binding) ([]byte, error) {
	if s.Type != "test-clear" {
		return nil, keys.ErrIncorrectIdentity
	}
	return s.Body, nil
}

type vector struct {
	Comment   string            `json:"comment"`
	Scope     crypto.Scope      `json:"scope"`
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Plaintext map[string]string `json:"plaintext"`
	Envelope  crypto.Envelope   `json:"envelope"`
	Values    map[string][]byte `json:"values"`
}

// TestVectors seals fixed input with fixed randomness and compares every
// byte with testdata/vectors/deterministic.json, then opens the stored
// vector. Run with -update to regenerate after a deliberate format change.
func TestVectors(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "vectors", "deterministic.json")
	var got []vector
	for _, tc := range []struct {
		scope  crypto.Scope
		target crypto.Target
	}{
		{crypto.ScopeStrict, crypto.Target{Namespace: "prod", Name: "db"}},
		{crypto.ScopeNamespace, crypto.Target{Namespace: "prod", Name: "db"}},
		{crypto.ScopeCluster, crypto.Target{Name: "shared"}},
	} {
		plain := map[string]string{"username": "admin", "password": "hunter2", "empty": ""}
		vals := map[string][]byte{}
		for k, v := range plain {
			vals[k] = []byte(v)
		}
		rnd := &detReader{seed: "kseal test vector " + string(tc.scope)}
		s, err := crypto.Seal(ctx, rnd, tc.scope, tc.target, vals, []keys.Recipient{clearRecipient{}})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, vector{
			Comment:   "recipient test-clear stores the DEK in the clear; randomness is SHA-256(seed||counter), see vectors_test.go",
			Scope:     tc.scope, Namespace: tc.target.Namespace, Name: tc.target.Name,
			Plaintext: plain, Envelope: s.Envelope, Values: s.Values,
		})
	}
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []vector
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sealing no longer reproduces %s byte for byte: the format changed (run with -update only if that was deliberate, and bump the version)", path)
	}
	for _, v := range want {
		s := &crypto.Sealed{Envelope: v.Envelope, Values: v.Values}
		o, err := crypto.Open(ctx, s, crypto.Target{Namespace: v.Namespace, Name: v.Name}, []keys.Identity{clearIdentity{}})
		if err != nil {
			t.Fatalf("%s: %v", v.Scope, err)
		}
		for k, p := range v.Plaintext {
			if string(o.Values[k]) != p {
				t.Errorf("%s: %s: got %q want %q", v.Scope, k, o.Values[k], p)
			}
		}
	}
}
