package awskms_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kseal.dev/kseal/internal/kmstest"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/awskms"
)

const (
	keyARN   = "arn:aws:kms:eu-west-1:111122223333:key/0b4b5a52-0000-4000-8000-000000000001"
	otherARN = "arn:aws:kms:eu-west-1:111122223333:key/0b4b5a52-0000-4000-8000-000000000002"
	aliasARN = "arn:aws:kms:eu-west-1:111122223333:alias/kseal"
	roleARN  = "arn:aws:iam::111122223333:role/kseal-sealer"
)

var srv *kmstest.AWS

// retries counts the SDK's calls for a retry delay; the delay itself is
// zero so that throttling tests do not wait for real.
var retries atomic.Int64

// TestMain points the real SDK at the protocol-level server through the
// SDK's standard endpoint variable.
func TestMain(m *testing.M) {
	var err error
	srv, err = kmstest.NewAWS(keyARN, otherARN)
	if err != nil {
		panic(err)
	}
	srv.AddAlias(aliasARN, keyARN)
	awskms.SetBackoff(func(int, error) (time.Duration, error) {
		retries.Add(1)
		return 0, nil
	})
	for k, v := range srv.Env() {
		os.Setenv(k, v)
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

var (
	ctx  = context.Background()
	prod = keys.Binding{"kseal-scope": "strict", "kseal-namespace": "prod", "kseal-name": "db"}
	dek  = bytes.Repeat([]byte{0x42}, 32)
)

func wrap(t *testing.T, recipient string) *keys.Stanza {
	t.Helper()
	r, err := keys.ParseRecipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Wrap(ctx, dek, prod)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTripAndContext(t *testing.T) {
	for _, rc := range []string{keyARN, aliasARN} {
		s := wrap(t, rc)
		if s.Type != awskms.Type || s.KeyID != rc {
			t.Fatalf("stanza %s %s", s.Type, s.KeyID)
		}
		got, err := (&awskms.Identity{}).Unwrap(ctx, s, prod)
		if err != nil || !bytes.Equal(got, dek) {
			t.Fatalf("%s: got %x, %v", rc, got, err)
		}
	}
	s := wrap(t, keyARN)
	moved := keys.Binding{"kseal-scope": "strict", "kseal-namespace": "dev", "kseal-name": "db"}
	_, err := (&awskms.Identity{}).Unwrap(ctx, s, moved)
	if err == nil || !strings.Contains(err.Error(), "wrong encryption context") || !strings.Contains(err.Error(), keyARN) {
		t.Fatalf("moved object: got %v", err)
	}
	var ke *keys.Error
	if !errors.As(err, &ke) || ke.Temporary() {
		t.Errorf("wrong context must be final: %v", err)
	}
}

func TestNotMine(t *testing.T) {
	_, err := (&awskms.Identity{}).Unwrap(ctx, &keys.Stanza{Type: "x25519"}, prod)
	if !errors.Is(err, keys.ErrIncorrectIdentity) {
		t.Fatalf("got %v", err)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	s := wrap(t, otherARN)
	for _, tc := range []struct {
		name  string
		fault kmstest.Fault
		want  string
		temp  bool
	}{
		{"denied", kmstest.Fault{Deny: true}, "access denied: AccessDeniedException", false},
		{"outage", kmstest.Fault{Down: true}, "unavailable", true},
		{"throttled beyond retries", kmstest.Fault{Throttle: 100}, "throttled or unavailable: ThrottlingException", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetFault(otherARN, tc.fault)
			defer srv.SetFault(otherARN, kmstest.Fault{})
			_, err := (&awskms.Identity{}).Unwrap(ctx, s, prod)
			var ke *keys.Error
			if !errors.As(err, &ke) || !strings.Contains(err.Error(), tc.want) || ke.Temporary() != tc.temp {
				t.Fatalf("got %v (temporary %v)", err, ke != nil && ke.Temporary())
			}
		})
	}
	r, _ := keys.ParseRecipient("arn:aws:kms:eu-west-1:111122223333:key/missing")
	if _, err := r.Wrap(ctx, dek, prod); err == nil || !strings.Contains(err.Error(), "key not found") {
		t.Errorf("missing key: got %v", err)
	}
}

func TestThrottlingIsRetriedWithBackoff(t *testing.T) {
	srv.SetFault(keyARN, kmstest.Fault{Throttle: 2})
	defer srv.SetFault(keyARN, kmstest.Fault{})
	before, waits := srv.Calls("Encrypt"), retries.Load()
	wrap(t, keyARN)
	if n := srv.Calls("Encrypt") - before; n != 3 {
		t.Errorf("%d Encrypt calls, want 3 (two throttled, one served)", n)
	}
	if n := retries.Load() - waits; n != 2 {
		t.Errorf("the backoff was asked %d times, want 2 (once per retry)", n)
	}
}

func TestAssumeRole(t *testing.T) {
	before := srv.Calls("AssumeRole")
	wrap(t, keyARN+"+"+roleARN)
	if srv.Calls("AssumeRole") != before+1 || srv.LastRole() != roleARN {
		t.Errorf("Encrypt was not signed with the assumed role (last role %q)", srv.LastRole())
	}
}

func TestParseRecipient(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{keyARN + "+" + roleARN + ";profile=ci", ""},
		{"arn:aws:kms:eu-west-1:111122223333:secret/x", "want arn:aws:kms"},
		{keyARN + "+arn:aws:iam::1:user/bob", "not an IAM role ARN"},
		{keyARN + ";profile=", "empty profile"},
	} {
		r, err := keys.ParseRecipient(tc.in)
		if tc.want == "" {
			if err != nil || r.KeyID() != keyARN {
				t.Errorf("%s: %v %v", tc.in, r, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v want %q", tc.in, err, tc.want)
		}
	}
}

func TestServerRequiresSigV4(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"KeyId":"`+keyARN+`","Plaintext":"AAAA"}`))
	req.Header.Set("X-Amz-Target", "TrentService.Encrypt")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned request: %s %s", resp.Status, resp.Header.Get("X-Amzn-ErrorType"))
	}
}
