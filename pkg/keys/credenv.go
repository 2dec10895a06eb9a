package keys

import (
	"slices"
	"sort"
)

// credentialEnv holds Provider.CredentialEnv by provider, upper-case.
// kseal never copies such a variable into a Secret from its own
// environment (`create --from-env-file-allow-environ`) and `exec-env
// --allow-any` never sets one from a sealed value.
var credentialEnv = map[string][]string{}

// CredentialEnv returns the prefixes provider declared, upper-case.
func CredentialEnv(provider string) []string {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Clone(credentialEnv[provider])
}

// CredentialEnvPrefixes returns the prefixes every provider declared,
// upper-case, sorted and without duplicates.
func CredentialEnvPrefixes() []string {
	registry.RLock()
	defer registry.RUnlock()
	var all []string
	for _, ps := range credentialEnv {
		all = append(all, ps...)
	}
	return SortedSet(all)
}

// IdentitySources lists the names of the registered identity sources,
// sorted: one per provider that can open objects.
func IdentitySources() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.sources))
	for n := range registry.sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
