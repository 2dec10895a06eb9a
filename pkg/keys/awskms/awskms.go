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
	keys.Register(keys.Provider{
		Name:              Type,
		RecipientPrefixes: []string{"arn:aws:kms:", "arn:aws-cn:kms:", "arn:aws-us-gov:kms:"},
		ParseRecipient:    ParseRecipient,
		Source: func(context.Context) ([]keys.Identity, error) {
			return []keys.Identity{defaultIdentity}, nil
		},
		// The SDK's credential chain reads only AWS_* variables: keys and
		// session tokens, profiles, credential and config files, web
		// identity token files, container credential URLs and tokens,
		// endpoints.
		CredentialEnv:   []string{"AWS_"},
		Renderers:       []keys.RendererInfo{renderInfo},
		Principals:      &keys.PrincipalMatcher{Name: "an AWS IAM ARN (arn:aws:iam::…)", Match: IsPrincipal},
		KeyAliases:      []keys.KeyAlias{{Field: "awsKms", Recipient: func(v string) string { return v }}},
		IdentityAliases: []keys.IdentityAlias{{Field: "awsRole", Identity: func(v string) string { return v }}},
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

// Describe says what the recipient is, for kseal policy explain.
func (r *Recipient) Describe() string { return "AWS KMS key " + r.ARN }

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

// backoff, when set, replaces the SDK's jittered exponential backoff
// between retries (SetBackoff; tests use a zero delay).
var backoff retry.BackoffDelayer

// BackoffFunc is a retry delay as a function of the attempt (1 for the
// first retry) and the error that caused it.
type BackoffFunc func(attempt int, err error) (time.Duration, error)

// BackoffDelay implements retry.BackoffDelayer.
func (f BackoffFunc) BackoffDelay(attempt int, err error) (time.Duration, error) {
	return f(attempt, err)
}

// SetBackoff replaces the delay between retries for clients created from
// now on (nil restores the SDK's default) and drops the cached clients. The
// number of attempts stays MaxAttempts. Tests pass a zero delay so that
// throttling runs do not wait for real.
func SetBackoff(f BackoffFunc) {
	clients.mu.Lock()
	defer clients.mu.Unlock()
	if f == nil {
		backoff = nil
	} else {
		backoff = f
	}
	clients.m = map[string]*kms.Client{}
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
				if backoff != nil {
					o.Backoff = backoff
				}
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

// describe classifies an SDK error as a *keys.Error.
func describe(key, op string, err error) error {
	e := &keys.Error{Provider: "AWS KMS", Key: key, Op: op, Kind: keys.KindFailed, Err: err}
	var api smithy.APIError
	if errors.As(err, &api) {
		// Keep the service's code and message; drop the request's bytes.
		e.Err = errors.New(api.ErrorCode() + ": " + api.ErrorMessage())
		switch api.ErrorCode() {
		case "AccessDeniedException":
			e.Kind = keys.KindAccessDenied
		case "NotFoundException":
			e.Kind = keys.KindNotFound
		case "InvalidCiphertextException", "IncorrectKeyException":
			e.Kind, e.Reason = keys.KindWrongBinding, "wrong encryption context or ciphertext (moved object, or tampered wrap)"
		case "DisabledException", "KMSInvalidStateException":
			e.Kind, e.Reason = keys.KindDisabled, "key disabled or pending deletion"
		case "ThrottlingException", "LimitExceededException", "KMSInternalException", "DependencyTimeoutException", "ServiceUnavailable":
			e.Kind, e.Reason = keys.KindUnavailable, "throttled or unavailable"
		}
		return e
	}
	// Network errors, timeouts, 5xx and exhausted retries: worth retrying
	// later.
	e.Kind = keys.KindUnavailable
	return e
}
