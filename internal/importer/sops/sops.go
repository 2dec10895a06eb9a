// Package sops opens sops-encrypted Kubernetes manifests with sops' own
// decrypt package (github.com/getsops/sops/v3/decrypt, the one package sops
// keeps stable), so `kseal import sops` can seal their Secrets again in
// kseal's format.
//
// Keys come from where sops looks for them: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY
// and ~/.config/sops/age/keys.txt for age; the AWS credential chain (and
// AWS_ENDPOINT_URL_KMS) for AWS KMS; GOOGLE_APPLICATION_CREDENTIALS,
// GOOGLE_OAUTH_ACCESS_TOKEN and SOPS_GCP_KMS_ENDPOINT for GCP KMS. sops
// verifies its MAC over every value of the file before anything is returned.
//
// This package is imported by the kseal CLI only: sops brings every key
// service it supports, and kseal-controller must not carry them
// (TestControllerDoesNotLinkSops guards that).
package sops

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/getsops/sops/v3/decrypt"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest"
)

// Sentinel errors.
var (
	// ErrMAC: the values or their order changed since sops encrypted the
	// file, or the MAC itself was altered.
	ErrMAC = errors.New("sops MAC does not match: the file was changed after sops encrypted it")
	// ErrKeyType: the file is encrypted only to key services kseal's
	// import does not read.
	ErrKeyType = errors.New("encrypted only to key types kseal import cannot use (it reads age, AWS KMS and GCP KMS)")
)

// usable are the sops metadata keys of the key services the import reads.
var usable = []string{"age", "kms", "gcp_kms"}

// others are the sops key services it does not.
var others = []string{"pgp", "azure_kv", "hc_vault", "hckms"}

// metadata returns the sops metadata mapping of the document, or nil. It
// reads the document's text: with sops' defaults even apiVersion and kind
// are ciphertext, so kseal's parser sees no Secret.
func metadata(d *manifest.Doc) *yaml.RNode {
	if !strings.Contains(d.Raw(), "sops") {
		return nil
	}
	n, err := yaml.Parse(d.Raw())
	if err != nil || n.YNode().Kind != yaml.MappingNode {
		return nil
	}
	f := n.Field("sops")
	if f == nil || f.Value.YNode().Kind != yaml.MappingNode || f.Value.Field("mac") == nil {
		return nil
	}
	return f.Value
}

// Encrypted reports whether sops encrypted the document: it carries sops'
// top-level metadata mapping.
func Encrypted(d *manifest.Doc) bool { return metadata(d) != nil }

// CheckKeys refuses a document whose sops metadata names no key service the
// import can use. It reads metadata only.
func CheckKeys(d *manifest.Doc) error {
	md := metadata(d)
	if md == nil {
		return fmt.Errorf("doc %d: %w", d.Index, errors.New("no sops metadata"))
	}
	var found []string
	for _, k := range usable {
		if f := md.Field(k); f != nil && len(f.Value.YNode().Content) > 0 {
			return nil
		}
	}
	if kg := md.Field("key_groups"); kg != nil {
		for _, g := range kg.Value.YNode().Content {
			for i := 0; i+1 < len(g.Content); i += 2 {
				if slices.Contains(usable, g.Content[i].Value) && len(g.Content[i+1].Content) > 0 {
					return nil
				}
				found = append(found, g.Content[i].Value)
			}
		}
	}
	for _, k := range others {
		if f := md.Field(k); f != nil && len(f.Value.YNode().Content) > 0 {
			found = append(found, k)
		}
	}
	slices.Sort(found)
	return fmt.Errorf("doc %d: sops: %w: found %s", d.Index, ErrKeyType, strings.Join(slices.Compact(found), ", "))
}

// Decrypt opens a whole sops YAML file (every document: sops computes one
// MAC over the file) and returns its cleartext, one document per document
// of data, in order.
func Decrypt(data []byte) (out []byte, err error) {
	defer func() {
		// Third-party code fed input from git.
		if r := recover(); r != nil {
			out, err = nil, errors.New("sops: decrypting failed (parser panic)")
		}
	}()
	out, err = decrypt.Data(data, "yaml")
	if err != nil {
		msg := err.Error()
		// sops' message quotes the MAC of the cleartext: a hash of every
		// value, which must not reach logs.
		if strings.Contains(msg, "Failed to verify data integrity") || strings.Contains(msg, "Failed to decrypt original mac") {
			return nil, ErrMAC
		}
		return nil, fmt.Errorf("sops: %s%s", msg, keyDetails(err))
	}
	return out, nil
}

// keyDetails is what sops tells a user about each key it tried (its
// UserError, less the header and the trailer that explain key groups).
func keyDetails(err error) string {
	var ue interface{ UserError() string }
	if !errors.As(err, &ue) {
		return ""
	}
	parts := strings.Split(strings.TrimSpace(ue.UserError()), "\n\n")
	if len(parts) < 3 {
		return ""
	}
	return ":\n" + strings.Join(parts[1:len(parts)-1], "\n")
}
