package controller

import (
	"kseal.dev/kseal/pkg/keys"
)

// unwrapLimits cap the unwrap attempts of one reconcile (keys.UnwrapBudget
// counts them; the CLI shares the implementation).
//
// Failures: an attempt that reaches an identity may be a KMS call, and an
// object may hold 255 sections of 64 wraps each: without a cap a hostile
// object could cost thousands of calls per reconcile. Opening stops at the
// first section no wrap opens, so each section costs at most one
// successful call.
//
// Remote: KMS unwrap attempts, successful ones included: sealing needs only
// public keys (and kms:Encrypt), so a tenant could build an object of 255
// sections that all open, and make every reconcile cost hundreds of KMS
// calls. Keys held in memory (the cluster keys) are not counted: they cost
// microseconds, and an object kseal set grew to 255 sections must still
// open. A KMS-sealed object with more sections than this is folded with
// kseal rotate.
var unwrapLimits = keys.UnwrapLimits{Failures: 4, Remote: 64}

// newUnwrapBudget returns the budget of one reconcile, counting its
// attempts in the unwrap metric.
func newUnwrapBudget() *keys.UnwrapBudget {
	return keys.NewUnwrapBudget(unwrapLimits, func(err error) {
		if err == nil {
			unwrapAttempts.WithLabelValues("opened").Inc()
			return
		}
		unwrapAttempts.WithLabelValues("failed").Inc()
	})
}
