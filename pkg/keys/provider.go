package keys

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// The optional abilities below let a provider take part in `kseal policy
// explain` and `kseal policy render` from its own package: nothing outside
// it switches over provider types.

// A Describer is a Recipient that says what it is, for people: "AWS KMS key
// arn:…", "age key". `kseal policy explain` prints it.
type Describer interface {
	Describe() string
}

// Describe returns r's own description, or its stanza type and key ID.
func Describe(r Recipient) string {
	if d, ok := r.(Describer); ok {
		return d.Describe()
	}
	if t, ok := r.(TypedRecipient); ok {
		return t.StanzaType() + " " + r.KeyID()
	}
	return r.KeyID()
}

// A Plan is the policy as a key service's access control needs it: per key,
// who may wrap to it and who may unwrap from it, and under which binding.
// pkg/policy builds it from kseal.yaml; a Renderer turns it into the key
// service's own policy language.
type Plan struct {
	Keys []PlanKey
	// Controllers are the identities the clusters' controllers use at key
	// services (an IAM role ARN, a GCP service account member, …), for
	// every provider; a renderer keeps the ones it recognises.
	Controllers []string
}

// PlanKey is one named key of the policy that is not a cluster key.
type PlanKey struct {
	Name      string
	Recipient Recipient
	Grants    []PlanGrant
}

// PlanGrant is one rule granting a key: a service's own secrets, or one
// shared secret of several services.
type PlanGrant struct {
	Rule     string        // "service orders", "shared webhook": unique per key
	Shared   string        // the shared secret's name; "" for a service grant
	Services []PlanService // the service, or the shared entry's services
	// Binding lists, per binding key (kseal-scope, kseal-namespace,
	// kseal-name), the values a wrap may be bound to under this grant; a
	// key service that can check the binding should require one of them.
	Binding map[string][]string
}

// PlanService is a service as a grant names it.
type PlanService struct {
	Name            string
	Namespaces      []string
	ServiceAccounts []string
	Writers         []string // may seal outside the cluster
	Readers         []string // may open outside the cluster
	// Settings are the service's per-provider settings from kseal.yaml
	// (services.NAME.providers.PROVIDER), each validated by the provider
	// that registered PROVIDER; nil when the service sets none.
	Settings map[string]map[string]string
}

// A Renderer turns a Plan into the key service's own access policy for
// the keys of its provider (it picks them by recipient type), as a
// JSON-encodable value. opts holds `kseal policy render --set KEY=VALUE`
// options; a renderer refuses options it does not know.
type Renderer interface {
	Render(p *Plan, opts map[string]string) (any, error)
}

// RendererInfo documents a render target for `kseal policy render --help`.
type RendererInfo struct {
	Target   string // "aws"
	Summary  string // one line: what it prints and how to apply it
	Options  []string
	Renderer Renderer
}

var renderers = map[string]RendererInfo{}

// LookupRenderer returns the renderer registered for target.
func LookupRenderer(target string) (RendererInfo, bool) {
	registry.RLock()
	defer registry.RUnlock()
	r, ok := renderers[target]
	return r, ok
}

// Renderers lists the registered render targets, sorted.
func Renderers() []RendererInfo {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]RendererInfo, 0, len(renderers))
	for _, r := range renderers {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	return out
}

// A PrincipalMatcher recognises the identities one provider's access
// control names (writers, readers and controller identities in kseal.yaml):
// "arn:aws:iam::…" for AWS, "serviceAccount:…" for GCP.
type PrincipalMatcher struct {
	Name  string // "AWS IAM role ARN"
	Match func(id string) bool
}

var principals = map[string]PrincipalMatcher{}

// PrincipalKind returns the name of the registered kind that matches id,
// or "".
func PrincipalKind(id string) string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(principals))
	for n := range principals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if principals[n].Match(id) {
			return n
		}
	}
	return ""
}

// PrincipalKinds lists the registered identity kinds, for errors.
func PrincipalKinds() string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(principals))
	for n := range principals {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none registered"
	}
	return strings.Join(names, ", ")
}

// A SettingsValidator checks a service's settings for one provider
// (services.NAME.providers.PROVIDER in kseal.yaml, e.g. the Vault role
// the service logs in as). It names the setting at fault, never a value
// that could be secret.
type SettingsValidator func(settings map[string]string) error

var serviceSettings = map[string]SettingsValidator{}

// ValidateServiceSettings checks a service's settings for provider, which
// must have registered them.
func ValidateServiceSettings(provider string, settings map[string]string) error {
	registry.RLock()
	v, ok := serviceSettings[provider]
	known := make([]string, 0, len(serviceSettings))
	for n := range serviceSettings {
		known = append(known, n)
	}
	registry.RUnlock()
	if !ok {
		sort.Strings(known)
		if len(known) == 0 {
			return fmt.Errorf("no provider named %q takes service settings (none does in this build)", provider)
		}
		return fmt.Errorf("no provider named %q takes service settings (known: %s)", provider, strings.Join(known, ", "))
	}
	return v(settings)
}

// UnknownOptions returns an error naming the options in opts that are not
// in known, for renderers.
func UnknownOptions(opts map[string]string, known ...string) error {
	var bad []string
	for k := range opts {
		found := false
		for _, kn := range known {
			found = found || k == kn
		}
		if !found {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("unknown option %q (known: %s)", bad[0], strings.Join(known, ", "))
}

// SortedSet returns the distinct strings of s in sorted order, in a new
// slice, for renderers that list principals.
func SortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
