package keys_test

import (
	"slices"
	"testing"

	"kseal.dev/kseal/pkg/keys"
)

func TestCredentialEnv(t *testing.T) {
	keys.Register(keys.Provider{Name: "test-provider", CredentialEnv: []string{"test_cred_", "TEST_TOKEN"}})
	if got := keys.CredentialEnv("test-provider"); !slices.Equal(got, []string{"TEST_CRED_", "TEST_TOKEN"}) {
		t.Errorf("CredentialEnv = %q, want upper-case TEST_CRED_, TEST_TOKEN", got)
	}
	all := keys.CredentialEnvPrefixes()
	if !slices.Contains(all, "TEST_CRED_") || !slices.Contains(all, "KSEAL_AGE_KEY") || !slices.IsSorted(all) {
		t.Errorf("CredentialEnvPrefixes = %q: want this test's and age's, sorted", all)
	}
	if keys.CredentialEnv("no-such-provider") != nil {
		t.Errorf("a provider that declared nothing has prefixes")
	}
}
