// Package controller is kseal-controller: it unseals SealedSecrets into
// Secrets with the cluster keypair (and any other registered identity),
// keeps those Secrets as the SealedSecret says, and owns the cluster keys.
//
// The files read downhill, from an event to the written Secret; a file uses
// only what is declared in files below it, never one above:
//
//   - setup.go builds the manager, its cache, the keyring and the
//     reconciler.
//   - watches.go says which events reach the reconciler (SetupWithManager,
//     its predicates and mapping functions).
//   - reconcile.go is the decision: Reconcile reads the object, reconcile
//     checks it and the policy, unseal opens it and hands the values on;
//     status.go records the outcome.
//   - secret.go writes the Secret: whether the one there is up to date, who
//     owns it, creating, updating, adopting and replacing it.
//   - Below those: reconciler.go (the Reconciler value and the outcome each
//     step returns), policy.go and policystore.go (grants, readers, the
//     policy ConfigMap), cachedspec.go and cachesecret.go (what the cache
//     keeps), written.go (the memory of the controller's own writes and
//     the spec hashes), convert.go, adopt.go, unwrap.go
//     and text.go.
//
// The cluster keys live apart: keyring.go (generation, rotation,
// publication) and keyleader.go (the keys' own Lease when sharded).
package controller
