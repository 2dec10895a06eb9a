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
	Template  vectorTemplate    `json:"template"`
	Plaintext map[string]string `json:"plaintext"`
	Envelope  crypto.Envelope   `json:"envelope"`
	Values    map[string][]byte `json:"values"`
}

type vectorTemplate struct {
	Type        string            `json:"type,omitempty"`
	Immutable   bool              `json:"immutable,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func (v vector) target() crypto.Target {
	return crypto.Target{Namespace: v.Namespace, Name: v.Name, Template: crypto.Template(v.Template)}
}

// TestVectors seals fixed input with fixed randomness and compares every
// byte with testdata/vectors/deterministic.json, then opens the stored
// vector. Run with -update to regenerate after a deliberate format change.
func TestVectors(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "vectors", "deterministic.json")
	var got []vector
	tmpl := crypto.Template{Type: "kubernetes.io/basic-auth", Labels: map[string]string{"app": "orders"}, Annotations: map[string]string{"team": "payments"}}
	rcpts := []keys.Recipient{testkeys.ClearRecipient{}}
	for _, tc := range []struct {
		name   string
		scope  crypto.Scope
		target crypto.Target
		later  func(s *crypto.Sealed, rnd *testkeys.Reader, tg crypto.Target) error // key-less changes after sealing
	}{
		{"strict", crypto.ScopeStrict, crypto.Target{Namespace: "prod", Name: "db", Template: tmpl}, nil},
		{"namespace", crypto.ScopeNamespace, crypto.Target{Namespace: "prod", Name: "db"}, nil},
		{"shared", crypto.ScopeShared, crypto.Target{Name: "stripe", Template: crypto.Template{Immutable: true}}, nil},
		{"cluster", crypto.ScopeCluster, crypto.Target{Name: "shared"}, nil},
		{"strict, then set and unset", crypto.ScopeStrict, crypto.Target{Namespace: "prod", Name: "db", Template: tmpl}, func(s *crypto.Sealed, rnd *testkeys.Reader, tg crypto.Target) error {
			if err := s.Set(ctx, rnd, tg, map[string][]byte{"password": []byte("rotated"), "token": []byte("t0k3n")}, rcpts); err != nil {
				return err
			}
			return s.Unset(ctx, rnd, tg, []string{"empty"}, rcpts)
		}},
	} {
		plain := map[string]string{"username": "admin", "password": "hunter2", "empty": ""}
		vals := map[string][]byte{}
		for k, v := range plain {
			vals[k] = []byte(v)
		}
		rnd := &testkeys.Reader{Seed: "kseal test vector " + tc.name}
		s, err := crypto.Seal(ctx, rnd, tc.scope, tc.target, vals, rcpts)
		if err != nil {
			t.Fatal(err)
		}
		if tc.later != nil {
			if err := tc.later(s, rnd, tc.target); err != nil {
				t.Fatal(err)
			}
			plain = map[string]string{"username": "admin", "password": "rotated", "token": "t0k3n"}
		}
		got = append(got, vector{
			Comment: tc.name + "; recipient test-clear stores the DEK in the clear; randomness is SHA-256(seed||counter), see internal/testkeys",
			Scope:   tc.scope, Namespace: tc.target.Namespace, Name: tc.target.Name, Template: vectorTemplate(tc.target.Template),
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
		o, err := crypto.Open(ctx, s, v.target(), []keys.Identity{testkeys.ClearIdentity{}})
		if err != nil {
			t.Fatalf("%s: %v", v.Scope, err)
		}
		if len(o.Values) != len(v.Plaintext) {
			t.Errorf("%s: opened %d values, want %d", v.Comment, len(o.Values), len(v.Plaintext))
		}
		for k, p := range v.Plaintext {
			if string(o.Values[k]) != p {
				t.Errorf("%s: %s: got %q want %q", v.Scope, k, o.Values[k], p)
			}
		}
		// sealedFor is committed by nothing: the object as sealed before
		// the record existed opens alike.
		s.Envelope.SealedFor = nil
		if _, err := crypto.Open(ctx, s, v.target(), []keys.Identity{testkeys.ClearIdentity{}}); err != nil {
			t.Fatalf("%s without sealedFor: %v", v.Comment, err)
		}
	}
}
