// Package gcpkms is the Google Cloud KMS key provider. A data key is wrapped
// with Encrypt and unwrapped with Decrypt on a CryptoKey; the object's
// binding (scope, namespace, name) is the additional authenticated data, and
// the CRC32C integrity fields of the API are sent and checked both ways.
//
// Recipient syntax:
//
//	gcpkms:projects/P/locations/L/keyRings/R/cryptoKeys/K
//
// Credentials are Application Default Credentials (Workload Identity in a
// cluster). KSEAL_GCP_KMS_ENDPOINT (host:port) overrides the endpoint, and
// KSEAL_GCP_KMS_INSECURE=true talks plaintext gRPC without credentials to
// it (tests use the server in internal/kmstest).
package gcpkms

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	kms "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"kseal.dev/kseal/pkg/keys"
)

// Type is the stanza type of GCP KMS wraps; Prefix starts its recipients.
const (
	Type   = "gcpkms"
	Prefix = "gcpkms:"
)

// Environment variables for tests and private endpoints.
const (
	EnvEndpoint = "KSEAL_GCP_KMS_ENDPOINT"
	EnvInsecure = "KSEAL_GCP_KMS_INSECURE"
)

// MaxAttempts bounds retries of throttled or unavailable calls.
const MaxAttempts = 6

var resourceName = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)

func init() {
	keys.Register(keys.Provider{
		Name:              Type,
		RecipientPrefixes: []string{Prefix},
		ParseRecipient:    ParseRecipient,
		Source: func(context.Context) ([]keys.Identity, error) {
			return []keys.Identity{&Identity{}}, nil
		},
		// Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS
		// (and GOOGLE_* of the other Google tools), gcloud's CLOUDSDK_*
		// (its config directory, access token files), GCE_METADATA_*
		// (where the metadata server that hands out tokens is), and this
		// provider's own KSEAL_GCP_KMS_* endpoint settings.
		CredentialEnv: []string{"GOOGLE_", "CLOUDSDK_", "GCE_METADATA_", "KSEAL_GCP_"},
		Renderers:     []keys.RendererInfo{renderInfo},
		Principals:    &keys.PrincipalMatcher{Name: "a GCP IAM member (serviceAccount:/user:/group:…)", Match: IsPrincipal},
		// gcpKms may leave out the "gcpkms:" prefix.
		KeyAliases: []keys.KeyAlias{{Field: "gcpKms", Recipient: func(v string) string { return Prefix + strings.TrimPrefix(v, Prefix) }}},
		IdentityAliases: []keys.IdentityAlias{{Field: "gcpServiceAccount", Identity: func(v string) string {
			return "serviceAccount:" + strings.TrimPrefix(v, "serviceAccount:")
		}}},
	})
}

// Recipient is a CryptoKey to wrap data keys with.
type Recipient struct {
	Name string // projects/…/cryptoKeys/…
}

var _ keys.Recipient = (*Recipient)(nil)

// ParseRecipient parses "gcpkms:projects/…/cryptoKeys/…".
func ParseRecipient(s string) (keys.Recipient, error) {
	name := strings.TrimPrefix(s, Prefix)
	if !resourceName.MatchString(name) {
		return nil, fmt.Errorf("GCP KMS recipient %q: want gcpkms:projects/P/locations/L/keyRings/R/cryptoKeys/K", s)
	}
	return &Recipient{Name: name}, nil
}

// Describe says what the recipient is, for kseal policy explain.
func (r *Recipient) Describe() string { return "GCP KMS key " + r.Name }

// KeyID is the CryptoKey resource name.
func (r *Recipient) KeyID() string { return r.Name }

// StanzaType returns the stanza type of GCP KMS wraps.
func (r *Recipient) StanzaType() string { return Type }

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) *wrapperspb.Int64Value {
	return wrapperspb.Int64(int64(crc32.Checksum(b, crcTable)))
}

// aad is the binding in canonical form.
func aad(b keys.Binding) []byte { return []byte(b.String()) }

// Wrap encrypts dek with the binding as additional authenticated data.
func (r *Recipient) Wrap(ctx context.Context, dek []byte, b keys.Binding) (*keys.Stanza, error) {
	c, err := client(ctx)
	if err != nil {
		return nil, err
	}
	ad := aad(b)
	resp, err := c.Encrypt(ctx, &kmspb.EncryptRequest{
		Name: r.Name, Plaintext: dek, PlaintextCrc32C: crc(dek),
		AdditionalAuthenticatedData: ad, AdditionalAuthenticatedDataCrc32C: crc(ad),
	}, retrying())
	if err != nil {
		return nil, describe(r.Name, "Encrypt", err)
	}
	switch {
	case !resp.VerifiedPlaintextCrc32C || !resp.VerifiedAdditionalAuthenticatedDataCrc32C:
		return nil, integrity(r.Name, "Encrypt", "the service did not verify the request checksums")
	case resp.CiphertextCrc32C == nil || resp.CiphertextCrc32C.Value != crc(resp.Ciphertext).Value:
		return nil, integrity(r.Name, "Encrypt", "ciphertext checksum mismatch")
	}
	return &keys.Stanza{Type: Type, KeyID: r.Name, Body: resp.Ciphertext}, nil
}

