package cli

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
	"kseal.dev/kseal/pkg/policy"
)

// recipientSource decides, per document, the scope and recipients to seal to:
// from kseal.yaml (found upward from the file, like .sops.yaml) when it
// covers the file, from flags otherwise.
type recipientSource struct {
	rcpt     recipientFlags
	scope    scopeFlag
	policy   string
	noPolicy bool

	mu       sync.Mutex
	policies map[string]*policy.Policy

	flagOnce  sync.Once
	flagRcpts []keys.Recipient
	flagErr   error
}

// fromFlags resolves the recipient flags once per run, not once per object.
func (s *recipientSource) fromFlags(e *env) ([]keys.Recipient, error) {
	s.flagOnce.Do(func() { s.flagRcpts, s.flagErr = s.rcpt.resolve(e) })
	return s.flagRcpts, s.flagErr
}

func (s *recipientSource) register(cmd *cobra.Command, withScope bool) {
	s.rcpt.register(cmd)
	if withScope {
		s.scope.register(cmd, scopeUsage)
	}
	cmd.Flags().StringVar(&s.policy, "policy", "", "policy file (default: kseal.yaml found upward from each file)")
	cmd.Flags().BoolVar(&s.noPolicy, "no-policy", false, "ignore kseal.yaml; recipients come from flags")
}

func (s *recipientSource) flagsGiven(e *env) bool {
	return len(s.rcpt.recipients) > 0 || len(s.rcpt.files) > 0 || e.getenv(EnvRecipientsFile) != ""
}

// policyFor returns the policy governing file, or nil.
func (s *recipientSource) policyFor(file string) (*policy.Policy, error) {
	if s.noPolicy {
		return nil, nil
	}
	path := s.policy
	if path == "" {
		dir := "."
		if file != "" {
			dir = filepath.Dir(file)
		}
		var err error
		if path, err = policy.FindOne(dir); err != nil || path == "" {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.policies[path]; ok {
		return p, nil
	}
	p, err := policy.Load(path)
	if err != nil {
		return nil, err
	}
	if s.policies == nil {
		s.policies = map[string]*policy.Policy{}
	}
	s.policies[path] = p
	return p, nil
}

// resolve returns the scope and recipients for document d of file. The
// scope is --scope when given, else def ("" is strict), except that a
// shared entry of the policy turns a strict default into shared.
func (s *recipientSource) resolve(e *env, file string, d *manifest.Doc, def crypto.Scope) (crypto.Scope, []keys.Recipient, error) {
	scope := s.scope.or(def)
	if scope == "" {
		scope = crypto.ScopeStrict
	}
	p, err := s.policyFor(file)
	if err != nil {
		return "", nil, err
	}
	if p == nil {
		rcpts, err := s.fromFlags(e)
		return scope, rcpts, err
	}
	rule, err := p.RuleFor(file)
	if err != nil {
		return "", nil, err
	}
	if rule == nil {
		if s.flagsGiven(e) {
			rcpts, err := s.fromFlags(e)
			return scope, rcpts, err
		}
		return "", nil, hintError{fmt.Errorf("no service or shared entry in %s covers this file", p.Path), "add the file's directory to a service's paths, or pass --recipient"}
	}
	if s.flagsGiven(e) {
		return "", nil, hintError{fmt.Errorf("%s decides the recipients of this file (%s); --recipient and --recipients-file are refused", p.Path, rule), "drop them, change the policy, or pass --no-policy"}
	}
	if d != nil {
		if err := p.CheckObject(rule, d.Node().GetNamespace(), d.Node().GetName()); err != nil {
			if d.Node().GetNamespace() == "" {
				return "", nil, fmt.Errorf("refused by policy: %w", errNoNamespace)
			}
			return "", nil, fmt.Errorf("refused by policy: %w", err)
		}
	}
	if rule.Shared != nil && !s.scope.given() && scope == crypto.ScopeStrict {
		// Bound to its name: it opens in the sharing services' namespaces
		// and nowhere under another name.
		scope = crypto.ScopeShared
	}
	rcpts, err := p.Recipients(rule.Keys)
	return scope, rcpts, err
}

// fileName is the path a document was read from ("" for standard input).
func fileName(in *input) string {
	if in == nil {
		return ""
	}
	return in.path
}

// recipients returns the recipients for document d of file: resolve's,
// when only they matter (the object's scope is already sealed).
func (s *recipientSource) recipients(e *env, file string, d *manifest.Doc) ([]keys.Recipient, error) {
	_, rcpts, err := s.resolve(e, file, d, "")
	return rcpts, err
}

// pool is the recipients given by flags, if any: public keys to look key
// IDs up in.
func (s *recipientSource) pool(e *env) ([]keys.Recipient, error) {
	if !s.flagsGiven(e) {
		return nil, nil
	}
	return s.fromFlags(e)
}
