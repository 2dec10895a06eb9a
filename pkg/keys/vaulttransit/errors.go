package vaulttransit

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"kseal.dev/kseal/pkg/keys"
)

// Provider names Vault in errors.
const Provider = "Vault"

// Reasons word keys.Error kinds in Vault's terms.
const (
	reasonDenied      = "permission denied"
	reasonUnavailable = "unavailable (sealed, unreachable or overloaded)"
	reasonBinding     = "wrong associated data or ciphertext (moved object, or tampered wrap)"
	reasonLogin       = "login refused"
)

// newError is a keys.Error about key (its URL) and op. It never holds a
// token: only the status and the messages of Vault's error response.
func newError(key, op string, kind keys.Kind, err error) *keys.Error {
	e := &keys.Error{Provider: Provider, Key: key, Op: op, Kind: kind, Err: err}
	switch kind {
	case keys.KindAccessDenied:
		e.Reason = reasonDenied
	case keys.KindUnavailable:
		e.Reason = reasonUnavailable
	case keys.KindWrongBinding:
		e.Reason = reasonBinding
	}
	return e
}

// loginError is a keys.Error about a login at what ("auth/kubernetes as
// role \"orders\"").
func loginError(what string, kind keys.Kind, err error) *keys.Error {
	e := newError("", "login", kind, err)
	e.Provider = Provider + " " + what
	if kind == keys.KindAccessDenied {
		e.Reason = reasonLogin
	}
	return e
}

// classify turns an HTTP status and Vault's error messages into an error.
func classify(key, op string, status int, msgs []string) *keys.Error {
	msg := strings.Join(msgs, "; ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	err := fmt.Errorf("HTTP %d: %s", status, msg)
	kind := keys.KindFailed
	switch {
	case status == http.StatusForbidden:
		kind = keys.KindAccessDenied
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests || status >= 500 || status == http.StatusRequestTimeout:
		kind = keys.KindUnavailable
	case status == http.StatusNotFound || (status == http.StatusBadRequest && strings.Contains(msg, "not found")):
		kind = keys.KindNotFound
	case status == http.StatusBadRequest && op == "login":
		kind = keys.KindAccessDenied
	case status == http.StatusBadRequest && (strings.Contains(msg, "authentication failed") || strings.Contains(msg, "invalid ciphertext") || strings.Contains(msg, "decrypt")):
		kind = keys.KindWrongBinding
	}
	if op == "login" {
		return loginError(key, kind, err)
	}
	return newError(key, op, kind, err)
}

// unreachable wraps a transport failure: retrying later may work.
func unreachable(key, op string, err error) *keys.Error {
	// url.Error names the URL, never the request headers (the token).
	if op == "login" {
		return loginError(key, keys.KindUnavailable, err)
	}
	return newError(key, op, keys.KindUnavailable, err)
}

// errNoToken is returned when no Vault token is configured.
var errNoToken = errors.New("no Vault token: set VAULT_TOKEN or log in with `vault login` (~/.vault-token)")
