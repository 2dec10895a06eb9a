package vaulttransit

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"kseal.dev/kseal/internal/vaulttest"
	"kseal.dev/kseal/pkg/keys"
)

func TestParseRecipient(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"https", "vault:https://vault.example.com:8200/v1/transit/keys/orders", ""},
		{"nested mount", "vault:https://vault.example.com/v1/teams/orders/transit/keys/db", ""},
		{"http on loopback", "vault:http://127.0.0.1:8200/v1/transit/keys/orders", ""},
		{"http localhost", "vault:http://localhost:8200/v1/transit/keys/orders", ""},
		{"http elsewhere", "vault:http://vault.example.com:8200/v1/transit/keys/orders", "only to a loopback address"},
		{"other scheme", "vault:ftp://vault.example.com/v1/transit/keys/orders", "want an https:// URL"},
		{"no keys", "vault:https://vault.example.com/v1/transit/orders", "want https://HOST"},
		{"no v1", "vault:https://vault.example.com/transit/keys/orders", "want https://HOST"},
		{"query", "vault:https://vault.example.com/v1/transit/keys/orders?x=1", "no user, query or fragment"},
		{"user", "vault:https://u:p@vault.example.com/v1/transit/keys/orders", "no user, query or fragment"},
		{"dot dot", "vault:https://vault.example.com/v1/../sys/keys/orders", "plain path segments"},
		{"key path", "vault:https://vault.example.com/v1/transit/keys/a/b", "plain path segments"},
		{"empty name", "vault:https://vault.example.com/v1/transit/keys/", "plain path segments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := keys.ParseRecipient(tc.in)
			if tc.want == "" {
				if err != nil || Prefix+r.KeyID() != tc.in {
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

var binding = keys.Binding{"kseal-scope": "strict", "kseal-namespace": "orders", "kseal-name": "db"}

// tokenIdentity returns an identity and a recipient for key that use token.
func tokenIdentity(t *testing.T, token, key string) (*Identity, *Recipient) {
	t.Helper()
	c, err := newClient(Config{Addr: vault.Addr})
	if err != nil {
		t.Fatal(err)
	}
	ts := &fixedToken{tok: token}
	r, err := ParseRecipient(Prefix + vault.KeyURL(mount, key))
	if err != nil {
		t.Fatal(err)
	}
	rc := r.(*Recipient)
	rc.cfg = func() (*client, tokenSource, error) { return c, ts, nil }
	return &Identity{c: c, ts: ts}, rc
}

type fixedToken struct{ tok string }

func (f *fixedToken) Token(context.Context) (string, error) { return f.tok, nil }
func (f *fixedToken) Invalidate(string) bool                { return false }

func TestWrapUnwrapThroughVault(t *testing.T) {
	vaulttest.Require(t, vault)
	id, r := tokenIdentity(t, vaulttest.RootToken, "orders")
	dek := bytes.Repeat([]byte{7}, 32)
	s, err := r.Wrap(t.Context(), dek, binding)
	if err != nil {
		t.Fatal(err)
	}
	if s.Type != Type || s.KeyID != vault.KeyURL(mount, "orders") || !bytes.HasPrefix(s.Body, []byte("vault:v1:")) {
		t.Fatalf("stanza %+v", s)
	}
	got, err := id.Unwrap(t.Context(), s, binding)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("got %x, %v", got, err)
	}
	if _, err := id.Unwrap(t.Context(), &keys.Stanza{Type: "age"}, binding); !errors.Is(err, keys.ErrIncorrectIdentity) {
		t.Fatalf("foreign stanza: %v", err)
	}
}

// TestMovedWrapRefusedByVault: the binding is transit's associated data, so
// Vault itself refuses a wrap presented for another namespace or name.
func TestMovedWrapRefusedByVault(t *testing.T) {
	vaulttest.Require(t, vault)
	id, r := tokenIdentity(t, vaulttest.RootToken, "orders")
	s, err := r.Wrap(t.Context(), make([]byte, 32), binding)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    keys.Binding
	}{
		{"other namespace", keys.Binding{"kseal-scope": "strict", "kseal-namespace": "payments", "kseal-name": "db"}},
		{"other name", keys.Binding{"kseal-scope": "strict", "kseal-namespace": "orders", "kseal-name": "api"}},
		{"other scope", keys.Binding{"kseal-scope": "namespace", "kseal-namespace": "orders"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := id.Unwrap(t.Context(), s, tc.b)
			if !errors.Is(err, keys.ErrWrongBinding) || !strings.Contains(err.Error(), "HTTP 400") {
				t.Fatalf("got %v, want Vault's refusal", err)
			}
			if errors.Is(err, keys.ErrUnavailable) || errors.Is(err, keys.ErrAccessDenied) {
				t.Fatalf("a moved wrap is neither an outage nor a denial: %v", err)
			}
		})
	}
	// The same wrap through Vault's own CLI: Vault is what refuses it.
	ad := associatedData(keys.Binding{"kseal-scope": "strict", "kseal-namespace": "payments", "kseal-name": "db"})
	if _, err := vault.Vault("", "write", mount+"/decrypt/orders", "ciphertext="+string(s.Body), "associated_data="+ad); err == nil || !strings.Contains(err.Error(), "message authentication failed") {
		t.Fatalf("vault CLI decrypt with another binding: %v", err)
	}
}

func TestRotatedKeyKeepsOpening(t *testing.T) {
	vaulttest.Require(t, vault)
	if err := vault.EnableTransit(mount, "rotating"); err != nil {
		t.Fatal(err)
	}
	id, r := tokenIdentity(t, vaulttest.RootToken, "rotating")
	dek := bytes.Repeat([]byte{1}, 32)
	old, err := r.Wrap(t.Context(), dek, binding)
	if err != nil {
		t.Fatal(err)
	}
	vault.MustVault(t, "", "write", "-f", mount+"/keys/rotating/rotate")
	cur, err := r.Wrap(t.Context(), dek, binding)
	if err != nil || !bytes.HasPrefix(cur.Body, []byte("vault:v2:")) || !bytes.HasPrefix(old.Body, []byte("vault:v1:")) {
		t.Fatalf("versions %q %q %v", old.Body, cur.Body, err)
	}
	for _, s := range []*keys.Stanza{old, cur} {
		if got, err := id.Unwrap(t.Context(), s, binding); err != nil || !bytes.Equal(got, dek) {
			t.Fatalf("%.9s: %v", s.Body, err)
		}
	}
}

func TestSealedVaultIsUnavailable(t *testing.T) {
	vaulttest.Require(t, vault)
	id, r := tokenIdentity(t, vaulttest.RootToken, "orders")
	s, err := r.Wrap(t.Context(), make([]byte, 32), binding)
	if err != nil {
		t.Fatal(err)
	}
	if err := vault.Seal(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := vault.Unseal(); err != nil {
			t.Fatal(err)
		}
	})
	_, err = id.Unwrap(t.Context(), s, binding)
	if !errors.Is(err, keys.ErrUnavailable) || errors.Is(err, keys.ErrAccessDenied) || !strings.Contains(err.Error(), vault.KeyURL(mount, "orders")) || !strings.Contains(err.Error(), "decrypt") {
		t.Fatalf("sealed: %v", err)
	}
	if _, err := r.Wrap(t.Context(), make([]byte, 32), binding); !errors.Is(err, keys.ErrUnavailable) {
		t.Fatalf("sealed encrypt: %v", err)
	}
}

