package keys

import (
	"errors"
	"fmt"
)

// Kind classifies a key service's failure, so that the CLI and the
// controller decide without knowing providers: retry later (Unavailable),
// give up and say who is refused (AccessDenied), or give up (the rest).
type Kind int

const (
	// KindFailed is a failure no other kind describes. Final.
	KindFailed Kind = iota
	// KindAccessDenied: the key service refused this caller. Final until
	// someone changes a grant. Matches ErrAccessDenied.
	KindAccessDenied
	// KindUnavailable: throttled, unreachable, sealed or failing inside;
	// retrying later may work. Matches ErrUnavailable.
	KindUnavailable
	// KindNotFound: the key does not exist (or the caller may not know).
	KindNotFound
	// KindWrongBinding: the service refused the wrap for this binding: the
	// object was moved to another namespace or name, or the wrap was
	// tampered with. Final. Matches ErrWrongBinding.
	KindWrongBinding
	// KindDisabled: the key exists but is disabled, pending deletion or
	// destroyed. Final.
	KindDisabled
)

func (k Kind) String() string {
	switch k {
	case KindAccessDenied:
		return "access denied"
	case KindUnavailable:
		return "unavailable"
	case KindNotFound:
		return "key not found"
	case KindWrongBinding:
		return "wrong binding or ciphertext (moved object, or tampered wrap)"
	case KindDisabled:
		return "key disabled or destroyed"
	}
	return "failed"
}

// Sentinels that a *Error (and any provider error) matches with errors.Is.
var (
	// ErrAccessDenied: the key service refused this caller.
	ErrAccessDenied = errors.New("access to the key denied")
	// ErrUnavailable: throttled or unreachable; retrying later may work.
	ErrUnavailable = errors.New("key service unavailable")
	// ErrWrongBinding: the wrap does not open under this object's binding.
	ErrWrongBinding = errors.New("wrap refused for this binding")
)

// Error is a classified failure of a key service, shared by every provider
// so that nobody needs a provider's own error type. Its message names the
// provider, the key and the operation, never a credential or key material:
//
//	AWS KMS key arn:…: Decrypt: access denied: AccessDeniedException: …
type Error struct {
	Provider string // "AWS KMS", "GCP KMS", "Vault transit"
	Key      string // the key's ID (an ARN, a resource name, a URL)
	Op       string // the service operation: "Encrypt", "Decrypt", "login"
	Kind     Kind
	// Reason, when set, words the kind in the service's terms (e.g.
	// "throttled or unavailable"); Kind.String() is used otherwise.
	Reason string
	Err    error // the service's code and message, without request bytes
}

func (e *Error) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = e.Kind.String()
	}
	s := e.Provider
	if e.Key != "" {
		s += " key " + e.Key
	}
	if e.Op != "" {
		s += ": " + e.Op
	}
	s += ": " + reason
	if e.Err != nil {
		s += fmt.Sprintf(": %v", e.Err)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel of e's kind.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrAccessDenied:
		return e.Kind == KindAccessDenied
	case ErrUnavailable:
		return e.Kind == KindUnavailable
	case ErrWrongBinding:
		return e.Kind == KindWrongBinding
	}
	return false
}

// Temporary reports whether retrying later may succeed.
func (e *Error) Temporary() bool { return e.Kind == KindUnavailable }

// KindOf returns the kind of err: that of the first *Error in its chain,
// KindAccessDenied or KindUnavailable for errors matching those sentinels,
// and KindFailed otherwise.
func KindOf(err error) Kind {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Kind
	case errors.Is(err, ErrAccessDenied):
		return KindAccessDenied
	case errors.Is(err, ErrUnavailable):
		return KindUnavailable
	case errors.Is(err, ErrWrongBinding):
		return KindWrongBinding
	}
	return KindFailed
}