// Identity unwraps every gcpkms stanza with Application Default Credentials.
type Identity struct{}

// Remote reports that unwrapping calls the KMS.
func (Identity) Remote() bool { return true }

// Unwrap decrypts a gcpkms stanza with the binding recomputed from the object.
func (Identity) Unwrap(ctx context.Context, s *keys.Stanza, b keys.Binding) ([]byte, error) {
	if s.Type != Type {
		return nil, keys.ErrIncorrectIdentity
	}
	if !resourceName.MatchString(s.KeyID) {
		return nil, fmt.Errorf("GCP KMS stanza: malformed key name %q", s.KeyID)
	}
	c, err := client(ctx)
	if err != nil {
		return nil, err
	}
	ad := aad(b)
	resp, err := c.Decrypt(ctx, &kmspb.DecryptRequest{
		Name: s.KeyID, Ciphertext: s.Body, CiphertextCrc32C: crc(s.Body),
		AdditionalAuthenticatedData: ad, AdditionalAuthenticatedDataCrc32C: crc(ad),
	}, retrying())
	if err != nil {
		return nil, describe(s.KeyID, "Decrypt", err)
	}
	if resp.PlaintextCrc32C == nil || resp.PlaintextCrc32C.Value != crc(resp.Plaintext).Value {
		return nil, integrity(s.KeyID, "Decrypt", "plaintext checksum mismatch")
	}
	if len(resp.Plaintext) != 32 {
		return nil, fmt.Errorf("GCP KMS key %s: Decrypt returned %d bytes, want a 32-byte data key", s.KeyID, len(resp.Plaintext))
	}
	return resp.Plaintext, nil
}

var shared struct {
	sync.Mutex
	c *kms.KeyManagementClient
}

// newClient is kms.NewKeyManagementClient; tests replace it.
var newClient = kms.NewKeyManagementClient

// client returns the client shared by every call, creating it on first
// use. A failure to create it is returned to that caller and not kept: the
// next call tries again (credentials may appear, an endpoint come up), so a
// long-running process never stays broken by one early failure.
func client(ctx context.Context) (*kms.KeyManagementClient, error) {
	shared.Lock()
	defer shared.Unlock()
	if shared.c != nil {
		return shared.c, nil
	}
	var opts []option.ClientOption
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		opts = append(opts, option.WithEndpoint(ep))
		if os.Getenv(EnvInsecure) == "true" {
			opts = append(opts, option.WithoutAuthentication(), option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
		}
	}
	// The client outlives ctx: it is shared by every call.
	c, err := newClient(context.WithoutCancel(ctx), opts...)
	if err != nil {
		return nil, fmt.Errorf("GCP KMS client: %w", err)
	}
	shared.c = c
	return c, nil
}

// retryer retries throttling and unavailability a bounded number of times
// with gax's jittered exponential backoff.
type retryer struct {
	n       int
	backoff gax.Backoff
}

func (r *retryer) Retry(err error) (time.Duration, bool) {
	switch status.Code(err) {
	case codes.ResourceExhausted, codes.Unavailable, codes.DeadlineExceeded:
	default:
		return 0, false
	}
	r.n++
	if r.n >= MaxAttempts {
		return 0, false
	}
	return r.backoff.Pause(), true
}

// backoff is the retry schedule: jittered, doubling from 50 ms to 2 s.
// Tests shorten it (export_test.go).
var backoff = gax.Backoff{Initial: 50 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2}

func retrying() gax.CallOption {
	b := backoff
	return gax.WithRetry(func() gax.Retryer {
		return &retryer{backoff: b}
	})
}

// integrity is a checksum mismatch in transit: the bytes were damaged on
// the way, so a retry may succeed.
func integrity(key, op, msg string) error {
	return &keys.Error{Provider: "GCP KMS", Key: key, Op: op, Kind: keys.KindUnavailable, Reason: "integrity check failed in transit", Err: errors.New(msg)}
}

// describe classifies a gRPC error as a *keys.Error.
func describe(key, op string, err error) error {
	st, _ := status.FromError(err)
	e := &keys.Error{Provider: "GCP KMS", Key: key, Op: op, Kind: keys.KindFailed, Err: errors.New(st.Code().String() + ": " + st.Message())}
	switch st.Code() {
	case codes.PermissionDenied, codes.Unauthenticated:
		e.Kind = keys.KindAccessDenied
	case codes.NotFound:
		e.Kind = keys.KindNotFound
	case codes.InvalidArgument:
		e.Kind, e.Reason = keys.KindWrongBinding, "wrong additional authenticated data or ciphertext (moved object, or tampered wrap)"
	case codes.FailedPrecondition:
		e.Kind = keys.KindDisabled
	case codes.ResourceExhausted, codes.Unavailable, codes.DeadlineExceeded, codes.Internal, codes.Unknown, codes.Canceled:
		e.Kind, e.Reason = keys.KindUnavailable, "throttled or unavailable"
	}
	return e
}