func TestUnreachableVaultIsUnavailable(t *testing.T) {
	c, err := newClient(Config{Addr: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	id := &Identity{c: c, ts: &fixedToken{tok: "hvs.secret"}}
	_, err = id.Unwrap(t.Context(), &keys.Stanza{Type: Type, KeyID: "http://127.0.0.1:1/v1/transit/keys/k", Body: []byte("vault:v1:abc")}, binding)
	if !errors.Is(err, keys.ErrUnavailable) || strings.Contains(err.Error(), "hvs.secret") {
		t.Fatalf("got %v", err)
	}
}

// TestDeniedIsTerminalAndNamesNoToken: Vault's 403 is access denied (not an
// outage), names the key and the operation, and never the token.
func TestDeniedIsTerminalAndNamesNoToken(t *testing.T) {
	vaulttest.Require(t, vault)
	vault.MustVault(t, `path "transit/encrypt/orders" { capabilities = ["update"] }`, "policy", "write", "orders-writer", "-")
	tok, err := vault.Token("orders-writer")
	if err != nil {
		t.Fatal(err)
	}
	id, r := tokenIdentity(t, tok, "orders")
	s, err := r.Wrap(t.Context(), make([]byte, 32), binding)
	if err != nil {
		t.Fatalf("a writer may encrypt: %v", err)
	}
	_, err = id.Unwrap(t.Context(), s, binding)
	if !errors.Is(err, keys.ErrAccessDenied) || errors.Is(err, keys.ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, vault.KeyURL(mount, "orders")) || !strings.Contains(msg, "decrypt") || strings.Contains(msg, tok) || strings.Contains(msg, strings.TrimPrefix(tok, "hvs.")) {
		t.Fatalf("message %q", msg)
	}
	_, w := tokenIdentity(t, tok, "payments")
	if _, err := w.Wrap(t.Context(), make([]byte, 32), binding); !errors.Is(err, keys.ErrAccessDenied) {
		t.Fatalf("encrypt to a key the token may not use: %v", err)
	}
}

// TestTokenOnlyGoesToVaultAddr: a key on another server is refused before
// any request, so a hostile recipient or stanza never receives the token.
func TestTokenOnlyGoesToVaultAddr(t *testing.T) {
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer evil.Close()
	c, err := newClient(Config{Addr: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	ts := &fixedToken{tok: "hvs.secret"}
	r, err := ParseRecipient(Prefix + evil.URL + "/v1/transit/keys/k")
	if err != nil {
		t.Fatal(err)
	}
	rc := r.(*Recipient)
	rc.cfg = func() (*client, tokenSource, error) { return c, ts, nil }
	if _, err := rc.Wrap(t.Context(), make([]byte, 32), binding); err == nil || !strings.Contains(err.Error(), "only to VAULT_ADDR") {
		t.Fatalf("wrap: %v", err)
	}
	id := &Identity{c: c, ts: ts}
	if _, err := id.Unwrap(t.Context(), &keys.Stanza{Type: Type, KeyID: evil.URL + "/v1/transit/keys/k", Body: []byte("vault:v1:x")}, binding); !errors.Is(err, keys.ErrIncorrectIdentity) {
		t.Fatalf("unwrap: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the other server got %d requests", n)
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("VAULT_TOKEN", "")
	if _, err := tokenFromEnv(); !errors.Is(err, errNoToken) {
		t.Fatalf("no token: %v", err)
	}
	if err := writeFile(home+"/.vault-token", "hvs.fromfile\n"); err != nil {
		t.Fatal(err)
	}
	if tok, err := tokenFromEnv(); tok != "hvs.fromfile" || err != nil {
		t.Fatalf("file: %q %v", tok, err)
	}
	t.Setenv("VAULT_TOKEN", "hvs.fromenv")
	if tok, _ := tokenFromEnv(); tok != "hvs.fromenv" {
		t.Fatalf("env: %q", tok)
	}
}

func TestSkipVerifyWarns(t *testing.T) {
	var got string
	old := Warn
	Warn = func(m string) { got = m }
	defer func() { Warn = old }()
	if _, err := newClient(Config{Addr: "https://vault.example.com", SkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "VAULT_SKIP_VERIFY") {
		t.Fatalf("warning %q", got)
	}
}

// TestRedirectNeverCarriesTheToken: a Vault (or something at VAULT_ADDR)
// answering with a redirect to another host does not get the token sent
// there: redirects are not followed.
func TestRedirectNeverCarriesTheToken(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "" {
			leaked.Add(1)
		}
	}))
	defer other.Close()
	addr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer addr.Close()
	c, err := newClient(Config{Addr: addr.URL})
	if err != nil {
		t.Fatal(err)
	}
	id := &Identity{c: c, ts: &fixedToken{tok: "hvs.secret"}}
	_, err = id.Unwrap(t.Context(), &keys.Stanza{Type: Type, KeyID: addr.URL + "/v1/transit/keys/k", Body: []byte("vault:v1:abc")}, binding)
	if err == nil || leaked.Load() != 0 {
		t.Fatalf("got %v; the other host saw the token %d times", err, leaked.Load())
	}
}
