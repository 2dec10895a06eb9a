package crypto_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"kseal.dev/kseal/internal/testkeys"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

var update = flag.Bool("update", false, "rewrite golden files and test vectors")

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
		rnd := &testkeys.Reader{Seed: "kseal test vector " + string(tc.scope)}
		s, err := crypto.Seal(ctx, rnd, tc.scope, tc.target, vals, []keys.Recipient{testkeys.ClearRecipient{}})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, vector{
			Comment: "recipient test-clear stores the DEK in the clear; randomness is SHA-256(seed||counter), see internal/testkeys",
			Scope:   tc.scope, Namespace: tc.target.Namespace, Name: tc.target.Name,
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
		o, err := crypto.Open(ctx, s, crypto.Target{Namespace: v.Namespace, Name: v.Name}, []keys.Identity{testkeys.ClearIdentity{}})
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
