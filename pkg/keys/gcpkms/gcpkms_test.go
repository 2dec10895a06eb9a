package gcpkms_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"kseal.dev/kseal/internal/kmstest"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/gcpkms"
)

const (
	keyName   = "projects/p/locations/global/keyRings/kseal/cryptoKeys/prod"
	otherName = "projects/p/locations/global/keyRings/kseal/cryptoKeys/other"
)

var srv *kmstest.GCP

func TestMain(m *testing.M) {
	var err error
	srv, err = kmstest.NewGCP(keyName, otherName)
	if err != nil {
		panic(err)
	}
	gcpkms.SetBackoffForTest(time.Millisecond)
	for k, v := range srv.Env() {
		os.Setenv(k, v)
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

var (
	ctx  = context.Background()
	prod = keys.Binding{"kseal-scope": "namespace", "kseal-namespace": "prod"}
	dek  = bytes.Repeat([]byte{7}, 32)
)

func wrap(t *testing.T, name string) *keys.Stanza {
	t.Helper()
	r, err := keys.ParseRecipient(gcpkms.Prefix + name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Wrap(ctx, dek, prod)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTripAndAAD(t *testing.T) {
	s := wrap(t, keyName)
	if s.KeyID != keyName {
		t.Fatalf("key ID %q", s.KeyID)
	}
	got, err := gcpkms.Identity{}.Unwrap(ctx, s, prod)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("got %x %v", got, err)
	}
	_, err = gcpkms.Identity{}.Unwrap(ctx, s, keys.Binding{"kseal-scope": "namespace", "kseal-namespace": "dev"})
	if err == nil || !strings.Contains(err.Error(), "wrong additional authenticated data") {
		t.Fatalf("moved object: got %v", err)
	}
	s.Body[len(s.Body)-1] ^= 1
	if _, err := (gcpkms.Identity{}).Unwrap(ctx, s, prod); err == nil {
		t.Fatal("tampered wrap opened")
	}
}

func TestErrorsAreClassified(t *testing.T) {
	s := wrap(t, otherName)
	for _, tc := range []struct {
		name  string
		fault kmstest.Fault
		want  string
		temp  bool
	}{
		{"denied", kmstest.Fault{Deny: true}, "access denied: PermissionDenied", false},
		{"outage", kmstest.Fault{Down: true}, "throttled or unavailable: Unavailable", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetFault(otherName, tc.fault)
			defer srv.SetFault(otherName, kmstest.Fault{})
			_, err := gcpkms.Identity{}.Unwrap(ctx, s, prod)
			var ge *keys.Error
			if !errors.As(err, &ge) || !strings.Contains(err.Error(), tc.want) || ge.Temporary() != tc.temp {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	srv.SetFault(keyName, kmstest.Fault{Throttle: 2})
	defer srv.SetFault(keyName, kmstest.Fault{})
	before := srv.Calls("Encrypt")
	wrap(t, keyName)
	if n := srv.Calls("Encrypt") - before; n != 3 {
		t.Errorf("%d Encrypt calls, want 3", n)
	}
}

func TestParseRecipient(t *testing.T) {
	if _, err := keys.ParseRecipient("gcpkms:projects/p/keyRings/r"); err == nil || !strings.Contains(err.Error(), "want gcpkms:projects/") {
		t.Fatalf("got %v", err)
	}
}
