// Package awskms is the AWS KMS key provider. A data key is wrapped with
// kms:Encrypt and unwrapped with kms:Decrypt; the object's binding (scope,
// namespace, name) is the encryption context, so IAM conditions on
// kms:EncryptionContext:kseal-namespace can restrict a role to its own
// namespace. The context is recomputed from the object at open time.
//
// Recipient syntax:
//
//	arn:aws:kms:REGION:ACCOUNT:key/KEY-ID
//	arn:aws:kms:REGION:ACCOUNT:alias/NAME
//	…[+arn:aws:iam::ACCOUNT:role/ROLE]   seal under an assumed role
//	…[;profile=NAME]                     use a named profile
//
// Credentials come from the standard chain (environment, shared config and
// profiles, web identity / IRSA, container and instance roles); the region
// from the ARN. AWS_ENDPOINT_URL_KMS or AWS_ENDPOINT_URL overrides the
// endpoint (tests use the protocol-level server in internal/kmstest).
package awskms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"kseal.dev/kseal/pkg/keys"
)

// Type is the stanza type of AWS KMS wraps.
const Type = "awskms"

// MaxAttempts and MaxBackoff bound the SDK's retries (throttling and
// transient errors are retried with jittered exponential backoff).
const (
	MaxAttempts = 6
	MaxBackoff  = 2 * time.Second
)

func init() {
	for _, p := range []string{"arn:aws:kms:", "arn:aws-cn:kms:", "arn:aws-us-gov:kms:"} {
		keys.RegisterRecipient(p, ParseRecipient)
	}
	keys.RegisterIdentitySource("awskms", func(context.Context) ([]keys.Identity, error) {
		return []keys.Identity{defaultIdentity}, nil
	})
}

// Recipient is an AWS KMS key to wrap data keys with.
type Recipient struct {
	ARN     string
	Region  string
	Role    string
	Profile string
}

var _ keys.Recipient = (*Recipient)(nil)

// ParseRecipient parses the recipient syntax of the package comment.
func ParseRecipient(s string) (keys.Recipient, error) {
	r := &Recipient{}
	rest := s
	if i := strings.Index(rest, ";profile="); i >= 0 {
		r.Profile = rest[i+len(";profile="):]
		rest = rest[:i]
		if r.Profile == "" {
			return nil, fmt.Errorf("AWS KMS recipient %q: empty profile", s)
		}
	}
	if i := strings.Index(rest, "+"); i >= 0 {
		r.Role = rest[i+1:]
		rest = rest[:i]
		if !strings.HasPrefix(r.Role, "arn:") || !strings.Contains(r.Role, ":role/") {
			return nil, fmt.Errorf("AWS KMS recipient %q: %q is not an IAM role ARN", s, r.Role)
		}
	}
	parts := strings.SplitN(rest, ":", 6)
	if len(parts) != 6 || parts[2] != "kms" || parts[3] == "" || !(strings.HasPrefix(parts[5], "key/") || strings.HasPrefix(parts[5], "alias/")) || len(parts[5]) < 5 {
		return nil, fmt.Errorf("AWS KMS recipient %q: want arn:aws:kms:REGION:ACCOUNT:key/ID or …:alias/NAME", s)
	}
	r.ARN, r.Region = rest, parts[3]
	return r, nil
}

// KeyID is the key (or alias) ARN.
func (r *Recipient) KeyID() string { return r.ARN }

// StanzaType returns the stanza type of AWS KMS wraps.
func (r *Recipient) StanzaType() string { return Type }

// Wrap encrypts dek under the key with the binding as encryption context.
func (r *Recipient) Wrap(ctx context.Context, dek []byte, b keys.Binding) (*keys.Stanza, error) {
	c, err := clients.get(ctx, r.Region, r.Role, r.Profile)
	if err != nil {
		return nil, err
	}
	out, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(r.ARN), Plaintext: dek, EncryptionContext: b})
	if err != nil {
		return nil, describe(r.ARN, "Encrypt", err)
	}
	return &keys.Stanza{Type: Type, KeyID: r.ARN, Body: out.CiphertextBlob}, nil
}

