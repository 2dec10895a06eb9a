package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"kseal.dev/kseal/pkg/keys"
)

// maxUnwrapFailures caps the failed unwrap attempts one reconcile makes. An
// attempt that reaches an identity may be a KMS call, and an object may hold
// 255 sections of 64 wraps each: without a cap a hostile object could cost
// thousands of calls per reconcile. Opening stops at the first section no
// wrap opens, so each section costs at most one successful call.
const maxUnwrapFailures = 4

// maxUnwraps caps the remote (KMS) unwrap attempts of one reconcile,
// successful ones included: sealing needs only public keys (and
// kms:Encrypt), so a tenant could build an object of 255 sections that all
// open, and make every reconcile cost hundreds of KMS calls. Keys held in
// memory (the cluster keys) are not counted: they cost microseconds, and an
// object kseal set grew to 255 sections must still open. A KMS-sealed
// object with more sections than this is folded with kseal rotate.
const maxUnwraps = 64

// errUnwrapBudget ends an open that spent its budget.
var errUnwrapBudget = fmt.Errorf("gave up after %d failed key unwrap attempts or %d KMS unwraps in all (the limits per object; fold sections with kseal rotate)", maxUnwrapFailures, maxUnwraps)

// unwrapBudget counts the unwrap attempts of one reconcile.
type unwrapBudget struct {
	mu       sync.Mutex
	failures int
	attempts int
}

// wrap returns ids with each Unwrap counted against the budget.
func (b *unwrapBudget) wrap(ids []keys.Identity) []keys.Identity {
	out := make([]keys.Identity, len(ids))
	for i, id := range ids {
		out[i] = budgetIdentity{id, b}
	}
	return out
}

func (b *unwrapBudget) exhausted() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures >= maxUnwrapFailures || b.attempts >= maxUnwraps
}

func (b *unwrapBudget) record(err error, remote bool) {
	if remote && !errors.Is(err, keys.ErrIncorrectIdentity) {
		b.mu.Lock()
		b.attempts++
		b.mu.Unlock()
	}
	switch {
	case err == nil:
		unwrapAttempts.WithLabelValues("opened").Inc()
	case errors.Is(err, keys.ErrIncorrectIdentity):
		// Not this identity's stanza: nothing was attempted.
	default:
		unwrapAttempts.WithLabelValues("failed").Inc()
		b.mu.Lock()
		b.failures++
		b.mu.Unlock()
	}
}

// budgetIdentity refuses to try once the budget is spent.
type budgetIdentity struct {
	keys.Identity
	b *unwrapBudget
}

func (bi budgetIdentity) Unwrap(ctx context.Context, s *keys.Stanza, bind keys.Binding) ([]byte, error) {
	if bi.b.exhausted() {
		return nil, errUnwrapBudget
	}
	dek, err := bi.Identity.Unwrap(ctx, s, bind)
	bi.b.record(err, keys.IsRemote(bi.Identity))
	return dek, err
}
