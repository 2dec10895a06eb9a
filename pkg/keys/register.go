package keys

import (
	"flag"
	"fmt"
	"strings"
)

// Provider is one key provider: everything it adds to kseal, in one value
// its package registers from init with Register. The fields follow the
// table in docs/providers.md; only Name and a way to seal or open are
// required.
type Provider struct {
	// Name names the provider everywhere: its identity source, its
	// settings in kseal.yaml (services.NAME.providers.<Name>), its
	// controller flags and its credential environment.
	Name string

	// RecipientPrefixes route recipient strings (--recipient, recipients
	// files, kseal.yaml keys) to ParseRecipient; the longest matching
	// prefix of all providers wins, so "age1pq1" and "age1" coexist.
	RecipientPrefixes []string
	ParseRecipient    RecipientParser

	// IdentityPrefixes route lines of identity files to ParseIdentity.
	IdentityPrefixes []string
	ParseIdentity    IdentityParser

	// Source finds the identities the provider can use without being told
	// (keys named by environment variables, a cloud credential chain).
	Source IdentitySource

	// CredentialEnv are the prefixes of the environment variables that
	// hold the provider's credentials or say where they are (see
	// CredentialEnvPrefixes); compared without regard to case.
	CredentialEnv []string

	// Renderers are `kseal policy render` targets for the key service's
	// own access policy.
	Renderers []RendererInfo

	// Principals recognises the identities the key service's access
	// control names (writers, readers, controller identities).
	Principals *PrincipalMatcher

	// ServiceSettings checks services.NAME.providers.<Name> in kseal.yaml.
	ServiceSettings SettingsValidator

	// ControllerFlags adds the provider's kseal-controller flags (how it
	// authenticates in the cluster); its Source reads them.
	ControllerFlags func(*flag.FlagSet)

	// KeyAliases are older kseal.yaml spellings of a key's recipient
	// (keys.NAME.awsKms) kept so existing policies parse.
	KeyAliases []KeyAlias

	// IdentityAliases are older kseal.yaml spellings of a cluster's
	// controller identity (clusters.NAME.awsRole).
	IdentityAliases []IdentityAlias
}

// A KeyAlias lets kseal.yaml write `keys.NAME.<Field>: VALUE` for
// `keys.NAME.recipient: Recipient(VALUE)`.
type KeyAlias struct {
	Field     string
	Recipient func(value string) string
}

// An IdentityAlias lets kseal.yaml write `clusters.NAME.<Field>: VALUE`
// for an entry Identity(VALUE) of clusters.NAME.identities.
type IdentityAlias struct {
	Field    string
	Identity func(value string) string
}

var (
	providers       = map[string]Provider{}
	keyAliases      = map[string]KeyAlias{}
	identityAliases = map[string]IdentityAlias{}
)

// Register adds a provider. It panics, as age's HandleRecipient does, when
// the provider's name or any of its prefixes, render targets, principal
// kinds or aliases is already taken: two providers answering for one
// string would make which one parses it depend on link order.
func Register(p Provider) {
	registry.Lock()
	defer registry.Unlock()
	if err := checkNew(p); err != nil {
		panic("keys.Register: " + err.Error())
	}
	providers[p.Name] = p
	for _, pre := range p.RecipientPrefixes {
		registry.recipients[pre] = p.ParseRecipient
	}
	for _, pre := range p.IdentityPrefixes {
		registry.identities[pre] = p.ParseIdentity
	}
	if p.Source != nil {
		registry.sources[p.Name] = p.Source
	}
	for _, pre := range p.CredentialEnv {
		credentialEnv[p.Name] = append(credentialEnv[p.Name], strings.ToUpper(pre))
	}
	for _, r := range p.Renderers {
		renderers[r.Target] = r
	}
	if p.Principals != nil {
		principals[p.Principals.Name] = *p.Principals
	}
	if p.ServiceSettings != nil {
		serviceSettings[p.Name] = p.ServiceSettings
	}
	if p.ControllerFlags != nil {
		flagBinders[p.Name] = p.ControllerFlags
	}
	for _, a := range p.KeyAliases {
		keyAliases[a.Field] = a
	}
	for _, a := range p.IdentityAliases {
		identityAliases[a.Field] = a
	}
}

// checkNew says what of p is incomplete or already registered.
func checkNew(p Provider) error {
	switch {
	case p.Name == "":
		return fmt.Errorf("a provider needs a name")
	case len(p.RecipientPrefixes) > 0 && p.ParseRecipient == nil,
		len(p.IdentityPrefixes) > 0 && p.ParseIdentity == nil:
		return fmt.Errorf("provider %q: prefixes without a parser", p.Name)
	}
	if _, ok := providers[p.Name]; ok {
		return fmt.Errorf("provider %q registered twice", p.Name)
	}
	taken := func(what string, ok bool, key string) error {
		if ok {
			return fmt.Errorf("provider %q: %s %q is taken", p.Name, what, key)
		}
		return nil
	}
	var errs []error
	for _, pre := range p.RecipientPrefixes {
		_, ok := registry.recipients[pre]
		errs = append(errs, taken("recipient prefix", ok, pre))
	}
	for _, pre := range p.IdentityPrefixes {
		_, ok := registry.identities[pre]
		errs = append(errs, taken("identity prefix", ok, pre))
	}
	for _, r := range p.Renderers {
		_, ok := renderers[r.Target]
		errs = append(errs, taken("render target", ok, r.Target))
	}
	if p.Principals != nil {
		_, ok := principals[p.Principals.Name]
		errs = append(errs, taken("principal kind", ok, p.Principals.Name))
	}
	for _, a := range p.KeyAliases {
		_, ok := keyAliases[a.Field]
		errs = append(errs, taken("kseal.yaml key field", ok, a.Field))
	}
	for _, a := range p.IdentityAliases {
		_, ok := identityAliases[a.Field]
		errs = append(errs, taken("kseal.yaml cluster field", ok, a.Field))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Providers lists the registered providers' names, sorted.
func Providers() []string {
	registry.RLock()
	defer registry.RUnlock()
	return sortedNames(providers)
}

// LookupProvider returns the provider registered as name.
func LookupProvider(name string) (Provider, bool) {
	registry.RLock()
	defer registry.RUnlock()
	p, ok := providers[name]
	return p, ok
}

// LookupKeyAlias returns the key alias a provider registered for a
// kseal.yaml field of keys.NAME.
func LookupKeyAlias(field string) (KeyAlias, bool) {
	registry.RLock()
	defer registry.RUnlock()
	a, ok := keyAliases[field]
	return a, ok
}

// LookupIdentityAlias returns the identity alias a provider registered
// for a kseal.yaml field of clusters.NAME.
func LookupIdentityAlias(field string) (IdentityAlias, bool) {
	registry.RLock()
	defer registry.RUnlock()
	a, ok := identityAliases[field]
	return a, ok
}

// KeyAliasFields and IdentityAliasFields list the alias fields, sorted,
// for errors.
func KeyAliasFields() []string {
	registry.RLock()
	defer registry.RUnlock()
	return sortedNames(keyAliases)
}

// IdentityAliasFields lists the cluster identity alias fields, sorted.
func IdentityAliasFields() []string {
	registry.RLock()
	defer registry.RUnlock()
	return sortedNames(identityAliases)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return SortedSet(out)
}
