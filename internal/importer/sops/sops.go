// Package sops opens sops-encrypted Kubernetes manifests by running the
// user's own sops binary (`sops --decrypt`), so `kseal import sops` can seal
// their Secrets again in kseal's format.
//
// sops decides everything about opening a file: which keys it finds (its
// own environment: SOPS_AGE_KEY_FILE, GNUPGHOME, the AWS, GCP and Azure
// credential chains, VAULT_ADDR, …), and whether the MAC over every value
// holds. A file sops refuses is refused; kseal links none of sops' key
// services (TestKsealDoesNotLinkSops guards that).
package sops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest"
)

// EnvBinary names the sops binary to run instead of the first sops on PATH.
const EnvBinary = "KSEAL_SOPS"

// Sentinel errors.
var (
	// ErrMAC: the values or their order changed since sops encrypted the
	// file, or the MAC itself was altered (sops exit status 51 or 24).
	ErrMAC = errors.New("sops MAC does not match: the file was changed after sops encrypted it")
	// ErrNoMAC: the file carries sops metadata but no MAC. sops refuses to
	// decrypt it without --ignore-mac; kseal import refuses it always.
	ErrNoMAC = errors.New("sops metadata without a MAC: sops refuses to decrypt such a file (its values could have been changed), and so does kseal import")
	// ErrNoBinary: no sops binary to run.
	ErrNoBinary = errors.New("sops not found: kseal import sops runs the sops binary (install it, or set " + EnvBinary + " to its path)")
)

// sopsMeta are keys only sops' metadata mapping has: one of them makes a
// top-level `sops:` mapping sops' own.
var sopsMeta = []string{"mac", "version", "lastmodified"}

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
	if f == nil || f.Value.YNode().Kind != yaml.MappingNode {
		return nil
	}
	for _, k := range sopsMeta {
		if f.Value.Field(k) != nil {
			return f.Value
		}
	}
	return nil
}

// Encrypted reports whether sops encrypted the document: it carries sops'
// top-level metadata mapping (with or without a MAC).
func Encrypted(d *manifest.Doc) bool { return metadata(d) != nil }

// CheckMAC refuses a sops document that carries no MAC, before any key is
// asked for: sops refuses it too, but only once it holds the data key.
func CheckMAC(d *manifest.Doc) error {
	md := metadata(d)
	if md == nil {
		return fmt.Errorf("doc %d: no sops metadata", d.Index)
	}
	if f := md.Field("mac"); f == nil || strings.TrimSpace(yaml.GetValue(f.Value)) == "" {
		return fmt.Errorf("doc %d: %w", d.Index, ErrNoMAC)
	}
	return nil
}

// dotenvMeta matches the metadata lines sops writes into a dotenv file.
var dotenvMeta = regexp.MustCompile(`(?m)^sops_(mac|version|lastmodified)=`)

// Dotenv reports whether data is a dotenv file sops encrypted.
func Dotenv(data []byte) bool { return dotenvMeta.Match(data) }

// Document reports whether a value holds a sops-encrypted document (YAML,
// JSON or dotenv): a Secret that carries one passes sops' ciphertext on
// instead of a value.
func Document(v []byte) bool {
	s := string(v)
	if !strings.Contains(s, "ENC[AES256_GCM,") && !strings.Contains(s, "sops") {
		return false
	}
	if Dotenv(v) || strings.Contains(s, "ENC[AES256_GCM,data:") {
		return true
	}
	n, err := yaml.Parse(s)
	if err != nil || n.YNode().Kind != yaml.MappingNode {
		return false
	}
	f := n.Field("sops")
	if f == nil || f.Value.YNode().Kind != yaml.MappingNode {
		return false
	}
	for _, k := range sopsMeta {
		if f.Value.Field(k) != nil {
			return true
		}
	}
	return false
}

// Binary is the sops binary to run: $KSEAL_SOPS, else sops on PATH.
func Binary(getenv func(string) string) (string, error) {
	if p := getenv(EnvBinary); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("sops")
	if err != nil {
		return "", ErrNoBinary
	}
	return p, nil
}

// sops' documented exit statuses (github.com/getsops/sops/v3/cmd/sops/codes).
const (
	exitDecryptingMac = 24
	exitMacMismatch   = 51
	exitMacNotFound   = 52
)

// longHex matches a MAC or a hash sops may quote.
var longHex = regexp.MustCompile(`[0-9A-Fa-f]{64,}`)

// maxDetail bounds how much of sops' own error text is passed on.
const maxDetail = 4096

// Decrypt runs `sops --decrypt` over data (a whole file: sops computes one
// MAC over the file) with the given format (yaml or json) and returns its
// cleartext. sops runs with kseal's environment, so it finds the user's
// keys as it always does. sops' error text is passed on (it names the keys
// it tried), except on a MAC mismatch, where it quotes the MAC of the
// cleartext: a hash of every value, which must not reach logs.
func Decrypt(ctx context.Context, bin string, data []byte, format string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, "--decrypt", "--input-type", format, "--output-type", format, "/dev/stdin")
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(os.Environ(), "SOPS_DISABLE_VERSION_CHECK=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err == nil {
		return out.Bytes(), nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNoBinary, bin)
		}
		return nil, fmt.Errorf("sops: running %s: %w", bin, err)
	}
	switch ee.ExitCode() {
	case exitMacMismatch, exitDecryptingMac:
		if strings.Contains(errb.String(), "has no MAC") {
			return nil, ErrNoMAC
		}
		return nil, ErrMAC
	case exitMacNotFound:
		return nil, ErrNoMAC
	}
	// A message about the MAC may quote it: long hex strings go.
	detail := longHex.ReplaceAllString(oneLine(errb.String()), "[hex]")
	if len(detail) > maxDetail {
		detail = detail[:maxDetail] + " …"
	}
	return nil, fmt.Errorf("sops exited with status %d: %s", ee.ExitCode(), detail)
}

// oneLine joins sops' multi-line report (one line per key tried) into one
// line: kseal prints errors on one line each.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}
