// Package providers links every key provider into a binary. Adding a
// provider is one import line here.
package providers

import (
	_ "kseal.dev/kseal/pkg/keys/agekey"       // age X25519 and ML-KEM hybrid; cluster keys
	_ "kseal.dev/kseal/pkg/keys/awskms"       // AWS KMS
	_ "kseal.dev/kseal/pkg/keys/gcpkms"       // GCP KMS
	_ "kseal.dev/kseal/pkg/keys/vaulttransit" // HashiCorp Vault transit
)
