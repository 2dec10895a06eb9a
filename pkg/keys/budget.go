package keys

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// UnwrapLimits bound the unwrap attempts made to open one object. Sealing
// needs only public keys (and kms:Encrypt), so anyone can build an object
// of 255 sections of 64 wraps each: without limits, opening or verifying
// it could cost thousands of key service calls, billed to and logged
// against whoever opens it. A zero limit is no limit.
type UnwrapLimits struct {
	// Failures caps the failed attempts of any identity.
	Failures int
	// Remote caps the attempts of remote identities (see RemoteIdentity),
	// successful ones included. Keys held in memory are not counted: they
	// cost microseconds.
	Remote int
}

// ErrUnwrapBudget is matched (errors.Is) by the error of an unwrap refused
// because the object spent its budget.
var ErrUnwrapBudget = errors.New("unwrap budget spent")

// BudgetError is the error of an unwrap refused by an UnwrapBudget. It
// says which limits there are and how to stay under them.
type BudgetError struct{ Limits UnwrapLimits }

func (e *BudgetError) Error() string {
	l := e.Limits
	switch {
	case l.Failures > 0 && l.Remote > 0:
		return fmt.Sprintf("gave up after %d failed key unwrap attempts or %d KMS unwraps in all (the limits per object; fold sections with kseal rotate)", l.Failures, l.Remote)
	case l.Failures > 0:
		return fmt.Sprintf("gave up after %d failed key unwrap attempts (the limit per object)", l.Failures)
	}
	return fmt.Sprintf("gave up after %d KMS unwraps (the limit per object, failed and successful ones together; fold sections with kseal rotate)", l.Remote)
}

// Is matches ErrUnwrapBudget.
func (e *BudgetError) Is(target error) bool { return target == ErrUnwrapBudget }

// An UnwrapBudget counts the unwrap attempts made through the identities
// it hands out (Identities) and refuses every attempt once a limit is
// reached. One budget serves one object: everything that unwraps for that
// object (opening it, then checking its other wraps) spends the same
// budget. It is safe for concurrent use.
type UnwrapBudget struct {
	limits  UnwrapLimits
	observe func(err error)

	mu       sync.Mutex
	failures int
	remote   int
}

// NewUnwrapBudget returns a budget with limits l. observe, when not nil,
// is called with the result of every attempt an identity made (nil for
// success, never for ErrIncorrectIdentity), for metrics.
func NewUnwrapBudget(l UnwrapLimits, observe func(err error)) *UnwrapBudget {
	return &UnwrapBudget{limits: l, observe: observe}
}

// Identities returns ids with every Unwrap counted against b.
func (b *UnwrapBudget) Identities(ids []Identity) []Identity {
	out := make([]Identity, len(ids))
	for i, id := range ids {
		out[i] = budgetIdentity{id, b, IsRemote(id)}
	}
	return out
}

func (b *UnwrapBudget) spent() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.limits
	return (l.Failures > 0 && b.failures >= l.Failures) || (l.Remote > 0 && b.remote >= l.Remote)
}

func (b *UnwrapBudget) record(err error, remote bool) {
	if errors.Is(err, ErrIncorrectIdentity) {
		// Not this identity's stanza: nothing was attempted.
		return
	}
	b.mu.Lock()
	if remote {
		b.remote++
	}
	if err != nil {
		b.failures++
	}
	b.mu.Unlock()
	if b.observe != nil {
		b.observe(err)
	}
}

// budgetIdentity refuses to try once its budget is spent.
type budgetIdentity struct {
	Identity
	b      *UnwrapBudget
	remote bool
}

func (bi budgetIdentity) Unwrap(ctx context.Context, s *Stanza, bind Binding) ([]byte, error) {
	if bi.b.spent() {
		return nil, &BudgetError{bi.b.limits}
	}
	dek, err := bi.Identity.Unwrap(ctx, s, bind)
	bi.b.record(err, bi.remote)
	return dek, err
}

// Remote reports whether the identity it counts for is remote.
func (bi budgetIdentity) Remote() bool { return bi.remote }