// Identity unwraps every awskms stanza with the ambient credentials.
type Identity struct {
	Profile string
}

var defaultIdentity = &Identity{}

// Remote reports that unwrapping calls the KMS.
func (i *Identity) Remote() bool { return true }

// Unwrap decrypts an awskms stanza, passing the binding recomputed from the
// object as encryption context.
func (i *Identity) Unwrap(ctx context.Context, s *keys.Stanza, b keys.Binding) ([]byte, error) {
	if s.Type != Type {
		return nil, keys.ErrIncorrectIdentity
	}
	r, err := ParseRecipient(s.KeyID)
	if err != nil {
		return nil, err
	}
	rc := r.(*Recipient)
	c, err := clients.get(ctx, rc.Region, "", i.Profile)
	if err != nil {
		return nil, err
	}
	out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: s.Body, KeyId: aws.String(rc.ARN), EncryptionContext: b})
	if err != nil {
		return nil, describe(rc.ARN, "Decrypt", err)
	}
	if len(out.Plaintext) != 32 {
		return nil, fmt.Errorf("AWS KMS key %s: Decrypt returned %d bytes, want a 32-byte data key", rc.ARN, len(out.Plaintext))
	}
	return out.Plaintext, nil
}

// clientCache shares one client per region, role and profile.
type clientCache struct {
	mu sync.Mutex
	m  map[string]*kms.Client
}

var clients = &clientCache{m: map[string]*kms.Client{}}

func (cc *clientCache) get(ctx context.Context, region, role, profile string) (*kms.Client, error) {
	key := region + "|" + role + "|" + profile
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if c, ok := cc.m[key]; ok {
		return c, nil
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = MaxAttempts
				o.MaxBackoff = MaxBackoff
				// Bulk runs meet throttling by design; the client-side
				// retry quota would turn that into failures.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if role != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "kseal"
		}))
	}
	c := kms.NewFromConfig(cfg)
	cc.m[key] = c
	return c, nil
}

// Error is a KMS failure, classified.
type Error struct {
	Key  string
	Op   string
	Kind string // "access denied", "key not found", "wrong encryption context or ciphertext", "throttled", "unavailable", "failed"
	Err  error
	temp bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("AWS KMS key %s: %s: %s: %v", e.Key, e.Op, e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes the error match keys.ErrAccessDenied or keys.ErrUnavailable.
func (e *Error) Is(target error) bool {
	return (target == keys.ErrAccessDenied && e.Kind == "access denied") || (target == keys.ErrUnavailable && e.temp)
}

// Temporary reports whether retrying later may succeed (throttling, outage).
func (e *Error) Temporary() bool { return e.temp }

func describe(key, op string, err error) error {
	e := &Error{Key: key, Op: op, Kind: "failed", Err: err}
	var api smithy.APIError
	if errors.As(err, &api) {
		// Keep the service's code and message; drop the request's bytes.
		e.Err = errors.New(api.ErrorCode() + ": " + api.ErrorMessage())
		switch api.ErrorCode() {
		case "AccessDeniedException":
			e.Kind = "access denied"
		case "NotFoundException":
			e.Kind = "key not found"
		case "InvalidCiphertextException", "IncorrectKeyException":
			e.Kind = "wrong encryption context or ciphertext (moved object, or tampered wrap)"
		case "DisabledException", "KMSInvalidStateException":
			e.Kind = "key disabled or pending deletion"
		case "ThrottlingException", "LimitExceededException", "KMSInternalException", "DependencyTimeoutException", "ServiceUnavailable":
			e.Kind, e.temp = "throttled or unavailable", true
		}
		return e
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		e.Kind, e.temp = "unavailable", true
		return e
	}
	// Network errors, timeouts and exhausted retries: worth retrying later.
	e.Kind, e.temp = "unavailable", true
	return e
}
