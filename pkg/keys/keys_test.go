package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
	_ "kseal.dev/kseal/pkg/keys/agekey"
)

func TestParseRecipientPicksProviderByPrefix(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"x25519", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", ""},
		{"unknown type", "ssh-ed25519 AAAA", `unknown recipient type "ssh-ed25519"…`},
		{"malformed age", "age1notarecipient", "malformed recipient"},
		{"malformed hybrid", "age1pq1zzzz", "malformed recipient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := keys.ParseRecipient(tc.in)
			if tc.want == "" {
				if err != nil || r.KeyID() == "" {
					t.Fatalf("got %v, %v", r, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseIdentitiesNeverQuotesTheKey(t *testing.T) {
	in := "# comment\n\nAGE-SECRET-KEY-1SECRETSECRETSECRET\n"
	_, err := keys.ParseIdentities(strings.NewReader(in), "keys.txt")
	if err == nil || !strings.Contains(err.Error(), "keys.txt:3:") || strings.Contains(err.Error(), "SECRETSECRET") {
		t.Fatalf("got %v", err)
	}
	_, err = keys.ParseIdentities(strings.NewReader("NOT-A-KEY\n"), "k")
	if err == nil || err.Error() != "k:1: unknown identity type" {
		t.Fatalf("got %v", err)
	}
	if _, err := keys.ParseIdentities(strings.NewReader("# only a comment\n"), "k"); err == nil {
		t.Fatal("empty identity file accepted")
	}
}

func TestParseRecipientsFile(t *testing.T) {
	rs, err := keys.ParseRecipients(strings.NewReader("# cluster\nage1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n\n"), "r.txt")
	if err != nil || len(rs) != 1 {
		t.Fatalf("got %v, %v", rs, err)
	}
	if _, err := keys.ParseRecipients(strings.NewReader("age1\n"), "r.txt"); err == nil || !strings.HasPrefix(err.Error(), "r.txt:1:") {
		t.Fatalf("got %v", err)
	}
}

type fakeID struct {
	id  string
	err error
}

func (f fakeID) Unwrap(_ context.Context, s *keys.Stanza, _ keys.Binding) ([]byte, error) {
	if s.KeyID != f.id {
		return nil, keys.ErrIncorrectIdentity
	}
	if f.err != nil {
		return nil, f.err
	}
	return []byte("dek"), nil
}

func TestUnwrapAnyReportsEveryMiss(t *testing.T) {
	stanzas := []*keys.Stanza{{Type: "t", KeyID: "a"}, {Type: "t", KeyID: "b"}}
	denied := errors.New("access denied")
	_, _, err := keys.UnwrapAny(t.Context(), stanzas, nil, []keys.Identity{fakeID{id: "b", err: denied}})
	var nm *keys.NoIdentityMatchError
	if !errors.As(err, &nm) || !errors.Is(err, denied) {
		t.Fatalf("got %v", err)
	}
	if got := err.Error(); got != "no identity matched any recipient: tried t a (no identity), t b (access denied)" {
		t.Errorf("message %q", got)
	}
	dek, s, err := keys.UnwrapAny(t.Context(), stanzas, nil, []keys.Identity{fakeID{id: "x"}, fakeID{id: "b"}})
	if err != nil || string(dek) != "dek" || s.KeyID != "b" {
		t.Fatalf("got %q %v %v", dek, s, err)
	}
}

func TestBindingString(t *testing.T) {
	b := keys.Binding{"z": "1", "a": "2"}
	if b.String() != "a=2,z=1" {
		t.Errorf("got %q", b.String())
	}
}

func TestParseRecipientNeverQuotesKeyMaterial(t *testing.T) {
	const body = "QQQQSECRETMATERIALQQQQ"
	for _, tc := range []struct {
		name, in, want, never string
	}{
		{"age identity", "AGE-SECRET-KEY-1" + body, "an identity (AGE-SECRET-KEY-…), a private key, not a recipient", body},
		{"age identity, lower case", "age-secret-key-1" + body, "a private key, not a recipient", body},
		{"hybrid identity", "AGE-SECRET-KEY-PQ-1" + body, "a private key, not a recipient", body},
		{"PEM key", "-----BEGIN OPENSSH PRIVATE KEY-----" + body, "a PEM private key", body},
		{"unknown, bech32-like", "xyz1" + body, `unknown recipient type "xyz1"…`, "QQQQ"},
		{"unknown, token", "sk_live_" + body, `unknown recipient type "sk_"…`, "live"},
		{"unknown, base64", "c2VjcmV0IHN0dWZm" + body, `unknown recipient type (not shown: no type prefix`, "c2Vj"},
		{"unknown, AWS secret key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", `unknown recipient type (not shown`, "wJalr"},
		{"identity after a recipient", "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq AGE-SECRET-KEY-1" + body, "a private key, not a recipient", body},
		{"identity after a comma", "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq,AGE-SECRET-KEY-1" + body, "a private key, not a recipient", body},
		{"unknown, password with a bech32-like 1", "correct1horse" + body, `unknown recipient type (not shown`, "correct"},
		{"unknown, password with an underscore", "Summer_2024" + body, `unknown recipient type (not shown`, "Summer"},
		{"identity inside a KMS ARN", "arn:aws:kms:us-east-1:111122223333:key/AGE-SECRET-KEY-1" + body, "a private key, not a recipient", body},
		{"ssh key", "ssh-ed25519 AAAAC3" + body, `unknown recipient type "ssh-ed25519"…`, "AAAAC3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keys.ParseRecipient(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.never) {
				t.Fatalf("got %v, want %q and never %q", err, tc.want, tc.never)
			}
			_, err = keys.ParseRecipients(strings.NewReader("# x\n"+tc.in+"\n"), "r.pub")
			if err == nil || !strings.Contains(err.Error(), "r.pub:2: ") || strings.Contains(err.Error(), tc.never) {
				t.Fatalf("recipients file: got %v", err)
			}
		})
	}
}

// TestRecipientsThatMerelyMentionAnIdentityPrefix: a KMS key ring named
// like an identity prefix is a recipient, not a private key.
func TestRecipientsThatMerelyMentionAnIdentityPrefix(t *testing.T) {
	_, err := keys.ParseRecipient("gcpkms:projects/p/locations/global/keyRings/age-secret-key-ring/cryptoKeys/k")
	if err != nil && strings.Contains(err.Error(), "private key") {
		t.Fatalf("a KMS key name was taken for a private key: %v", err)
	}
}
