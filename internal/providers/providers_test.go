package providers_test

import (
	"slices"
	"testing"

	_ "kseal.dev/kseal/internal/providers"
	"kseal.dev/kseal/pkg/keys"
)

// TestEveryProviderIsOneValue: the providers the binaries link register
// what docs/providers.md's table says, each in its one keys.Provider.
func TestEveryProviderIsOneValue(t *testing.T) {
	if got, want := keys.Providers(), []string{"age", "awskms", "gcpkms", "vault"}; !slices.Equal(got, want) {
		t.Fatalf("providers %q, want %q", got, want)
	}
	for _, name := range keys.Providers() {
		p, _ := keys.LookupProvider(name)
		if len(p.RecipientPrefixes) == 0 || p.ParseRecipient == nil || p.Source == nil {
			t.Errorf("%s: no recipients or no identity source", name)
		}
		if len(p.CredentialEnv) == 0 {
			t.Errorf("%s: no credential environment prefixes", name)
		}
	}
	if got, want := keys.KeyAliasFields(), []string{"age", "awsKms", "gcpKms"}; !slices.Equal(got, want) {
		t.Errorf("kseal.yaml key aliases %q, want %q", got, want)
	}
	if got, want := keys.IdentityAliasFields(), []string{"awsRole", "gcpServiceAccount"}; !slices.Equal(got, want) {
		t.Errorf("kseal.yaml cluster identity aliases %q, want %q", got, want)
	}
	var targets []string
	for _, r := range keys.Renderers() {
		targets = append(targets, r.Target)
	}
	if want := []string{"aws", "gcp", "vault", "vault-rbac"}; !slices.Equal(targets, want) {
		t.Errorf("render targets %q, want %q", targets, want)
	}
}
