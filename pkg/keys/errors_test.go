package keys_test

import (
	"errors"
	"fmt"
	"testing"

	"kseal.dev/kseal/pkg/keys"
)

// Each kind matches its own sentinel and no other, through wrapping, and
// only Unavailable is temporary: the controller retries on that alone.
func TestErrorKinds(t *testing.T) {
	sentinels := map[keys.Kind]error{keys.KindAccessDenied: keys.ErrAccessDenied, keys.KindUnavailable: keys.ErrUnavailable, keys.KindWrongBinding: keys.ErrWrongBinding}
	for _, k := range []keys.Kind{keys.KindFailed, keys.KindAccessDenied, keys.KindUnavailable, keys.KindNotFound, keys.KindWrongBinding, keys.KindDisabled} {
		e := &keys.Error{Provider: "Test KMS", Key: "k1", Op: "Decrypt", Kind: k, Err: errors.New("Code: msg")}
		wrapped := fmt.Errorf("section 0: %w", e)
		for sk, s := range sentinels {
			if got := errors.Is(wrapped, s); got != (sk == k) {
				t.Errorf("%v: errors.Is(%v) = %v", k, s, got)
			}
		}
		if e.Temporary() != (k == keys.KindUnavailable) {
			t.Errorf("%v: Temporary() = %v", k, e.Temporary())
		}
		if keys.KindOf(wrapped) != k {
			t.Errorf("%v: KindOf = %v", k, keys.KindOf(wrapped))
		}
	}
	e := &keys.Error{Provider: "Test KMS", Key: "k1", Op: "Decrypt", Kind: keys.KindUnavailable, Reason: "throttled or unavailable", Err: errors.New("ThrottlingException: slow down")}
	if got, want := e.Error(), "Test KMS key k1: Decrypt: throttled or unavailable: ThrottlingException: slow down"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if keys.KindOf(fmt.Errorf("x: %w", keys.ErrAccessDenied)) != keys.KindAccessDenied || keys.KindOf(errors.New("other")) != keys.KindFailed {
		t.Error("KindOf of a bare sentinel or a foreign error")
	}
}
