// Package sealedsecrets opens the SealedSecrets of bitnami-labs/sealed-secrets
// (bitnami.com/v1alpha1) with the private keys its controller exported, so
// that `kseal import sealed-secrets` can seal their values again in kseal's
// format.
//
// It follows the sealed-secrets controller v0.27.1 (pkg/crypto's
// HybridDecrypt and the Unseal method of pkg/apis/sealedsecrets/v1alpha1)
// instead of importing it: the API package pulls in sprig and the
// generated clientset for what is sixty lines of crypto here, and
// HybridDecrypt tries keys in map order and reports only "no key could
// decrypt secret", which cannot tell a tampered value from a key that was
// not given. Tests check this package against values the real kubeseal
// sealed.
//
// The format, per value of spec.encryptedData (base64):
//
//	uint16 big-endian length of the RSA ciphertext
//	RSA-OAEP(SHA-256, label) ciphertext of a fresh 32-byte AES key
//	AES-256-GCM ciphertext of the value, nonce all zero (the key is used once)
//
// The OAEP label is the scope: "namespace/name" (strict, the default),
// "namespace" (sealedsecrets.bitnami.com/namespace-wide: "true") or empty
// (sealedsecrets.bitnami.com/cluster-wide: "true"), read from the
// SealedSecret's own metadata.annotations as the controller reads it. The
// ciphertext names no key, so each key is tried; OAEP fails cleanly under a
// wrong key or label, and the GCM tag then authenticates the value.
package sealedsecrets

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"kseal.dev/kseal/pkg/manifest"
)

// KeyLabel marks the Secrets that hold the controller's keys.
const KeyLabel = "sealedsecrets.bitnami.com/sealed-secrets-key"

// Key is one private key of the sealed-secrets controller.
type Key struct {
	// Secret names the Secret it came from, "namespace/name".
	Secret string
	// Fingerprint is the SHA256 fingerprint the controller logs for the
	// key (ssh.FingerprintSHA256 of the public key).
	Fingerprint string
	priv        *rsa.PrivateKey
}

// ErrNoKeys is returned when a keys file holds no key Secret.
var ErrNoKeys = errors.New("no sealed-secrets key Secrets (type kubernetes.io/tls with tls.key)")

// ParseKeys reads the output of
//
//	kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml
//
// (a List, or Secret documents): every key, the active one and those
// rotated out alike. Errors name the file, document and field; they never
// quote key material.
func ParseKeys(file string, data []byte) ([]*Key, error) {
	s, err := manifest.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []*Key
	for _, d := range s.Docs {
		if d.Kind != manifest.KindSecret {
			continue
		}
		vals, err := d.Plain()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		der, ok := vals["tls.key"]
		if !ok {
			continue
		}
		k, err := parseKey(der)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, d.Err(fmt.Errorf("data.tls.key: %w", err)))
		}
		k.Secret = d.Object()
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", file, ErrNoKeys)
	}
	return out, nil
}

// parseKey reads a PEM private key as the controller writes it (PKCS#1),
// or PKCS#8 holding an RSA key.
func parseKey(b []byte) (*Key, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("not a PEM private key")
	}
	var priv *rsa.PrivateKey
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, errors.New("malformed RSA private key")
		}
		priv = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, errors.New("malformed PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("a %T: sealed-secrets keys are RSA; kseal cannot use this key", k)
		}
		priv = rk
	default:
		return nil, fmt.Errorf("PEM block %q: sealed-secrets keys are RSA (RSA PRIVATE KEY); kseal cannot use this key", blk.Type)
	}
	sp, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Key{Fingerprint: ssh.FingerprintSHA256(sp), priv: priv}, nil
}
