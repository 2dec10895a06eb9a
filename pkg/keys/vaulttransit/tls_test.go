package vaulttransit

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/internal/vaulttest"
	"kseal.dev/kseal/pkg/keys"
)

// tlsRoundTrip wraps and unwraps a data key on vaultTLS through a client
// made from cfg (Addr filled in), as root.
func tlsRoundTrip(t *testing.T, cfg Config) error {
	t.Helper()
	cfg.Addr = vaultTLS.Addr
	c, err := newClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &fixedToken{tok: vaulttest.RootToken}
	r, err := ParseRecipient(Prefix + vaultTLS.KeyURL(mount, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	rc := r.(*Recipient)
	rc.cfg = func() (*client, tokenSource, error) { return c, ts, nil }
	dek := bytes.Repeat([]byte{7}, 32)
	s, err := rc.Wrap(t.Context(), dek, binding)
	if err != nil {
		return err
	}
	got, err := (&Identity{c: c, ts: ts}).Unwrap(t.Context(), s, binding)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, dek) {
		t.Fatal("unwrapped another key")
	}
	return nil
}

// caDir is a directory holding vaultTLS's CA (VAULT_CAPATH).
func caDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(vaultTLS.CACert)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil { // skipped
		t.Fatal(err)
	}
	return dir
}

