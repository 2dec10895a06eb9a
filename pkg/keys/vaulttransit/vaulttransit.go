// Package vaulttransit is the HashiCorp Vault key provider: a data key is
// wrapped with Vault's transit engine (encrypt) and unwrapped with it
// (decrypt), so Vault's own policies decide who may open what, and Vault's
// audit log names every caller.
//
// Recipient syntax, a transit key by URL (the URL is the key ID):
//
//	vault:https://HOST[:PORT]/v1/MOUNT/keys/NAME
//	vault:http://127.0.0.1:8200/v1/transit/keys/NAME   (http only on loopback)
//
// The object's binding (scope, namespace, name) is passed as transit's
// associated_data: the data key is sealed by Vault with AES-256-GCM (or
// ChaCha20-Poly1305) and the binding authenticated with it, so a wrap copied
// into another object or namespace is refused by Vault itself. Keys must be
// of an AEAD type (aes128-gcm96, aes256-gcm96 — the default — or
// chacha20-poly1305). Rotated keys keep opening old wraps (vault:v1:…);
// new wraps use the latest version.
//
// Authentication is the Vault CLI's: VAULT_ADDR, VAULT_TOKEN or
// ~/.vault-token, VAULT_NAMESPACE, VAULT_CACERT, VAULT_CAPATH and
// VAULT_SKIP_VERIFY (warned). The token is sent only to VAULT_ADDR: a key
// on another server is refused, never sent the token. kseal-controller
// logs in with Vault's Kubernetes auth method instead (see Controller), and
// per service as that service's own ServiceAccount. docs/vault.md is the
// guide.
package vaulttransit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"kseal.dev/kseal/pkg/keys"
)

// Type is the stanza type of Vault transit wraps.
const Type = "vault"

func init() {
	keys.Register(keys.Provider{
		Name:              Type,
		RecipientPrefixes: []string{Prefix},
		ParseRecipient:    ParseRecipient,
		Source: func(context.Context) ([]keys.Identity, error) {
			id, err := defaultIdentity()
			if err != nil {
				return nil, err
			}
			return []keys.Identity{id}, nil
		},
		// VAULT_TOKEN, and VAULT_ADDR, VAULT_NAMESPACE and the TLS
		// settings that say which server gets it.
		CredentialEnv:   []string{"VAULT_"},
		Renderers:       []keys.RendererInfo{vaultRenderInfo, rbacRenderInfo},
		ServiceSettings: validateSettings,
		ControllerFlags: bindFlags,
	})
}

// Recipient is a transit key to wrap data keys with.
type Recipient struct {
	Key Key
	cfg func() (*client, tokenSource, error) // nil: the environment's
}

var (
	_ keys.TypedRecipient = (*Recipient)(nil)
	_ keys.Identity       = (*Identity)(nil)
)

// ParseRecipient parses vault:URL.
func ParseRecipient(s string) (keys.Recipient, error) {
	k, err := ParseKeyURL(strings.TrimPrefix(s, Prefix))
	if err != nil {
		return nil, err
	}
	return &Recipient{Key: k}, nil
}

// KeyID is the key's URL.
func (r *Recipient) KeyID() string { return r.Key.URL() }

// StanzaType returns the stanza type of Vault wraps.
func (r *Recipient) StanzaType() string { return Type }

// Describe says what the recipient is, for kseal policy explain.
func (r *Recipient) Describe() string { return "Vault transit key " + r.Key.URL() }

// String is the recipient string.
func (r *Recipient) String() string { return Prefix + r.Key.URL() }

// Wrap encrypts dek with the transit key, the binding as associated data.
func (r *Recipient) Wrap(ctx context.Context, dek []byte, b keys.Binding) (*keys.Stanza, error) {
	get := r.cfg
	if get == nil {
		get = envClient
	}
	c, ts, err := get()
	if err != nil {
		return nil, err
	}
	if c.origin != r.Key.Origin {
		return nil, errOtherServer(r.Key, c.origin)
	}
	var resp struct {
		Data struct {
			Ciphertext string `json:"ciphertext"`
		} `json:"data"`
	}
	req := map[string]string{"plaintext": base64.StdEncoding.EncodeToString(dek), "associated_data": associatedData(b)}
	if err := transit(ctx, c, ts, r.Key, "encrypt", req, &resp); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(resp.Data.Ciphertext, "vault:v") {
		return nil, newError(r.Key.URL(), "encrypt", keys.KindFailed, errors.New("vault returned no ciphertext"))
	}
	return &keys.Stanza{Type: Type, KeyID: r.Key.URL(), Body: []byte(resp.Data.Ciphertext)}, nil
}

