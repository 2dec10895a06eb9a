package agekey_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

func TestWrapUnwrap(t *testing.T) {
	for _, x25519 := range []bool{true, false} {
		t.Run(fmt.Sprintf("x25519=%v", x25519), func(t *testing.T) {
			id, err := agekey.Generate(x25519)
			if err != nil {
				t.Fatal(err)
			}
			r, err := keys.ParseRecipient(id.Recipient())
			if err != nil {
				t.Fatal(err)
			}
			if r.KeyID() != id.KeyID() || len(r.KeyID()) != 16 {
				t.Fatalf("key IDs %q %q", r.KeyID(), id.KeyID())
			}
			dek := bytes.Repeat([]byte{7}, 32)
			s, err := r.Wrap(context.Background(), dek, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := id.Unwrap(context.Background(), s, nil)
			if err != nil || !bytes.Equal(got, dek) {
				t.Fatalf("got %x, %v", got, err)
			}
			other, _ := agekey.Generate(x25519)
			if _, err := other.Unwrap(context.Background(), s, nil); !errors.Is(err, keys.ErrIncorrectIdentity) {
				t.Errorf("another key: got %v, want ErrIncorrectIdentity", err)
			}
			s.Body[len(s.Body)-1] ^= 1
			if _, err := id.Unwrap(context.Background(), s, nil); err == nil || errors.Is(err, keys.ErrIncorrectIdentity) {
				t.Errorf("tampered wrap: got %v", err)
			}
		})
	}
}

func TestParseIdentityErrorsDoNotLeak(t *testing.T) {
	for _, in := range []string{"AGE-SECRET-KEY-1LEAKME", "AGE-SECRET-KEY-PQ-1LEAKME"} {
		_, err := agekey.ParseIdentity(in)
		if err == nil || strings.Contains(err.Error(), "LEAKME") {
			t.Errorf("%q: got %v", in, err)
		}
	}
}

func TestEnvironmentIdentities(t *testing.T) {
	id, _ := agekey.Generate(true)
	t.Setenv(agekey.EnvKey, id.SecretString())
	t.Setenv(agekey.EnvKeyFile, "")
	ids, err := keys.DefaultIdentities(context.Background())
	if err != nil || len(ids) != 1 {
		t.Fatalf("got %d identities, %v", len(ids), err)
	}
	t.Setenv(agekey.EnvKeyFile, "/nonexistent/keys.txt")
	if _, err := keys.DefaultIdentities(context.Background()); err == nil || !strings.Contains(err.Error(), agekey.EnvKeyFile) {
		t.Fatalf("missing key file: got %v", err)
	}
}

// Example shows a whole round trip through the registry: parse a recipient
// string, wrap a data key, unwrap it with the matching identity.
func Example() {
	id, _ := agekey.Generate(false) // post-quantum hybrid
	r, _ := keys.ParseRecipient(id.Recipient())
	dek := make([]byte, 32)
	s, _ := r.Wrap(context.Background(), dek, nil)
	got, _ := id.Unwrap(context.Background(), s, nil)
	fmt.Println(s.Type, len(got), s.KeyID == id.KeyID())
	// Output: mlkem768x25519 32 true
}
