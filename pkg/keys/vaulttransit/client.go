package vaulttransit

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"kseal.dev/kseal/pkg/keys"
)

// Config is how to reach one Vault server.
type Config struct {
	Addr      string // VAULT_ADDR: https://HOST[:PORT]
	Namespace string // VAULT_NAMESPACE (Vault Enterprise), sent as X-Vault-Namespace
	CACert    string // VAULT_CACERT: a PEM file
	CAPath    string // VAULT_CAPATH: a directory of PEM files
	// SkipVerify (VAULT_SKIP_VERIFY) turns off certificate checks; kseal
	// warns every time it is used.
	SkipVerify bool
}

// DefaultAddr is the Vault CLI's default VAULT_ADDR.
const DefaultAddr = "https://127.0.0.1:8200"

// ConfigFromEnv reads the Vault CLI's environment variables.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Addr:      os.Getenv("VAULT_ADDR"),
		Namespace: os.Getenv("VAULT_NAMESPACE"),
		CACert:    os.Getenv("VAULT_CACERT"),
		CAPath:    os.Getenv("VAULT_CAPATH"),
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if v := os.Getenv("VAULT_SKIP_VERIFY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("VAULT_SKIP_VERIFY %q: want true or false", v)
		}
		c.SkipVerify = b
	}
	return c, nil
}

// Warn receives warnings (VAULT_SKIP_VERIFY); the CLI prints them.
var Warn = func(msg string) { fmt.Fprintf(os.Stderr, "kseal: warning: %s\n", msg) }

// client talks to one Vault server.
type client struct {
	origin    string
	namespace string
	http      *http.Client
}

func newClient(c Config) (*client, error) {
	o, err := origin(c.Addr)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CACert != "" || c.CAPath != "" {
		pool := x509.NewCertPool()
		files := []string{}
		if c.CACert != "" {
			files = append(files, c.CACert)
		}
		if c.CAPath != "" {
			ms, err := filepath.Glob(filepath.Join(c.CAPath, "*"))
			if err != nil {
				return nil, fmt.Errorf("VAULT_CAPATH %q: %w", c.CAPath, err)
			}
			files = append(files, ms...)
		}
		for _, f := range files {
			if st, err := os.Stat(f); err == nil && st.IsDir() {
				continue
			}
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("vault CA certificate: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) && f == c.CACert {
				return nil, fmt.Errorf("VAULT_CACERT %q: no PEM certificate in it", f)
			}
		}
		tc.RootCAs = pool
	}
	if c.SkipVerify {
		Warn("VAULT_SKIP_VERIFY is set: the Vault server's certificate is not checked, so anyone on the path can read the token and the data keys")
		tc.InsecureSkipVerify = true
	}
	tr.TLSClientConfig = tc
	return &client{origin: o, namespace: c.Namespace, http: &http.Client{
		Transport: tr,
		Timeout:   30 * time.Second,
		// A redirect could carry the token to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// maxResponse bounds what kseal reads from Vault.
const maxResponse = 1 << 20

// call sends body as JSON to path with token (if any) and decodes the
// response's JSON into out. key and op name the request in errors.
func (c *client) call(ctx context.Context, key, op, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.origin+path, rd)
	if err != nil {
		return newError(key, op, keys.KindFailed, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	if c.namespace != "" {
		req.Header.Set("X-Vault-Namespace", c.namespace)
	}
	req.Header.Set("X-Vault-Request", "true")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return unreachable(key, op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return unreachable(key, op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Errors []string `json:"errors"`
		}
		_ = json.Unmarshal(b, &e)
		return classify(key, op, resp.StatusCode, e.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return newError(key, op, keys.KindFailed, fmt.Errorf("reading Vault's response: %w", err))
		}
	}
	return nil
}

// A tokenSource hands out a Vault token. After a 403 the caller calls
// Invalidate and asks again once: a token that expired or was revoked is
// replaced by a fresh login.
type tokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate(token string) bool // reports whether a new token may differ
}

// staticToken is VAULT_TOKEN or ~/.vault-token, read on first use.
type staticToken struct {
	once sync.Once
	tok  string
	err  error
}

func (s *staticToken) Token(context.Context) (string, error) {
	s.once.Do(func() { s.tok, s.err = tokenFromEnv() })
	return s.tok, s.err
}

func (s *staticToken) Invalidate(string) bool { return false }

// tokenFromEnv finds the token as the Vault CLI does: VAULT_TOKEN, then
// ~/.vault-token.
func tokenFromEnv() (string, error) {
	if t := strings.TrimSpace(os.Getenv("VAULT_TOKEN")); t != "" {
		return t, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errNoToken
	}
	b, err := os.ReadFile(filepath.Join(home, ".vault-token"))
	if errors.Is(err, os.ErrNotExist) {
		return "", errNoToken
	}
	if err != nil {
		return "", fmt.Errorf("reading ~/.vault-token: %w", err)
	}
	if t := strings.TrimSpace(string(b)); t != "" {
		return t, nil
	}
	return "", errNoToken
}
