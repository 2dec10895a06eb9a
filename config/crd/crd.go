// Package crd holds the generated CustomResourceDefinition of kseal's
// SealedSecret, so the CLI can check an object against the very schema the
// API server will apply (controller-gen writes bases/; `make generate`).
package crd

import _ "embed"

// SealedSecrets is bases/kseal.dev_sealedsecrets.yaml.
//
//go:embed bases/kseal.dev_sealedsecrets.yaml
var SealedSecrets []byte