// TestTLSTrust: against a real Vault with TLS, VAULT_CACERT and
// VAULT_CAPATH make its certificate trusted; without them the system roots
// do not trust it, and that is a final configuration error (not "Vault
// unavailable", which the controller would retry forever), naming the fix.
func TestTLSTrust(t *testing.T) {
	vaulttest.Require(t, vault)
	if err := tlsRoundTrip(t, Config{CACert: vaultTLS.CACert}); err != nil {
		t.Fatalf("VAULT_CACERT: %v", err)
	}
	if err := tlsRoundTrip(t, Config{CAPath: caDir(t)}); err != nil {
		t.Fatalf("VAULT_CAPATH: %v", err)
	}
	// Another CA in VAULT_CACERT does not make it trusted.
	other := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(other, []byte(otherCA), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{"system roots": {}, "another CA": {CACert: other}} {
		err := tlsRoundTrip(t, cfg)
		if err == nil {
			t.Fatalf("%s: the dev CA's certificate was trusted", name)
		}
		if keys.KindOf(err) != keys.KindFailed || errors.Is(err, keys.ErrUnavailable) {
			t.Errorf("%s: kind %v, want final (KindFailed): %v", name, keys.KindOf(err), err)
		}
		if !strings.Contains(err.Error(), "encrypt: the server's TLS certificate is not trusted (set VAULT_CACERT or VAULT_CAPATH") ||
			!strings.Contains(err.Error(), "keys/orders") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSkipVerifyWarnsOnceOnUse: VAULT_SKIP_VERIFY opens the TLS Vault
// without its CA, and warns once, when the first request is sent — making
// the client (which every CLI command does when it gathers identities)
// does not warn.
func TestSkipVerifyWarnsOnceOnUse(t *testing.T) {
	vaulttest.Require(t, vault)
	var got []string
	old := Warn
	Warn = func(m string) { got = append(got, m) }
	defer func() { Warn = old }()
	c, err := newClient(Config{Addr: vaultTLS.Addr, SkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("warned before any use: %q", got)
	}
	id := &Identity{c: c, ts: &fixedToken{tok: vaulttest.RootToken}}
	s := &keys.Stanza{Type: "x25519", KeyID: "x"}
	if _, err := id.Unwrap(t.Context(), s, binding); !errors.Is(err, keys.ErrIncorrectIdentity) || len(got) != 0 {
		t.Fatalf("another provider's wrap: %v, warnings %q", err, got)
	}
	if err := tlsRoundTrip(t, Config{SkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0], "VAULT_SKIP_VERIFY is set") {
		t.Fatalf("warnings %q, want one (from the round trip's client)", got)
	}
}

// TestControllerVaultCACert: kseal-controller's Kubernetes auth login and
// transit calls trust the CA of --vault-ca-cert, or of VAULT_CACERT; with
// neither, the login fails as a final certificate error.
func TestControllerVaultCACert(t *testing.T) {
	requireKube(t)
	vaultTLS.MustVault(t, `path "transit/decrypt/orders" { capabilities = ["update"] }`, "policy", "write", "test-controller", "-")
	vaultTLS.MustVault(t, "", "write", "auth/kubernetes/role/test-controller", "bound_service_account_names=kseal-controller",
		"bound_service_account_namespaces=kseal-system", "token_policies=test-controller", "token_ttl=1h")
	tok := controllerToken(t)
	c, err := newClient(Config{Addr: vaultTLS.Addr, CACert: vaultTLS.CACert})
	if err != nil {
		t.Fatal(err)
	}
	r := &Recipient{cfg: func() (*client, tokenSource, error) { return c, &fixedToken{tok: vaulttest.RootToken}, nil }}
	if r.Key, err = ParseKeyURL(vaultTLS.KeyURL(mount, "orders")); err != nil {
		t.Fatal(err)
	}
	s, err := r.Wrap(t.Context(), bytes.Repeat([]byte{5}, 32), binding)
	if err != nil {
		t.Fatal(err)
	}
	open := func(env string, args ...string) error {
		t.Helper()
		t.Setenv("VAULT_CACERT", env)
		t.Setenv("VAULT_CAPATH", "")
		t.Setenv("VAULT_SKIP_VERIFY", "")
		flags = flagValues{}
		t.Cleanup(func() { flags = flagValues{} })
		fs := flag.NewFlagSet("kseal-controller", flag.ContinueOnError)
		keys.BindControllerFlags(fs)
		if err := fs.Parse(append([]string{"--vault-addr=" + vaultTLS.Addr, "--vault-auth-role=test-controller", "--vault-token-file=" + tok}, args...)); err != nil {
			t.Fatal(err)
		}
		id, err := defaultIdentity()
		if err != nil {
			t.Fatal(err)
		}
		_, err = id.Unwrap(t.Context(), s, binding)
		return err
	}
	if err := open("", "--vault-ca-cert="+vaultTLS.CACert); err != nil {
		t.Fatalf("--vault-ca-cert: %v", err)
	}
	if err := open(vaultTLS.CACert); err != nil {
		t.Fatalf("VAULT_CACERT: %v", err)
	}
	err = open("")
	if err == nil || keys.KindOf(err) != keys.KindFailed || !strings.Contains(err.Error(), `role "test-controller"`) ||
		!strings.Contains(err.Error(), "TLS certificate is not trusted") {
		t.Fatalf("no CA: %v (kind %v)", err, keys.KindOf(err))
	}
}

// otherCA is a CA certificate that signed nothing Vault serves.
const otherCA = `-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIUIqWjutnadWcDcX8t4zsKjUZT01gwCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIb3RoZXItY2EwIBcNMjYxMTI0MDU0NTE5WhgPMjEyNjEwMzEw
NTQ1MTlaMBMxETAPBgNVBAMMCG90aGVyLWNhMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEQtMkwIxRxJ9hHqUiHnX/W2/OFYXhYY/CsI2JDIyZsXcE5/JQ+GKutNYi
s/t+D/n5qz1NpgupflUlsqhHF+wYcaNTMFEwHQYDVR0OBBYEFC4KhnIRl8uFH8zB
JwEeQeBSeIDKMB8GA1UdIwQYMBaAFC4KhnIRl8uFH8zBJwEeQeBSeIDKMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgK4zzVvM31ZSygbOYzdmQSCRi
oLxHLzZfUvmqZBn3HIECIQChMmG2fqOZbGWNjUcGOVgQEcZV3hBYWDJHRCvKvAYr
Pg==
-----END CERTIFICATE-----
`

// TestNamespaceHeaderReachesVault: VAULT_NAMESPACE is sent as
// X-Vault-Namespace on every request, as Vault's own audit log shows. Vault
// OSS has no namespaces and ignores the header (every request runs in
// "root"), so that Enterprise routes by it is not tested here.
func TestNamespaceHeaderReachesVault(t *testing.T) {
	vaulttest.Require(t, vault)
	t.Setenv("VAULT_NAMESPACE", "team-a/")
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.Namespace != "team-a/" {
		t.Fatalf("ConfigFromEnv: %+v %v", cfg, err)
	}
	log, err := vaultTLS.EnableAudit("X-Vault-Namespace")
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsRoundTrip(t, Config{CACert: vaultTLS.CACert, Namespace: cfg.Namespace}); err != nil {
		t.Fatal(err)
	}
	if err := tlsRoundTrip(t, Config{CACert: vaultTLS.CACert}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string][]string{} // path → namespace headers of its requests
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var e struct {
			Type    string `json:"type"`
			Request struct {
				Path    string              `json:"path"`
				Headers map[string][]string `json:"headers"`
			} `json:"request"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("audit log: %v", err)
		}
		if e.Type == "request" && strings.HasPrefix(e.Request.Path, mount+"/") {
			ns := strings.Join(e.Request.Headers["x-vault-namespace"], ",")
			seen[e.Request.Path] = append(seen[e.Request.Path], ns)
		}
	}
	for _, p := range []string{mount + "/encrypt/orders", mount + "/decrypt/orders"} {
		if got := strings.Join(seen[p], " "); got != "team-a/ " {
			t.Errorf("%s: namespace headers %q, want %q (then none)", p, got, "team-a/ ")
		}
	}
}
