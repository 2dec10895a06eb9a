// Package controller is kseal-controller: it unseals SealedSecrets into
// Secrets with the cluster keypair (and any other registered identity),
// keeps those Secrets as the SealedSecret says, and owns the cluster keys.
//
// The files read downhill, from the manager to the written Secret: a file
// uses only what files below it in this list declare, never what one above
// it does.
//
//   - setup.go builds the manager (NewManager): cache.go says what its
//     cache holds, then come the keyring, the reconciler and endpoints.go
//     (health, readiness, the recipients server); keyleader.go is the keys'
//     own Lease when sharded, flags.go the Options and their flags.
//   - watches.go says which events reach the reconciler: SetupWithManager,
//     its predicates and mapping functions.
//   - reconcile.go is the decision: Reconcile reads the object, reconcile
//     checks it, unseal applies the policy, opens it and hands the values
//     on; status.go records the outcome.
//   - secret.go writes the Secret: whether the one there is up to date, who
//     owns it, creating, updating, adopting and replacing it.
//   - policy.go grants keys and readers; cachedspec.go reads a stripped
//     SealedSecret's spec back.
//   - reconciler.go is the Reconciler value and the outcome each step
//     returns.
//   - policystore.go (the policy ConfigMap), cachesecret.go (what the cache
//     keeps of a Secret), adopt.go, written.go (the memory of the
//     controller's own writes), spechash.go (every hash of a spec),
//     convert.go, unwrap.go, text.go, keyring.go (the cluster keys) and
//     metrics.go.
package controller
