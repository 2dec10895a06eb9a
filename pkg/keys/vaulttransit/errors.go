package vaulttransit

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"kseal.dev/kseal/pkg/keys"
)

// Kinds of Vault failures.
const (
	KindDenied      = "permission denied"
	KindUnavailable = "unavailable (sealed, unreachable or overloaded)"
	KindRejected    = "wrong associated data or ciphertext (moved object, or tampered wrap)"
	KindNotFound    = "key or mount not found"
	KindAuth        = "login failed"
	KindFailed      = "failed"
)

// Error is a Vault failure naming the key and the operation. It never holds
// a token: only the status and the messages of Vault's error response.
type Error struct {
	Key  string // the key's URL, or the auth mount for a login
	Op   string // encrypt, decrypt, login
	Kind string
	Err  error
}

func (e *Error) Error() string {
	subject := e.Key
	if strings.HasPrefix(subject, "http") {
		subject = "key " + subject
	}
	return fmt.Sprintf("Vault %s: %s: %s: %v", subject, e.Op, e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes the error match keys.ErrAccessDenied (terminal) or
// keys.ErrUnavailable (transient).
func (e *Error) Is(target error) bool {
	return (target == keys.ErrAccessDenied && (e.Kind == KindDenied || e.Kind == KindAuth)) ||
		(target == keys.ErrUnavailable && e.Kind == KindUnavailable)
}

// Temporary reports whether retrying later may succeed.
func (e *Error) Temporary() bool { return e.Kind == KindUnavailable }

// classify turns an HTTP status and Vault's error messages into an Error.
func classify(key, op string, status int, msgs []string) *Error {
	msg := strings.Join(msgs, "; ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	e := &Error{Key: key, Op: op, Kind: KindFailed, Err: fmt.Errorf("HTTP %d: %s", status, msg)}
	switch {
	case status == http.StatusForbidden && op == "login":
		e.Kind = KindAuth
	case status == http.StatusForbidden:
		e.Kind = KindDenied
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests || status >= 500 || status == http.StatusRequestTimeout:
		e.Kind = KindUnavailable
	case status == http.StatusNotFound:
		e.Kind = KindNotFound
	case status == http.StatusBadRequest && strings.Contains(msg, "not found"):
		e.Kind = KindNotFound
	case status == http.StatusBadRequest && (strings.Contains(msg, "authentication failed") || strings.Contains(msg, "invalid ciphertext") || strings.Contains(msg, "decrypt")):
		e.Kind = KindRejected
	case status == http.StatusBadRequest && op == "login":
		e.Kind = KindAuth
	}
	return e
}

// unreachable wraps a transport failure: retrying later may work.
func unreachable(key, op string, err error) *Error {
	// url.Error names the URL, never the request headers (the token).
	return &Error{Key: key, Op: op, Kind: KindUnavailable, Err: err}
}

// errNoToken is returned when no Vault token is configured.
var errNoToken = errors.New("no Vault token: set VAULT_TOKEN or log in with `vault login` (~/.vault-token)")