// errOtherServer refuses a key on another server than the token's.
func errOtherServer(k Key, addr string) error {
	return fmt.Errorf("vault key %s is not on VAULT_ADDR %s: kseal sends the Vault token only to VAULT_ADDR (set it to %s to use this key)", k.URL(), addr, k.Origin)
}

// associatedData is the binding as transit's associated_data (base64).
func associatedData(b keys.Binding) string {
	return base64.StdEncoding.EncodeToString([]byte("kseal/v2 " + b.String()))
}

// transit runs a transit operation, replacing the token once after a 403
// when the token source can log in again (an expired or revoked token).
func transit(ctx context.Context, c *client, ts tokenSource, k Key, op string, req, resp any) error {
	for attempt := 0; ; attempt++ {
		tok, err := ts.Token(ctx)
		if err != nil {
			return err
		}
		err = c.call(ctx, k.URL(), op, http.MethodPost, k.path(op), tok, req, resp)
		if attempt == 0 && keys.KindOf(err) == keys.KindAccessDenied && ts.Invalidate(tok) {
			continue
		}
		return err
	}
}

// Identity unwraps vault stanzas of keys on its server.
type Identity struct {
	c  *client
	ts tokenSource
	// services, set for the controller with per-service login, logs in as
	// the ServiceAccount of the service an object belongs to.
	services *serviceLogins
	err      error // the environment's configuration error, if any
}

// Remote reports that unwrapping calls Vault.
func (i *Identity) Remote() bool { return true }

// Unwrap decrypts a vault stanza with the binding recomputed from the
// object as associated data.
func (i *Identity) Unwrap(ctx context.Context, s *keys.Stanza, b keys.Binding) ([]byte, error) {
	if s.Type != Type {
		return nil, keys.ErrIncorrectIdentity
	}
	if i.err != nil {
		return nil, i.err
	}
	k, err := ParseKeyURL(s.KeyID)
	if err != nil {
		return nil, err
	}
	if k.Origin != i.c.origin {
		// Another server's key: the token is never sent there.
		return nil, keys.ErrIncorrectIdentity
	}
	ct := string(s.Body)
	if !strings.HasPrefix(ct, "vault:v") || len(ct) > 4096 || strings.ContainsAny(ct, " \n\"\\") {
		return nil, newError(k.URL(), "decrypt", keys.KindWrongBinding, errors.New("the wrap is not a transit ciphertext"))
	}
	ts := i.ts
	if i.services != nil {
		if c, ok := keys.CallerFrom(ctx); ok && c.Settings[Type]["role"] != "" {
			if ts, err = i.services.source(c); err != nil {
				return nil, err
			}
		}
	}
	var resp struct {
		Data struct {
			Plaintext string `json:"plaintext"`
		} `json:"data"`
	}
	req := map[string]string{"ciphertext": ct, "associated_data": associatedData(b)}
	if err := transit(ctx, i.c, ts, k, "decrypt", req, &resp); err != nil {
		return nil, err
	}
	dek, err := base64.StdEncoding.DecodeString(resp.Data.Plaintext)
	if err != nil || len(dek) != 32 {
		return nil, newError(k.URL(), "decrypt", keys.KindFailed, errors.New("vault returned no 32-byte data key"))
	}
	return dek, nil
}

// env is the environment's client and token, made once.
var env struct {
	once sync.Once
	c    *client
	ts   tokenSource
	err  error
}

func envClient() (*client, tokenSource, error) {
	env.once.Do(func() {
		cfg, err := flags.config()
		if err != nil {
			env.err = err
			return
		}
		env.c, env.err = newClient(cfg)
		env.ts = &staticToken{}
	})
	return env.c, env.ts, env.err
}

// defaultIdentity is the controller's identity when its flags ask for
// Kubernetes auth, else the environment's (VAULT_TOKEN).
func defaultIdentity() (keys.Identity, error) {
	if flags.role != "" {
		o, err := flags.controller()
		if err != nil {
			return nil, err
		}
		return NewControllerIdentity(o)
	}
	c, ts, err := envClient()
	// A broken Vault environment (a bad VAULT_ADDR or VAULT_CACERT) fails
	// only the opening of vault wraps, not every kseal command.
	return &Identity{c: c, ts: ts, err: err}, nil
}

// tokenRequestKind classifies a TokenRequest failure: missing RBAC or a
// missing ServiceAccount is terminal, an API server outage transient.
func tokenRequestKind(err error) keys.Kind {
	switch {
	case apierrors.IsForbidden(err), apierrors.IsNotFound(err), apierrors.IsUnauthorized(err):
		return keys.KindAccessDenied
	case apierrors.IsBadRequest(err), apierrors.IsInvalid(err):
		return keys.KindFailed
	}
	return keys.KindUnavailable
}
